# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # F1–F4: exact weak errors of the ODE, SDE1 and SDE2 against the step size
#
# arXiv 2504.13992 (momentum approximations), experiment **E1** (docs/momentum_approx.md#e1)
# docs/momentum_approx.md. Errors are `E g(x_N) − E g(X_T)` computed **exactly** from the means and
# covariances of the linear-Gaussian models (docs/momentum_approx.md#exact-moments), so there is no
# Monte-Carlo error to show.
#
# * **F1**, CFG-B (Regime B, `η = h²U`, `ζ = 1 − hV`): ODE and SDE1 are first order, SDE2
#   second order.
# * **F2**, CFG-A (fixed momentum `ζ = 0.9`): SDE2 is second order only with the shifted initial
#   condition; without it the rest start's initial layer leaves an O(h) error (negative control).
# * **F3**, CFG-B: `e(h)/h` of ODE and SDE1 converges to the leading coefficient φ̄ (dashed),
#   computed independently by quadrature (docs/momentum_approx.md#phibar).
# * **F4**, CFG-B: the sup-norm error over the grid (Theorem 7's norm) and the one-step (local)
#   error, whose orders are one higher: 2 for ODE/SDE1, 3 for SDE2.

# %% tags=["parameters"]
e1_tables = [
    "results/momentum_approx/E1/A/table.parquet",
    "results/momentum_approx/E1/B/table.parquet",
]
e1_metrics = [
    "results/momentum_approx/E1/A/metrics.json",
    "results/momentum_approx/E1/B/metrics.json",
]
figure_dir = "results/momentum_approx/figures"

# %%
import json

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from sgdsde.io import read_table
from sgdsde.plotting import APPROXIMATION_LABELS, save_figure, weak_error_panels

table = pd.concat([read_table(path) for path in e1_tables], ignore_index=True)
table.groupby(["config", "approximation"]).size().rename("rows").to_frame()

# %%
fig = weak_error_panels(
    table[table["config"] == "B"],
    title="F1 · CFG-B: |E g(x_N) − E g(X_T)| against h (exact moments)",
)
save_figure(fig, figure_dir, "F1")

# %%
fig = weak_error_panels(
    table[table["config"] == "A"],
    title="F2 · CFG-A (ζ = 0.9): SDE2 with and without the initial shift (exact moments)",
)
save_figure(fig, figure_dir, "F2")

# %% [markdown]
# Errors at the smallest step size of each configuration (the slopes are in the claims ledger,
# `results/claims.csv`, ids `momentum_approx.E1.*`):

# %%
smallest = table[table["h"] == table.groupby("config")["h"].transform("min")]
smallest.pivot_table(index=["config", "approximation"], columns="test_function", values="error")

# %%
metrics = {}
for path in e1_metrics:
    with open(path) as f:
        metrics |= json.load(f)

cfg_b = table[(table["config"] == "B") & table["approximation"].isin(["ode", "sde1"])]
cfg_b = cfg_b[cfg_b["test_function"].isin(["g1", "g3"])].assign(
    error_over_h=lambda t: t["error"] / t["h"],
    model=lambda t: t["approximation"].map(APPROXIMATION_LABELS),
)
grid = sns.relplot(
    data=cfg_b,
    x="h",
    y="error_over_h",
    hue="model",
    col="test_function",
    kind="line",
    marker="o",
    height=3.0,
    aspect=1.2,
    facet_kws={"sharey": False},
)
for g_name, ax in grid.axes_dict.items():
    for a, color in zip(["ode", "sde1"], sns.color_palette()[:2], strict=True):
        ax.axhline(metrics[f"B/{a}/{g_name}/phibar"], ls="--", color=color, lw=1)
    ax.set(xscale="log", xlabel="step size h", ylabel="e(h)/h", title=f"{g_name} (dashed: φ̄)")
grid.figure.suptitle("F3 · CFG-B: e(h)/h converges to the quadrature value φ̄", y=1.03)
save_figure(grid.figure, figure_dir, "F3")

# %%
fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
for ax, column, title in zip(
    axes,
    ["sup_error", "local_error"],
    ["sup-norm error over the grid", "one-step (local) error"],
    strict=True,
):
    data = table[(table["config"] == "B") & (table["test_function"] == "g1")]
    sns.lineplot(
        data=data.assign(
            abs_error=data[column].abs(), model=data["approximation"].map(APPROXIMATION_LABELS)
        ),
        x="h",
        y="abs_error",
        hue="model",
        marker="o",
        ax=ax,
    )
    ax.set(xscale="log", yscale="log", xlabel="step size h", ylabel="|error| (g1)", title=title)
fig.suptitle("F4 · CFG-B: sup-norm orders 1, 1, 2; local orders 2, 2, 3", y=1.02)
save_figure(fig, figure_dir, "F4")
