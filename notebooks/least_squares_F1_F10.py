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
# # F1–F10: SDE models of least-squares SGD (arXiv 2407.02322)
#
# Every figure loads the experiments' tables only. Monte-Carlo points carry **95 % intervals
# (±1.96 SE)**; exact references (moment equations, Pearson IV / Student-t laws, eigh of the
# risk generator) are lines.

# %% tags=["parameters"]
results = "results/least_squares"
figure_dir = "results/least_squares/figures"

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from sgdsde.io import read_json, read_table
from sgdsde.plotting import save_figure

sns.set_theme(style="whitegrid", context="notebook")
R = Path(results)


def table(exp, name="table"):
    return read_table(R / exp / f"{name}.parquet")


def metrics(exp):
    return read_json(R / exp / "metrics.json")


# %% F1: noiseless training SDE
e1 = table("E1")
fig, axes = plt.subplots(1, 2, figsize=(12, 4), layout="constrained")
for ax, (name, rows) in zip(axes, e1[e1["variant"] == "V0"].groupby("dataset"), strict=False):
    for (frac, g), c in zip(rows.groupby("gamma_fraction"), sns.color_palette(), strict=False):
        ok = g[g["reliable"]]
        ax.errorbar(
            ok["t"],
            ok["mc_sq"],
            yerr=1.96 * ok["mc_sq_se"],
            fmt="o",
            ms=3,
            c=c,
            label=f"MC, γ = {frac}·γ_max",
        )
        ax.plot(g["t"], g["exact_sq"], c=c, lw=1.5, label="exact tr M_t (SDE)")
        ax.plot(g["t"], g["em_sq"], c=c, ls=":", lw=1, label="exact, Euler–Maruyama")
    ax.set(yscale="log", xlabel="t (SDE time)", ylabel="E‖θ_t − θ*‖²", title=f"{name}, V0")
    ax.legend(fontsize=7)
save_figure(fig, figure_dir, "F1")

# %% F2: a.s. vs L² behaviour of the isotropic GBM
e2 = table("E2")
fig, axes = plt.subplots(1, 2, figsize=(12, 4), layout="constrained", sharey=True)
for ax, (d, rows) in zip(axes, e2[e2["variant"] == "V0"].groupby("d"), strict=False):
    for (gl, g), c in zip(rows.groupby("gamma_lambda"), sns.color_palette(), strict=False):
        ax.fill_between(g["t"], g["q05"], g["q95"], color=c, alpha=0.2)
        ax.plot(g["t"], g["median"], "o-", c=c, label=f"γλ = {gl}: median")
        ax.axhline(g["q"].iloc[0], c=c, ls="--", lw=1)
    ax.axhline(0, c="k", lw=0.8)
    ax.set(xscale="log", xlabel="t·λ", ylabel="t⁻¹ log‖η_t‖", title=f"d = {d} (dashed: exact q)")
    ax.legend(fontsize=7)
save_figure(fig, figure_dir, "F2")

# %% F3: Wasserstein convergence
e3, e4 = table("E3"), table("E4")
cap = int(metrics("E4")["iso/emd_cap"])
fig, axes = plt.subplots(1, 2, figsize=(12, 4), layout="constrained")
ax = axes[0]
rows = e3[(e3["variant"] == "V0") & (e3["start"] == "plus")]
for (alpha, g), c in zip(rows.groupby("alpha"), sns.color_palette(), strict=False):
    ax.plot(g["t"], g["w2"], "o-", ms=3, c=c, label=f"W₂, α = {alpha}")
    ax.plot(g["t"], g["coupling_bound"], c=c, ls="--", lw=1)
    ax.plot(g["t"], g["gelbrich"], c=c, ls=":", lw=1)
    ax.axhline(g["floor"].iloc[0], c=c, lw=0.8, alpha=0.6)
