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
# # F7 and F8: acceleration in the convex case, and the lift identity
#
# arXiv 2504.13992, experiments **E4** and **E0** (deterministic; no error bars needed).
#
# * **F7**: `f(x_k) − f*` for gradient descent, heavy ball with `ζ_k = (k−1)/(k+2)`, Nesterov and
#   the Su–Boyd–Candès ODE (closed form, `t = k√s`) on a log-spaced spectrum, with the bound
#   `2‖x_0‖²/(s(k+1)²)`. Right: with gradient noise σ the gap stops decreasing.
# * **F8**: heavy ball against its 2d lift (SGD form), its velocity form and the x-block objective
#   j♮ (all at rounding level), and against the seed's "modified objective" (O(1) discrepancy).

# %% tags=["parameters"]
e4_table = "results/momentum_approx/E4/table.parquet"
e4_noisy = "results/momentum_approx/E4/noisy.parquet"
e0_table = "results/momentum_approx/E0/table.parquet"
figure_dir = "results/momentum_approx/figures"

# %%
import matplotlib.pyplot as plt

from sgdsde.io import read_table
from sgdsde.plotting import save_figure

e4, noisy, e0 = read_table(e4_table), read_table(e4_noisy), read_table(e0_table)

# %%
labels = {"gd": "gradient descent", "hb": "heavy ball", "nag": "Nesterov", "ode": "ODE (t = k√s)"}
fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
for method, label in labels.items():
    rows = e4[e4["method"] == method]
    axes[0].plot(rows["t"], rows["gap"], label=label, lw=1.2)
bound = e4[e4["method"] == "bound"]
axes[0].plot(bound["t"], bound["gap"], "k--", lw=1, label="2‖x₀‖²/(s(k+1)²)")
axes[0].set(xscale="log", yscale="log", xlabel="k", ylabel="f(x_k) − f*", ylim=(1e-6, 1e3))
axes[0].legend(fontsize=8)
for (method, sigma), rows in noisy.groupby(["method", "sigma"]):
    axes[1].plot(rows["k"], rows["gap"], label=f"{labels[method]}, σ = {sigma:g}")
axes[1].set(xscale="log", yscale="log", xlabel="k", ylabel="mean f(x_k) − f*")
axes[1].legend(fontsize=8)
fig.suptitle(
    "F7 · O(1/k²) with momentum, O(1/k) without; a noise floor with gradient noise", y=1.02
)
save_figure(fig, figure_dir, "F7")

# %%
fig, ax = plt.subplots(figsize=(6.5, 3.6))
series = {
    "seed_objective_discrepancy": "seed's modified objective j",
    "lift_sgd_form_error": "2d lift, X + ηJ(X)",
    "velocity_form_error": "velocity form (x, p)",
    "natural_objective_error": "x-block objective j♮",
}
for column, label in series.items():
    ax.plot(e0["step"], e0[column].clip(lower=1e-18), label=label, lw=1)
ax.set(
    yscale="log", xlabel="step n", ylabel="max deviation from heavy ball\n(exact 0 drawn at 1e-18)"
)

ax.legend(fontsize=8)
fig.suptitle("F8 · the lift is exact, the seed's objective is not", y=1.02)
save_figure(fig, figure_dir, "F8")
