"""Coupled Monte-Carlo experiments of arXiv 2504.13992 (docs/momentum_approx.md#e1c, E2, E3; E5's
moments).

Every estimate carries its standard error; a rate is fitted only over the step sizes where
``SE ≤ |error|/4`` (:func:`sgdsde.stats.resolved_slope`). Paths that diverge are counted and
left out of every average (E3); anywhere else a divergence is an error naming the step size.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from sgdsde.checks import DivergenceError
from sgdsde.coupling import MonteCarlo, coupled_simulation
from sgdsde.experiments import ExperimentResult
from sgdsde.experiments.momentum_approx.common import (
    PAPER,
    cross_checked_model,
    heavy_ball,
    step_ladder,
)
from sgdsde.moments import continuous_moments, discrete_moments
from sgdsde.observables import LinearProjection, SmoothSign, SquaredNorm, canonical_test_functions
from sgdsde.oracles import GaussianOracle
from sgdsde.problems import DoubleWell, Quartic
from sgdsde.sde import APPROXIMATIONS, coupled_models
from sgdsde.stats import (
    Estimate,
    fit_loglog_slope,
    mean_with_se,
    resolved_slope,
    variance_combination,
    variance_with_se,
    weak_error,
)

log = logging.getLogger(__name__)


def _simulate(model, h, T, names, observables, mc_cfg, seed, experiment, k, tolerate=False):
    optimiser, sdes = coupled_models(model, h, names)
    sample = coupled_simulation(
        optimiser, sdes, T, observables, MonteCarlo(**mc_cfg), seed, PAPER, experiment, k
    )
    log.info(
        "%s: k=%d, h=%.4g, %d paths, %d diverged",
        experiment,
        k,
        h,
        len(sample.diverged),
        sample.n_diverged,
    )
    if sample.n_diverged and not tolerate:
        raise DivergenceError(
            f"{PAPER}.{experiment}: {sample.n_diverged} of "
            f"{len(sample.diverged)} paths diverged at h={h}"
        )
    return sample


def _coupled_error(sample, a: str, g: str) -> Estimate:
    """``E g(x_N) − E g(X_T)`` over the paths that did not diverge (Talay–Tubaro reference)."""
    keep = ~sample.diverged
    return weak_error(sample.discrete[g][keep], sample.reference(a, g)[keep], coupled=True)


def _estimates(group: pd.DataFrame) -> list[Estimate]:
    return [Estimate(m, s) for m, s in zip(group["estimate"], group["se"], strict=True)]


def _slope_or_none(h, group: pd.DataFrame):
    """The resolved slope, or None (JSON null: the ledger then reports the claim unmeasured)."""
    fit = resolved_slope(h, _estimates(group))
    return (fit.slope, [fit.ci_low, fit.ci_high]) if fit else (None, None)


def _row(**fields) -> dict:
    estimate = fields.pop("estimate")
    return {**fields, "estimate": estimate.mean, "se": estimate.se}


# -------------------------------------------------------------------------------------- E1c
def run_E1c(cfg: dict, seed: int) -> ExperimentResult:
    """Monte-Carlo cross-check of E1 (CFG-B): coupled estimates against the exact errors."""
    c = cfg["E1c"]
    model, T = cross_checked_model(cfg, "E1c")
    gs = canonical_test_functions(model.dim)
    rows = []
    for k, h in zip(*step_ladder(T, c["k"]), strict=True):
        sample = _simulate(model, h, T, c["approximations"], gs, c["mc"], seed, "E1c", int(k))
        disc = discrete_moments(model, h, T)
        for a in c["approximations"]:
            cont = continuous_moments(model, h, T, APPROXIMATIONS[a])
            for g_name, g in gs.items():
                exact = disc.expectation(g, model.dim)[-1] - cont.expectation(g, model.dim)[-1]
                est = _coupled_error(sample, a, g_name)
                rows.append(
                    _row(
                        approximation=a,
                        test_function=g_name,
                        k=int(k),
                        h=h,
                        exact=exact,
                        estimate=est,
                    )
                )
    table = pd.DataFrame(rows)
    table["z"] = (table["estimate"] - table["exact"]) / table["se"]
    allowed = 3 * table["se"] + 0.01 * table["exact"].abs()
    table["normalised_deviation"] = (table["estimate"] - table["exact"]).abs() / allowed
    metrics = {}
    for (a, g_name), group in table.groupby(["approximation", "test_function"]):
        metrics[f"{a}/{g_name}/normalised_deviation"] = group["normalised_deviation"].tolist()
        metrics[f"{a}/{g_name}/z"] = group["z"].tolist()
        metrics[f"{a}/{g_name}/se_slope"] = fit_loglog_slope(group["h"], group["se"]).slope
    return ExperimentResult({"table": table}, metrics)


# --------------------------------------------------------------------------------------- E2
def _scalar_model(problem, c: dict):
    oracle = GaussianOracle(problem, np.array([[c["sigma"] ** 2]]))
    return heavy_ball(oracle, {"regime": "B", "U": c["U"], "V": c["V"]}, c["x0"], c["p0"])


def _double_well_statistics(sample, a: str | None) -> dict[str, Estimate]:
    """Discrete statistics (a = None) or their errors against approximation a."""
    if a is None:
        return {
            "mean_square": mean_with_se(sample.discrete["x2"]),
            "variance": variance_with_se(sample.discrete["x"]),
            "which_well": mean_with_se(sample.discrete["tanh"]),
        }
    x, fine, coarse = sample.discrete["x"], sample.fine[a]["x"], sample.coarse[a]["x"]
    return {
        "mean_square": _coupled_error(sample, a, "x2"),
        "variance": variance_combination([x, fine, coarse], [1.0, -2.0, 1.0]),
        "which_well": _coupled_error(sample, a, "tanh"),
    }


def _histograms(sample, approximations, bins) -> pd.DataFrame:
    edges = np.linspace(-2.5, 2.5, bins + 1)
    parts = {"discrete": sample.discrete["x"]} | {a: sample.fine[a]["x"] for a in approximations}
    rows = []
    for model, values in parts.items():
        density, _ = np.histogram(values, bins=edges, density=True)
        rows += [
            {"model": model, "left": lo, "right": hi, "density": p}
            for lo, hi, p in zip(edges[:-1], edges[1:], density, strict=True)
        ]
    return pd.DataFrame(rows)


def _moment_bound(rows: list[dict], key: str, sample, **fields) -> None:
    """E5: ``E max_n |x_n|⁴`` of the optimiser, with its SE."""
    rows.append(
        _row(**fields, statistic=key, estimate=mean_with_se(sample.max_norm[~sample.diverged] ** 4))
    )


def _spread(values: pd.Series) -> float:
    """``(max − min)/mean``: E5's "varies by less than 10 %"."""
    return float((values.max() - values.min()) / values.mean())


