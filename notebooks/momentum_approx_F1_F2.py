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
# # F1 and F2: weak error of the ODE, SDE1 and SDE2 against the step size
#
# arXiv 2504.13992 (momentum approximations), experiment **E1** of the spec
# `papers/2504.13992.md`. Errors are `E g(x_N) − E g(X_T)` computed **exactly** from the means and
# covariances of the linear-Gaussian models (spec §5), so there is no Monte-Carlo error to show.
#
# * **F1**, CFG-B (Regime B, `η = h²U`, `ζ = 1 − hV`): ODE and SDE1 are first order, SDE2
#   second order.
# * **F2**, CFG-A (fixed momentum `ζ = 0.9`): SDE2 is second order only with the shifted initial
#   condition; without it the rest start's initial layer leaves an O(h) error (negative control).

# %% tags=["parameters"]
e1_tables = [
    "results/momentum_approx/E1/A/table.parquet",
    "results/momentum_approx/E1/B/table.parquet",
]
figure_dir = "results/momentum_approx/figures"

# %%
import pandas as pd

from sgdsde.plotting import save_figure, weak_error_panels

table = pd.concat([pd.read_parquet(path) for path in e1_tables], ignore_index=True)
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