ax.set(
    yscale="log",
    xlabel="t",
    ylabel="W₂(ρ_t, ρ*)",
    title="D1, V0, θ_0 = θ̂ + 3s (dashed: coupling, dotted: Gelbrich, flat: MC floor)",
)
ax.legend(fontsize=7)
ax = axes[1]
iso = e4[e4["part"] == "iso"]
for ((v, gl), g), c in zip(
    iso.groupby(["variant", "gamma_lambda"]), sns.color_palette(), strict=False
):
    ax.plot(g["t"], g["w2_emd"], "o-", ms=3, c=c, label=f"{v}, γλ = {gl}: W₂ (POT)")
    ax.plot(g["t"], g["sw2"], "s:", ms=3, c=c, label="sliced W₂")
    ax.plot(g["t"], g["coupling_bound"], c=c, ls="--", lw=1)
    ax.axhline(g["floor"].iloc[0], c=c, lw=0.8, alpha=0.6)
ax.set(
    yscale="log",
    xlabel="t",
    ylabel="distance to ρ* (Student t)",
    title=f"P-iso(3), σ = 1; exact OT capped at N = {cap} samples",
)
ax.legend(fontsize=7)
save_figure(fig, figure_dir, "F3")

# %% F4: tails
surv = table("E6", "survival")
fig, axes = plt.subplots(1, 2, figsize=(12, 4), layout="constrained", sharey=True)
for ax, (v, rows) in zip(axes, surv.groupby("variant"), strict=False):
    for (alpha, g), c in zip(rows.groupby("alpha"), sns.color_palette(), strict=False):
        ok = g["sde"] > 0
        ax.plot(g["r"][ok], g["sde"][ok], "o", ms=3, c=c, label=f"SDE, α = {alpha}")
        ax.plot(g["r"], g["exact"], c=c, lw=1.2)
    ax.set(xscale="log", yscale="log", xlabel="r", ylabel="P(|θ − θ̂| > r)", title=f"D1, {v}")
    ax.legend(fontsize=7)
save_figure(fig, figure_dir, "F4")

# %% F5: α(γ)
curve, hill = table("E6", "alpha_curve"), table("E6")
cases = curve.groupby("case")
fig, axes = plt.subplots(1, len(cases), figsize=(6 * len(cases), 4), layout="constrained")
for ax, (case, rows) in zip(axes, cases, strict=False):
    eigen = rows["alpha_low"].notna().any()
    for (v, g), c in zip(rows.groupby("variant"), sns.color_palette(), strict=False):
        label = f"α from the angular eigenproblem, {v}" if eigen else f"exact α, {v}"
        ax.plot(g["gamma"], g["alpha"], c=c, label=label)
        if eigen:
            ax.fill_between(g["gamma"], g["alpha_low"], g["alpha_up"], color=c, alpha=0.15)
            ax.plot(g["gamma"], g["alpha_low"], c=c, ls=":", lw=1, label="bracket α_low, α_up")
            ax.plot(g["gamma"], g["alpha_up"], c=c, ls=":", lw=1)
    g = rows[rows["variant"] == rows["variant"].iloc[0]]
    finite = np.isfinite(g["kesten"])
    if finite.any():
        ax.plot(g["gamma"][finite], g["kesten"][finite], "k^--", ms=4, label="SGD Kesten index")
    h = (
        hill[(hill["case"] == "D1") & (hill["k"] == hill["k"].max())]
        if case == "D1"
        else hill.iloc[:0]
    )
    for (v, gh), c in zip(h.groupby("variant"), sns.color_palette(), strict=False):
        ax.errorbar(
            gh["gamma"],
            gh["hill_sde"],
            yerr=[gh["hill_sde"] - gh["hill_sde_lo"], gh["hill_sde_hi"] - gh["hill_sde"]],
            fmt="o",
            c=c,
            capsize=3,
            label=f"Hill (SDE), {v}, k = {gh['k'].iloc[0]}",
        )
        ax.plot(
            gh["gamma"],
            gh["hill_exact"],
            "D",
            mfc="none",
            c=c,
            label="Hill on exact samples (same N, k)",
        )
    ax.set(xscale="log", yscale="log", xlabel="γ", ylabel="tail index", title=case)
    ax.legend(fontsize=7)
save_figure(fig, figure_dir, "F5")