def run_E2(cfg: dict, seed: int) -> ExperimentResult:
    """Double well with large noise: ODE vs SDE1 vs SDE2 on E x², Var x and E tanh(5x)."""
    c = cfg["E2"]
    model, T = _scalar_model(DoubleWell(1), c), c["T"]
    observables = {"x": LinearProjection((1.0,)), "x2": SquaredNorm(1), "tanh": SmoothSign((1.0,))}
    approximations = ["ode", "sde1", "sde2"]
    rows, moments, ks = [], [], step_ladder(T, c["k"])
    for k, h in zip(*ks, strict=True):
        sample = _simulate(model, h, T, approximations, observables, c["mc"], seed, "E2", int(k))
        for a in (None, *approximations):
            for stat, est in _double_well_statistics(sample, a).items():
                rows.append(
                    _row(model=a or "discrete", statistic=stat, k=int(k), h=h, estimate=est)
                )
        _moment_bound(moments, "max_x4", sample, k=int(k), h=h)
    histogram = _histograms(sample, approximations, c["histogram_bins"])  # at the smallest h
    table = pd.DataFrame(rows)
    metrics = {}
    errors = table[table["model"] != "discrete"].set_index(["statistic", "model", "k"]).sort_index()
    sde2 = errors.loc[("variance", "sde2")]["estimate"].abs()
    metrics["variance/sde2_over_sde1"] = (
        sde2 / errors.loc[("variance", "sde1")]["estimate"].abs()
    ).tolist()
    for stat in ("variance", "which_well"):
        ode, sde1 = errors.loc[(stat, "ode")], errors.loc[(stat, "sde1")]
        metrics[f"{stat}/sde1_over_ode"] = (sde1["estimate"].abs() / ode["estimate"].abs()).tolist()
        metrics[f"{stat}/sde1_over_ode_upper"] = (
            (sde1["estimate"].abs() + 2 * sde1["se"]) / (ode["estimate"].abs() - 2 * ode["se"])
        ).tolist()
    var_disc = table[(table["model"] == "discrete") & (table["statistic"] == "variance")]
    ode_var = errors.loc[("variance", "ode")]
    metrics["variance/ode_error_minus_variance"] = float(
        np.abs(ode_var["estimate"].to_numpy() - var_disc["estimate"].to_numpy()).max()
    )
    for stat in ("mean_square", "variance", "which_well"):
        for a in approximations:
            group = errors.loc[(stat, a)]
            fine = group[group["h"] <= c["rate_h_max"]]
            slope, ci = _slope_or_none(fine["h"], fine)
            metrics[f"{stat}/{a}/resolved_slope"] = slope
            metrics[f"{stat}/{a}/resolved_slope_ci"] = ci

    moments = pd.DataFrame(moments)
    metrics["max_x4/spread_4_smallest_h"] = _spread(moments.nsmallest(4, "h")["estimate"])
    return ExperimentResult({"table": table, "histogram": histogram, "moments": moments}, metrics)


