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
# # F5–F6: CPU analogues of Figures 1 and 2 of arXiv 2307.15196
#
# **These are analogues, not the paper's experiments**: scikit-learn's 8×8 digits and small
# MLPs on one CPU thread instead of ImageNet/ResNet-50 and CIFAR-10/ResNet-32 on GPUs
# (docs/marginal_momentum.md#experiments). Only the qualitative claims are compared.
#
# * **F5** (E7, Figure 1 analogue): test accuracy against the batch size for SGDM at its best η,
#   SGD at the same η (the paper's "SGD at γ/(1−β)") and SGD at its own best η; mean ± std
#   over seeds; right: the selected η.
# * **F6** (E9, Figure 2 analogue): with SVAG ℓ, the ratio R(ℓ) of SGD's to SGDM's final train
#   loss, the test-accuracy gap (± SE over seeds), and learning curves against effective epochs.

# %% tags=["parameters"]
e7_summary = "results/marginal_momentum/E7/summary.parquet"
e7_table = "results/marginal_momentum/E7/table.parquet"
e9_summary = "results/marginal_momentum/E9/summary.parquet"
e9_curves = ["results/marginal_momentum/E9_runs/ell1_eta1.6/curves.parquet"]
figure_dir = "results/marginal_momentum/figures"

# %%
import matplotlib.pyplot as plt
import matplotlib.ticker as ticker
import numpy as np
import pandas as pd
import seaborn as sns

from sgdsde.io import read_table
from sgdsde.plotting import save_figure

fig1 = read_table(e7_summary)
fig2 = read_table(e9_summary)
curves = pd.concat([read_table(p) for p in e9_curves], ignore_index=True)

# %%
series = {
    "SGDM": "SGDM at its best η",
    "SGD_at_eta_star": "SGD at the same η (= γ*/(1−β))",
    "SGD_own_best": "SGD at its own best η",
}
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
alive = fig1[fig1["n_diverged"] < fig1["n_seeds"]]
floor = 100 * (alive["test_acc_mean"] - alive["test_acc_std"]).min() - 1.5
for i, (key, label) in enumerate(series.items()):
    rows = fig1[fig1["series"] == key].sort_values("B")
    x = np.log2(rows["B"]) + (i - 1) * 0.06
    acc = 100 * rows["test_acc_mean"]
    dead = rows["n_diverged"] == rows["n_seeds"]
    axes[0].errorbar(
        x[~dead],
        acc[~dead],
        yerr=100 * rows["test_acc_std"][~dead],
        marker="os^"[i],
        capsize=3,
        label=label,
        color=f"C{i}",
    )
    for xd in x[dead]:
        axes[0].annotate(
            "diverged",
            (xd, floor + 0.3),
            color=f"C{i}",
            ha="center",
            fontsize=8,
            xytext=(xd, floor + 1.2),
            arrowprops={"arrowstyle": "->", "color": f"C{i}"},
        )
    if key != "SGD_at_eta_star":
        axes[1].plot(np.log2(rows["B"]), rows["eta"], marker="os^"[i], label=label, color=f"C{i}")
axes[0].set(
    xlabel="log₂ batch size", ylabel="test accuracy (%), mean ± std over seeds", ylim=(floor, 100)
)
axes[0].legend(fontsize=8, loc="lower left")
axes[1].set(xlabel="log₂ batch size", ylabel="selected η (form 3)", yscale="log")
axes[1].set_yticks(sorted(fig1["eta"].unique()))
axes[1].yaxis.set_major_formatter(ticker.FormatStrFormatter("%g"))
axes[1].yaxis.set_minor_formatter(ticker.NullFormatter())
axes[1].legend(fontsize=8)
fig.suptitle("F5 · CPU analogue of Figure 1 (digits MLP): SGD vs SGDM across batch sizes", y=1.02)
save_figure(fig, figure_dir, "F5")

# %%
fig, axes = plt.subplots(1, 3, figsize=(15, 3.8), gridspec_kw={"wspace": 0.3})
for eta, rows in fig2.groupby("eta"):
    rows = rows.sort_values("ell")
    shown = np.minimum(rows["R"], 1e3)
    axes[0].plot(rows["ell"], shown, "o-", label=f"η = {eta:g}")
    diverged = rows[rows["sgd_diverged"] > 0]
    axes[0].scatter(
        diverged["ell"], np.minimum(diverged["R"], 1e3), marker="x", s=80, color="k", zorder=3
    )
    ok = rows[rows["sgd_diverged"] == 0]  # a diverged SGD run has no accuracy gap to show
    axes[1].errorbar(
        ok["ell"],
        ok["test_acc_gap_points"],
        yerr=1.96 * ok["test_acc_gap_se"],
        marker="o",
        capsize=3,
        label=f"η = {eta:g}",
    )
panels = [
    (1, "log", "R = train loss SGD / SGDM", "× = SGD diverged (R = ∞, drawn at 10³)"),
    (0, "linear", "test acc. SGDM − SGD (points)", "95 % bars; runs where SGD did not diverge"),
]
for ax, (level, yscale, ylabel, title) in zip(axes[:2], panels, strict=True):
    ax.axhline(level, color="0.5", lw=0.8)
    ax.set(xscale="log", yscale=yscale, xlabel="SVAG ℓ", ylabel=ylabel, title=title)
    ax.legend(fontsize=8)
ells = sorted(fig2["ell"].unique())
for ax in axes[:2]:
    ax.set_xticks(ells, [f"{e:g}" for e in ells])
    ax.xaxis.set_minor_formatter(ticker.NullFormatter())
eta0 = sorted(curves["eta"].unique())[0]
shown = curves[
    (curves["eta"] == eta0) & curves["ell"].isin([curves["ell"].min(), curves["ell"].max()])
]
shown = shown.assign(run=shown["optimizer"] + ", ℓ = " + shown["ell"].map("{:g}".format))
sns.lineplot(
    data=shown, x="effective_epoch", y="train_loss", hue="run", ax=axes[2], errorbar=("ci", 95)
)
axes[2].set(
    yscale="log",
    xlabel="effective epochs",
    ylabel="train loss",
    title=f"η = {eta0:g} (band: 95 % over seeds)",
)
axes[2].legend(fontsize=7)
fig.suptitle(
    "F6 · CPU analogue of Figure 2 (digits MLP, SVAG): the SGD–SGDM gap closes as ℓ grows", y=1.02
)
save_figure(fig, figure_dir, "F6")
