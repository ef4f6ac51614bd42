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
# # F1–F4: the theory of arXiv 2307.15196, checked
#
# * **F1** (E0, §4.1 warm-up): SGDM's per-step variance is smaller by (1−β)/(1+β), but the
#   endpoint variances of SGD and SGDM differ only by a bounded O(η²σ²/(1−β)).
# * **F2** (E4a, E4b, Theorem 4.5): the SGD–SGDM weak error against η, exact on a quadratic and
#   coupled Monte Carlo (95 % bars) on the non-convex NC2; α = 1 and the un-rescaled LR do not
#   converge. Third panel, Appendix B: SGDM's weak error to its α = 1 underdamped limit, the
#   distance to the coupled trajectory (Theorem B.3) and the α > 1 displacement from x₀.
# * **F3** (E5, Theorem 5.5): on ½(uv − 1)², the error of E D(t) against the closed-form slow SDE.
# * **F4** (E4c, E4d): the averaged learning rate η̄ with a step decay, and SVAG's 1/ℓ gap.

# %% tags=["parameters"]
e0_table = "results/marginal_momentum/E0/table.parquet"
e0_curve = "results/marginal_momentum/E0/curve.parquet"
e0_step_curve = "results/marginal_momentum/E0/step_curve.parquet"
e4a_table = "results/marginal_momentum/E4a/table.parquet"
e4b_table = "results/marginal_momentum/E4b/table.parquet"
e4c_table = "results/marginal_momentum/E4c/table.parquet"
e4d_table = "results/marginal_momentum/E4d/table.parquet"
e5_table = "results/marginal_momentum/E5/table.parquet"
e5_w1 = "results/marginal_momentum/E5/w1.parquet"
figure_dir = "results/marginal_momentum/figures"

# %%
import matplotlib.pyplot as plt
import numpy as np

from sgdsde.io import read_table
from sgdsde.plotting import save_figure

e0, curve, step_curve = (read_table(p) for p in (e0_table, e0_curve, e0_step_curve))
e4a, e4b, e4c, e4d = (read_table(p) for p in (e4a_table, e4b_table, e4c_table, e4d_table))
e5, w1 = read_table(e5_table), read_table(e5_w1)
Z95 = 1.96


def mc_errorbars(ax, rows, y, label):
    """|rows[y]| against η with 95 % Monte-Carlo bars from rows["se"]."""
    rows = rows.sort_values("eta")
    ax.errorbar(
        rows["eta"], rows[y].abs(), yerr=Z95 * rows["se"], marker="o", ms=3, capsize=2, label=label
    )


def loglog(ax, xlabel, ylabel, title, fontsize=7):
    ax.set(xscale="log", yscale="log", xlabel=xlabel, ylabel=ylabel, title=title)
    ax.xaxis.set_minor_formatter(plt.NullFormatter())
    ax.legend(fontsize=fontsize)


# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
ax = axes[0]
ax.plot(step_curve["k"], step_curve["sgdm_step_variance"], label="SGDM, closed form")
ax.axhline(step_curve["sgd_step_variance"].iloc[0], color="C1", label="SGD, η²σ²")
mc = e0[e0["quantity"] == "sgdm_step_variance"]
ax.errorbar(
    mc["k"],
    mc["mc"],
    yerr=Z95 * mc["se"],
    fmt="o",
    color="k",
    ms=4,
    label="SGDM, Monte Carlo (95 %)",
)
ax.set(yscale="log", xlabel="step k", ylabel="Var(x_{k+1} − x_k)", title="per-step variance")
ax.legend(fontsize=8)
ax = axes[1]
ax.plot(curve["n"], curve["sgd_variance"] - curve["sgdm_variance"], label="Var SGD − Var SGDM")
ax.axhline(curve["gap_bound"].iloc[0], color="k", ls="--", lw=1, label="2βη²σ²/(1−β)")
ax.plot(curve["n"], curve["sgd_variance"], color="0.6", lw=1, label="Var SGD = nη²σ²")
ax.set(xscale="log", yscale="log", xlabel="steps n", ylabel="variance", title="endpoint")
ax.legend(fontsize=8)
fig.suptitle("F1 · §4.1 warm-up: momentum shrinks each step's noise, not the endpoint's", y=1.02)
save_figure(fig, figure_dir, "F1")

# %%
fig, axes = plt.subplots(1, 3, figsize=(16, 4))
ax = axes[0]
theorem = e4a[e4a["reference"].isin(["eta_bar", "wrong_lr"])]
for alpha, group in theorem.groupby("alpha"):
    for reference, style in (("eta_bar", "-o"), ("wrong_lr", ":")):
        rows = group[group["reference"] == reference].sort_values("eta")
        label = f"α = {alpha:g}" if reference == "eta_bar" else None
        ax.plot(
            rows["eta"],
            rows["gap_final"],
            style,
            ms=3,
            label=label,
            color=f"C{int(alpha * 4)}",
            lw=1.2 if reference == "eta_bar" else 0.8,
        )