# --------------------------------------------------------------------------------------- E3
def _h_crit(x0: float, c: dict) -> float:
    """Deterministic blow-up threshold ``2/(|x_0|√(3U))`` from ``h²·3x²U < 2(2 − hV)``."""
    return 2 / (abs(x0) * np.sqrt(3 * c["U"].get("scale", 1.0)))


def run_E3(cfg: dict, seed: int) -> ExperimentResult:
    """The x⁴ stress test: rates, constants against x_0, divergence against (h, x_0)."""
    c = cfg["E3"]
    observables = {"x2": SquaredNorm(1)}
    rows, moments, divergence, metrics = [], [], [], {}
    for x0 in c["x0"] + c["divergence_x0"]:
        model = _scalar_model(Quartic(1), {**c, "x0": [x0]})
        mc_cfg = c["mc"] if x0 in c["x0"] else c["divergence_mc"]
        approximations = c["approximations"] if x0 in c["x0"] else ["sde1"]
        for k, h in zip(*step_ladder(c["T"], c["k"]), strict=True):
            sample = _simulate(
                model,
                h,
                c["T"],
                approximations,
                observables,
                mc_cfg,
                seed,
                f"E3/x0={x0}",
                int(k),
                tolerate=True,
            )
            n_paths, n_diverged = len(sample.diverged), sample.n_diverged
            divergence.append(
                {
                    "x0": x0,
                    "k": int(k),
                    "h": h,
                    "h_crit": _h_crit(x0, c),
                    "n_paths": n_paths,
                    "diverged": n_diverged,
                }
            )
            if x0 not in c["x0"] or sample.n_diverged == len(sample.diverged):
                continue
            for a in approximations:
                rows.append(
                    _row(
                        x0=x0,
                        approximation=a,
                        k=int(k),
                        h=h,
                        estimate=_coupled_error(sample, a, "x2"),
                    )
                )
            if x0 == c["moment_x0"]:
                _moment_bound(moments, "max_x4", sample, x0=x0, k=int(k), h=h)
    table, divergence = pd.DataFrame(rows), pd.DataFrame(divergence)
    divergence["fraction"] = divergence["diverged"] / divergence["n_paths"]
    for (x0, a), group in table.groupby(["x0", "approximation"]):
        group = group.sort_values("h", ascending=False)
        order = 2 if a == "sde2" else 1
        smallest = group.iloc[-1]
        metrics[f"x0={x0:g}/{a}/constant"] = smallest["estimate"] / smallest["h"] ** order
        metrics[f"x0={x0:g}/{a}/constant_se"] = smallest["se"] / smallest["h"] ** order
        slope, ci = _slope_or_none(group["h"], group)
        metrics[f"x0={x0:g}/{a}/resolved_slope"] = slope
        metrics[f"x0={x0:g}/{a}/resolved_slope_ci"] = ci

    for x0, group in divergence.groupby("x0"):
        metrics[f"x0={x0:g}/divergence_fraction"] = group["fraction"].tolist()
    for a in c["approximations"]:
        low, high = min(c["x0"]), max(c["x0"])
        metrics[f"{a}/constant_ratio_x0_max_to_min"] = abs(
            metrics[f"x0={high:g}/{a}/constant"] / metrics[f"x0={low:g}/{a}/constant"]
        )
    above = divergence["h"] >= divergence["h_crit"]
    below = divergence["h"] <= divergence["h_crit"] / 2
    metrics["divergence/min_fraction_above_h_crit"] = float(divergence.loc[above, "fraction"].min())
    metrics["divergence/max_fraction_below_half_h_crit"] = float(
        divergence.loc[below, "fraction"].max()
    )
    moments = pd.DataFrame(moments)
    metrics["max_x4/spread_4_smallest_h"] = _spread(moments.nsmallest(4, "h")["estimate"])
    tables = {"table": table, "divergence": divergence, "moments": moments}
    return ExperimentResult(tables, metrics)
