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
# # A weak-error study of a user's own optimiser (docs/custom.md)
#
# Errors `E g(x_N) − E g(X_T)` of each candidate model against the optimiser: exact Gaussian
# moments when every map is linear-Gaussian, otherwise coupled Monte Carlo with a Talay–Tubaro
# reference, whose **error bars are 95 % intervals (±1.96 SE)**. Each line is labelled with its
# fitted order, its interval (95 % CI, or the Richardson span of exact local orders) and the
# status of the order the model claims (pass, fail, unresolved); the title names the method.

# %% tags=["parameters"]
study = "sgd_modified_equation"
table = "results/custom/sgd_modified_equation/table.parquet"
fits = "results/custom/sgd_modified_equation/fits.parquet"
figure_dir = "results/custom/figures"

# %%
from sgdsde.io import read_table
from sgdsde.plotting import custom_study_figure, save_figure

errors, orders = read_table(table), read_table(fits)
fig = custom_study_figure(errors, orders)
methods = {"exact": "exact moments", "monte_carlo": "coupled Monte Carlo"}
fig.suptitle(f"{study}: {methods[errors['method'].iloc[0]]}")
save_figure(fig, figure_dir, study)

# %%
print(orders.to_string(index=False))
