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
# # F5 and F6: coupled Monte Carlo on non-quadratic objectives
#
# arXiv 2504.13992, experiments **E2** (double well, noise σ = 2) and **E3** (`F = x⁴/4`).
# Errors are `E g(x_N) − E g(X_T)`, estimated with the optimiser's noise coupled to the SDE's
# Brownian path and a Talay–Tubaro reference; **error bars are 95 % intervals (±1.96 SE)**.
#
# * **F5**: ODE vs SDE1 vs SDE2 on Var x_T and E tanh(5 x_T); the ODE misses the fluctuations.
#   Right: histograms of x_T at the smallest h (the ODE is a point mass, dashed line).
# * **F6**: x⁴ stress test: error constants e/h (SDE1) and e/h² (SDE2) against x_0, and the
#   fraction of diverged paths against (h, x_0) with the threshold h_crit = 2/(|x_0|√3).

# %% tags=["parameters"]
e2_table = "results/momentum_approx/E2/table.parquet"
e2_histogram = "results/momentum_approx/E2/histogram.parquet"
e3_table = "results/momentum_approx/E3/table.parquet"
e3_divergence = "results/momentum_approx/E3/divergence.parquet"
figure_dir = "results/momentum_approx/figures"

# %%
import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from sgdsde.io import read_table
from sgdsde.plotting import APPROXIMATION_LABELS, save_figure

e2, histogram = read_table(e2_table), read_table(e2_histogram)
e3, divergence = read_table(e3_table), read_table(e3_divergence)

# %%
fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), layout="constrained")
for ax, stat, label in zip(
    axes[:2], ["variance", "which_well"], ["Var x_T", "E tanh(5 x_T)"], strict=True
):
    for model in ["ode", "sde1", "sde2"]:
        rows = e2[(e2["statistic"] == stat) & (e2["model"] == model)]
        ax.errorbar(
            rows["h"],
            rows["estimate"].abs(),
            yerr=1.96 * rows["se"],
            marker="o",
            capsize=3,
            label=APPROXIMATION_LABELS[model],
        )
    ax.set_xscale("log", base=2)
    ax.set(yscale="log", xlabel="step size h", ylabel=f"|error of {label}|")
    ax.legend(fontsize=8)
for model, style in [("discrete", "-"), ("sde1", "--"), ("sde2", ":")]:
    rows = histogram[histogram["model"] == model]
    axes[2].step(
        rows["left"],
        rows["density"],
        where="post",
        ls=style,
        label="heavy ball" if model == "discrete" else APPROXIMATION_LABELS[model],
    )
axes[2].set(xlabel="x_T (smallest h)", ylabel="density")
axes[2].legend(fontsize=8)
fig.suptitle("F5 · double well, σ = 2 (coupled Monte Carlo, 95 % intervals)", y=1.02)
save_figure(fig, figure_dir, "F5")

# %%
smallest = e3[e3["h"] == e3.groupby(["x0", "approximation"])["h"].transform("min")]
smallest = smallest[smallest["approximation"].isin(["sde1", "sde2"])].copy()
order = np.where(smallest["approximation"] == "sde2", 2, 1)
smallest["constant"] = smallest["estimate"] / smallest["h"] ** order
smallest["constant_se"] = smallest["se"] / smallest["h"] ** order
fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
for a, label in [("sde1", "SDE1: e/h"), ("sde2", "SDE2: e/h²")]:
    rows = smallest[smallest["approximation"] == a]
    axes[0].errorbar(
        rows["x0"],
        rows["constant"],
        yerr=1.96 * rows["constant_se"],
        marker="o",
        capsize=3,
        label=label,
    )
axes[0].axhline(0, color="0.7", lw=0.8)
axes[0].set_xscale("log", base=2)
axes[0].set_xticks(
    sorted(smallest["x0"].unique()), [f"{x:g}" for x in sorted(smallest["x0"].unique())]
)
axes[0].set(xlabel="x_0", ylabel="error constant at the smallest h")
axes[0].legend(fontsize=8)
heat = divergence.pivot_table(index="x0", columns="h", values="fraction")
sns.heatmap(
    heat,
    annot=True,
    fmt=".2f",
    cmap="rocket_r",
    vmin=0,
    vmax=1,
    ax=axes[1],
    xticklabels=[f"{h:.3g}" for h in heat.columns],
    cbar_kws={"label": "diverged"},
)
crit = divergence.groupby("x0")["h_crit"].first()
axes[1].set(
    xlabel="h",
    ylabel="x_0",
    title="h_crit: " + ", ".join(f"{x:g}: {h:.3g}" for x, h in crit.items()),
)
axes[1].title.set_fontsize(8)
fig.suptitle("F6 · x⁴ stress test: constants grow with x_0; divergence above h_crit", y=1.02)
save_figure(fig, figure_dir, "F6")