eta = np.sort(theorem["eta"].unique())
ax.plot(eta, 0.3 * eta / eta.max(), "k--", lw=0.8, label="∝ η")
loglog(
    ax,
    "η (form 3)",
    "|E‖x_K‖² gap|, T = 1",
    "exact, quadratic (dotted: SGD at η(1−β))",
)
ax.legend(fontsize=7, ncol=2)
ax = axes[1]
for (alpha, h), rows in e4b.groupby(["alpha", "test_function"]):
    if h != "cos":
        mc_errorbars(ax, rows, "gap", f"α = {alpha:g}, h = {h}")
loglog(ax, "η", "|E h(x_K) − E h(y_K)|", "coupled Monte Carlo, NC2 (95 % bars)")
ax = axes[2]
appendix_b = {  # (reference, α, column): label, style
    ("underdamped", 1.0, "gap_final"): ("α = 1: E‖x‖² gap to the underdamped limit", "-o"),
    ("coupled", 0.0, "gap_max"): ("α = 0: max_k ‖x̃_k − x_k‖_L²", "-s"),
    ("coupled", 0.25, "gap_max"): ("α = 0.25: max_k ‖x̃_k − x_k‖_L²", "-s"),
    ("coupled", 0.5, "gap_max"): ("α = 0.5: max_k ‖x̃_k − x_k‖_L²", "-s"),
    ("x0_zero_m0", 1.5, "gap_max"): ("α = 1.5, m₀ = 0: max_k ‖x_k − x₀‖_L²", "-^"),
    ("x0_zero_m0", 2.0, "gap_max"): ("α = 2, m₀ = 0: max_k ‖x_k − x₀‖_L²", "-^"),
}
for (reference, alpha, column), (label, style) in appendix_b.items():
    rows = e4a[(e4a["reference"] == reference) & (e4a["alpha"] == alpha)].sort_values("eta")
    ax.plot(rows["eta"], rows[column], style, ms=3, label=label)
loglog(ax, "η", "exact distance", "Appendix B (orders 1, (1−α)/2, α−1)", fontsize=6)
fig.suptitle(
    "F2 · Theorem 4.5: SGDM and SGD with the same η approximate each other "
    "(order 1−α observed, (1−α)/2 proven)",
    y=1.02,
)
save_figure(fig, figure_dir, "F2")

# %%
labels = {
    "sgd": "SGD",
    "sgdm_fixed": "SGDM β = 0.9",
    "sgdm_sqrt": "SGDM β = 1−√η",
    "sgdm_alpha1": "SGDM β = 1−η (α = 1)",
}
fig, axes = plt.subplots(1, 3, figsize=(14, 3.8))
for ax, case in zip(axes[:2], ["label", "label_schedule"], strict=True):
    rows = e5[(e5["case"] == case) & (e5["t"] == 1.0) & e5["algorithm"].isin(labels)]
    for a, g in rows.groupby("algorithm"):
        mc_errorbars(ax, g, "error", labels[a])
    schedule = ", λ_t step" if case == "label_schedule" else ""
    loglog(ax, "η", "|E D(1) − slow SDE|", f"label noise{schedule}, t = 1")
ax = axes[2]
iso = e5[e5["case"] == "isotropic"][["j", "eta"]].drop_duplicates()
for a, g in w1[(w1["t"] == 1.0) & (w1["case"] == "isotropic")].groupby("algorithm"):
    g = g.merge(iso, on="j").sort_values("eta")
    ax.plot(g["eta"], g["w1_to_sgd"], "o-", ms=3, label=f"W1(SGD, {labels[a]})")
ax.axhline(0.06, color="k", ls="--", lw=0.8, label="pass bound 0.06")
ax.set(xscale="log", xlabel="η", ylabel="Wasserstein-1 of D(1)", title="σ_I = 0.5, t = 1")
ax.xaxis.set_minor_formatter(plt.NullFormatter())
ax.legend(fontsize=7)
fig.suptitle("F3 · Theorem 5.5: SGD and SGDM follow the same slow SDE on O(1/η²) steps", y=1.02)
save_figure(fig, figure_dir, "F3")

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
ax = axes[0]
for (alpha, reference), g in e4c.groupby(["alpha", "reference"]):
    g = g.sort_values("eta")
    ax.plot(
        g["eta"],
        g["gap_final"],
        "o-" if reference == "eta_bar" else "s:",
        ms=3,
        color=f"C{int(alpha * 4)}",
        label=f"α = {alpha:g}, SGD with "
        + ("η̄_k (Eq. 8)" if reference == "eta_bar" else "η_k (naive)"),
    )
loglog(ax, "η", "|E‖x_K‖² gap|", "LR ÷10 at K/2 (exact)")
ax = axes[1]
ax.plot(e4d["ell"], e4d["gap_final"], "o-", label="exact gap")
ell = e4d["ell"].to_numpy(dtype=float)
ax.plot(ell, e4d["gap_final"].iloc[-1] * ell[-1] / ell, "k--", lw=0.8, label="∝ 1/ℓ")
loglog(ax, "SVAG ℓ", "|E‖x‖² gap|", "SVAG: LR η/ℓ, ℓK steps (exact)", fontsize=8)
fig.suptitle("F4 · the averaged learning rate, and SVAG's shrinking gap", y=1.02)
save_figure(fig, figure_dir, "F4")