# %% F6: finite-time moments
mom = table("E6", "moments")
fig, ax = plt.subplots(figsize=(6.5, 4), layout="constrained")
for p, g in mom.groupby("p"):
    ax.plot(g["t"], np.abs(g["m_p"]), label=f"|m_{p}(t)|")
ax.set(yscale="log", xlabel="t", ylabel="|E(θ_t − θ̂)^p|", title="D1, V0, α = 3.3: exact moment ODE")
ax.legend(fontsize=7)
save_figure(fig, figure_dir, "F6")

# %% F7: invariant law against γ
e5, mc5 = table("E5"), table("E5", "mc")
fig, ax = plt.subplots(figsize=(6.5, 4), layout="constrained")
for (v, g), c in zip(e5.groupby("variant"), sns.color_palette(), strict=False):
    ax.plot(g["gamma"], g["trM"], "-", c=c, label=f"exact tr M_∞, {v}")
    ax.plot(g["gamma"], g["first_order_trM"], ":", c=c, label="first order (γ/2)tr(H⁻¹S_0)")
    m = mc5[mc5["variant"] == v]
    ax.errorbar(
        m["gamma"],
        m["mc_trM"],
        yerr=1.96 * m["mc_trM_se"],
        fmt="o",
        c=c,
        capsize=3,
        label="MC time average",
    )
    ax.axvline(metrics("E5")[f"{v}/gamma_2"], c=c, ls="--", lw=1)
ax.set(yscale="log", xlabel="γ", ylabel="E_ρ*‖θ − θ̂‖²", title="D5 (dashed: γ_2)")
ax.legend(fontsize=7)
save_figure(fig, figure_dir, "F7")

# %% F8: variance reduction
e7 = table("E7")
fig, ax = plt.subplots(figsize=(6.5, 4), layout="constrained")
simulated = e7["method"] == "constant (MC)"
for method, g in e7[~simulated].groupby("method"):
    ax.plot(g["t"], g["excess"], label=f"{method} (exact)")
g = e7[simulated]
ax.errorbar(
    g["t"], g["excess"], yerr=1.96 * g["excess_se"], fmt="o", ms=3, label="constant γ, MC (V0)"
)
ax.set(xscale="log", yscale="log", xlabel="t", ylabel="E L̂(θ) − L̂*", title="D5")
ax.legend(fontsize=7)
save_figure(fig, figure_dir, "F8")

# %% F9: non-parametric rates
e8 = table("E8")
fig, axes = plt.subplots(
    1,
    e8["beta"].nunique(),
    figsize=(6 * e8["beta"].nunique(), 4),
    layout="constrained",
    squeeze=False,
)
for ax, (beta, rows) in zip(axes[0], e8[e8["d"] == e8["d"].min()].groupby("beta"), strict=False):
    for (delta, g), c in zip(rows.groupby("delta"), sns.color_palette(), strict=False):
        ax.plot(g["t"], g["risk"], c=c, label=f"δ = {delta}")
        ref = g["risk"].iloc[30] * (g["t"] / g["t"].iloc[30]) ** g["predicted"].iloc[0]
        ax.plot(g["t"], ref, c=c, ls="--", lw=1)
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="t",
        ylabel="E L(θ_t) (noiseless)",
        title=f"β = {beta}, d = {rows['d'].iloc[0]}",
    )
    ax.legend(fontsize=7)
save_figure(fig, figure_dir, "F9")

# %% F10: stationary laws, SGD vs SDE
hist = table("E9", "histogram")
fig, ax = plt.subplots(figsize=(6.5, 4), layout="constrained")
bins = np.linspace(hist["eta"].quantile(0.0005), hist["eta"].quantile(0.9995), 80)
for law, g in hist.groupby("law"):
    ax.hist(g["eta"], bins=bins, density=True, histtype="step", lw=1.5, label=law)
ax.set(yscale="log", xlabel="θ − θ̂", ylabel="density", title="D1 at α_SDE(γ) = 3.3")
ax.legend(fontsize=8)
save_figure(fig, figure_dir, "F10")
