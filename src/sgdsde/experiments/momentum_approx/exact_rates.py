"""Exact weak-error experiments of arXiv 2504.13992 (no Monte Carlo;
docs/momentum_approx.md#exact-moments).

* E1:  ODE / SDE1 / SDE2 on CFG-B and CFG-A, terminal, sup-norm and one-step (local) errors, and
       the leading coefficient φ̄ of docs/momentum_approx.md#phibar;
* E1b: the same with state-dependent noise (finite-sum least squares,
docs/momentum_approx.md#exact-moments closure);
* E7:  the schedule sweep of Regime B and Regime A;
* E8:  heavy ball with fixed momentum ζ against SGD with the rate divided by 1 − ζ.
"""

from __future__ import annotations

import itertools
import logging

import numpy as np
import pandas as pd

from sgdsde.checks import require_finite
from sgdsde.experiments import ExperimentResult
from sgdsde.experiments.momentum_approx.common import (
    PAPER,
    build_model,
    cross_checked_model,
    gaussian_quadratic,
    heavy_ball,
    step_ladder,
)
from sgdsde.moments import continuous_moments_ladder, discrete_moments, leading_error_coefficient
from sgdsde.observables import SquaredNorm, canonical_test_functions
from sgdsde.oracles import MinibatchOracle
from sgdsde.problems import FiniteSumLeastSquares
from sgdsde.schedules import Schedule
from sgdsde.sde import APPROXIMATIONS, PlainSGD
from sgdsde.seeding import rng
from sgdsde.stats import fit_loglog_slope, pairwise_slopes

log = logging.getLogger(__name__)


def _ladder_errors(model, name, approximations, gs, T, ks, hs):
    """Rows ``(h, approximation, g)``: terminal, sup-norm and one-step errors on the ladder.

    Each approximation is solved once for all h, on the finest grid, which contains every
    coarser grid ``t_n = n h``; the one-step error is the error at ``t = h``."""
    d, h_min = model.dim, hs.min()
    fine_t = h_min * np.arange(round(T / h_min) + 1)
    discrete = {k: discrete_moments(model, h, T) for k, h in zip(ks, hs, strict=True)}
    rows = []
    for a in approximations:
        paths = continuous_moments_ladder(model, hs, T, APPROXIMATIONS[a], t_eval=fine_t)
        for k, h, path in zip(ks, hs, paths, strict=True):
            stride = round(h / h_min)
            mean, cov = path.mean[::stride, :d], path.cov[::stride, :d, :d]
            for g_name, g in gs.items():
                e_disc = discrete[k].expectation(g, d)
                err = require_finite(
                    e_disc - g.gaussian_mean(mean, cov), f"{PAPER} config {name}", f"h={h} ({a})"
                )
                rows.append(
                    {
                        "config": name,
                        "approximation": a,
                        "test_function": g_name,
                        "k": int(k),
                        "h": h,
                        "n_steps": len(e_disc) - 1,
                        "discrete": e_disc[-1],
                        "continuous": e_disc[-1] - err[-1],
                        "error": err[-1],
                        "sup_error": np.abs(err).max(),
                        "local_error": err[1],
                    }
                )
    return rows


def rate_metrics(group: pd.DataFrame, n_pairs: int, n_fit: int, columns) -> dict:
    """Pairwise slopes (all, and the last ``n_pairs``) and a fitted slope over ``n_fit`` points."""
    group = group.sort_values("h", ascending=False)
    out = {}
    for kind, col in columns:
        slopes = pairwise_slopes(group["h"], group[col])
        fit = fit_loglog_slope(group["h"].iloc[-n_fit:], group[col].iloc[-n_fit:])
        out |= {
            f"{kind}_pairwise_slopes": slopes.tolist(),
            f"{kind}_tail_slopes": slopes[-n_pairs:].tolist(),
            f"{kind}_fit_slope": fit.slope,
            f"{kind}_fit_ci": [fit.ci_low, fit.ci_high],
        }
    return out


def _phibar_metrics(model, group: pd.DataFrame, g, approximation: str, T: float, n_pairs: int):
    """φ̄ by quadrature (docs/momentum_approx.md#phibar) and the orders at which ``e(h)/h``
    converges to it."""
    phibar = leading_error_coefficient(model, T, g, APPROXIMATIONS[approximation])
    group = group.sort_values("h", ascending=False)
    slopes = pairwise_slopes(group["h"], group["error"] / group["h"] - phibar)
    return {"phibar": phibar, "phibar_gap_tail_slopes": slopes[-n_pairs:].tolist()}


ERROR_KINDS = (("terminal", "error"), ("sup", "sup_error"), ("local", "local_error"))


def exact_weak_error_study(
    model, name: str, model_cfg: dict, gs: dict, T: float, c: dict, phibar=True
):
    """E1's measurement for one configuration: the table rows and the flat metrics."""
    ks, hs = step_ladder(T, model_cfg["k"])
    log.info("%s: k = %d..%d", name, ks[0], ks[-1])
    table = pd.DataFrame(_ladder_errors(model, name, model_cfg["approximations"], gs, T, ks, hs))
    metrics = {}
    for (a, g_name), group in table.groupby(["approximation", "test_function"]):
        found = rate_metrics(group, c["slope_pairs"], c["fit_points"], ERROR_KINDS)
        linear = model_cfg["regime"] == "B" and a in ("ode", "sde1") and gs[g_name].quadratic_form()
        if phibar and linear:
            found |= _phibar_metrics(model, group, gs[g_name], a, T, c["slope_pairs"])
        metrics |= {f"{name}/{a}/{g_name}/{key}": value for key, value in found.items()}
    return table, metrics


def _study_cases(problem_cfg: dict, cases: dict, gs: dict, c: dict):
    """:func:`exact_weak_error_study` of every named case of the canonical problem; φ̄'s closed
    form needs a linear model, so a moving objective (affine) has none."""
    tables, metrics = [], {}
    for name, model_cfg in cases.items():
        model = build_model(problem_cfg, model_cfg)
        phibar = "moving" not in model_cfg
        table, found = exact_weak_error_study(
            model, name, model_cfg, gs, problem_cfg["T"], c, phibar
        )
        tables.append(table)
        metrics |= found
    return pd.concat(tables, ignore_index=True), metrics


def run_E1(cfg: dict, seed: int) -> ExperimentResult:
    """docs/momentum_approx.md#e1: exact weak errors ``E g(x_N) − E g(X_T)`` on the ladder ``h =
    T·2^{−k}``."""
    problem_cfg, c = cfg["problem"], cfg["E1"]
    gs = {
        name: g
        for name, g in canonical_test_functions(len(problem_cfg["x0"])).items()
        if name in c["test_functions"]
    }
    table, metrics = _study_cases(problem_cfg, c["configs"], gs, c)
    return ExperimentResult({"table": table}, metrics)


def finite_sum_model(c: dict, seed: int):
    """E1b's model: Regime B heavy ball on ``(1/N)Σ ½(a_i·x − b_i)²``, one sample per step."""
    gen = rng(seed, PAPER, "E1b", "data")
    x_true = np.array(c["x_true"], dtype=float)
    a = gen.standard_normal((c["n_data"], len(x_true)))
    b = a @ x_true + c["label_noise"] * gen.standard_normal(c["n_data"])
    oracle = MinibatchOracle(FiniteSumLeastSquares(a, b))
    return heavy_ball(oracle, {"regime": "B", "U": c["U"], "V": c["V"]}, c["x0"], c["p0"])


def run_E1b(cfg: dict, seed: int) -> ExperimentResult:
    """docs/momentum_approx.md#e1b: state-dependent noise, exact second moments; ``g(x) = |x −
    x_true|²``."""
    c = cfg["E1b"]
    model = finite_sum_model(c, seed)
    gs = {"g": SquaredNorm(model.dim, tuple(c["x_true"]))}
    model_cfg = {"regime": "B", "k": c["k"], "approximations": ["ode", "sde1", "sde2"]}
    table, metrics = exact_weak_error_study(
        model, "finite_sum", model_cfg, gs, c["T"], c, phibar=False
    )
    return ExperimentResult({"table": table}, metrics)


def sweep_cases(c: dict) -> dict[str, dict]:
    """E7's configurations: every swept Regime-B pair (U, V) and Regime-A momentum Z, and one
    case per regime on the moving objective ``f(x, t) = F(x − c(t))``
    (docs/momentum_approx.md#moving-objective), named ``moving_<regime>``."""
    sweep = c["sweep"]
    cases = {
        f"B_U-{u}_V-{v}": {"regime": "B", "U": c["U"][u], "V": c["V"][v], "k": c["k_B"]}
        for u, v in itertools.product(sweep["U"], sweep["V"])
    }
    cases |= {
        f"A_Z-{z}": {"regime": "A", "U": c["U_A"], "Z": c["Z"][z], "k": c["k_A"]}
        for z in sweep["Z"]
    }
    for case in cases.values():
        case["approximations"] = ["ode", "sde1", "sde2"]
    moving = c["moving_objective"]
    named = {
        "B": {"U": c["U"][moving["B"]["U"]], "V": c["V"][moving["B"]["V"]]},
        "A": {"U": c["U_A"], "Z": c["Z"][moving["A"]["Z"]]},
    }
    for regime, schedules in named.items():
        cases[f"moving_{regime}"] = {"regime": regime, **schedules} | {
            "k": c[f"k_{regime}"],
            "moving": moving["shift"],
            "approximations": ["ode", "sde1", "sde2", "sde2_frozen_objective"],
        }
    return cases


def _tail_slopes(metrics: dict, prefix: str, approximation: str) -> list[float]:
    """Every terminal tail slope of ``approximation`` over the cases whose key starts with
    ``prefix``, for g1–g3."""
    return [
        s
        for key, v in metrics.items()
        if key.startswith(prefix)
        and f"/{approximation}/" in key
        and key.endswith("terminal_tail_slopes")
        for s in v
    ]


def run_E7(cfg: dict, seed: int) -> ExperimentResult:
    """docs/momentum_approx.md#e7: E1's exact slopes and φ̄ for every schedule combination (table
    T2)."""
    problem_cfg, c = cfg["problem"], cfg["E7"]
    gs = canonical_test_functions(len(problem_cfg["x0"]))
    table, metrics = _study_cases(problem_cfg, sweep_cases(c), gs, c)
    for regime in ("A", "B"):
        for a in ("ode", "sde1", "sde2"):
            metrics[f"{regime}/{a}/all_tail_slopes"] = _tail_slopes(metrics, f"{regime}_", a)
        for a in ("sde2", "sde2_frozen_objective"):
            slopes = _tail_slopes(metrics, f"moving_{regime}/", a)
            metrics[f"moving_{regime}/{a}/all_tail_slopes"] = slopes
    return ExperimentResult({"table": table}, metrics)


def run_E8(cfg: dict, seed: int) -> ExperimentResult:
    """docs/momentum_approx.md#e8: heavy ball with fixed ζ and ``η = h(1−ζ)W`` against SGD with rate
    ``hW``."""
    problem_cfg, c = cfg["problem"], cfg["E8"]
    oracle, T = gaussian_quadratic(problem_cfg), problem_cfg["T"]
    W = Schedule.from_config(c["W"])
    sgd = PlainSGD(oracle, W, np.array(problem_cfg["x0"], dtype=float))
    gs = canonical_test_functions(len(problem_cfg["x0"]))
    ladder = list(zip(*step_ladder(T, c["k"]), strict=True))
    sgd_paths = {int(k): discrete_moments(sgd, h, T) for k, h in ladder}
    rows = []
    for zeta in c["zeta"]:
        U = {**c["W"], "scale": (1 - zeta) * c["W"].get("scale", 1.0)}
        hb = heavy_ball(
            oracle,
            {"regime": "A", "U": U, "Z": {"kind": "constant", "scale": zeta}},
            problem_cfg["x0"],
        )
        for k, h in ladder:
            e_hb = discrete_moments(hb, h, T)
            for g_name, g in gs.items():
                err = (
                    e_hb.expectation(g, hb.dim)[-1] - sgd_paths[int(k)].expectation(g, sgd.dim)[-1]
                )
                require_finite(err, f"{PAPER}.E8", f"h={h}, ζ={zeta}")
                rows.append(
                    {"zeta": zeta, "test_function": g_name, "k": int(k), "h": h, "error": err}
                )
    table = pd.DataFrame(rows)
    metrics = {}
    for (zeta, g_name), group in table.groupby(["zeta", "test_function"]):
        group = group.sort_values("h", ascending=False)
        slopes = pairwise_slopes(group["h"], group["error"])
        metrics[f"zeta={zeta}/{g_name}/last_pair_slope"] = slopes[-1]
        metrics[f"zeta={zeta}/{g_name}/error_over_h"] = (
            group["error"].iloc[-1] / group["h"].iloc[-1]
        )
    for g_name in gs:
        zetas = np.array(sorted(c["zeta"]))
        ratios = np.array([metrics[f"zeta={z}/{g_name}/error_over_h"] for z in zetas])
        metrics[f"{g_name}/error_over_h_increments"] = np.diff(np.abs(ratios)).tolist()
        # docs/momentum_approx.md#fixed-momentum: e/h ≈ 0.104 ζ/(1 − ζ) for g1
        scaled = ratios * (1 - zetas) / zetas
        metrics[f"{g_name}/scaled_constant_spread"] = float(np.ptp(scaled) / abs(scaled.mean()))
    return ExperimentResult({"table": table}, metrics)


def run_E5(cfg: dict, seed: int) -> ExperimentResult:
    """docs/momentum_approx.md#e5, exact part: ``max_n E|Y_n|²`` of CFG-B's lifted iterates on the
    ladder."""
    c = cfg["E5"]
    model, T = cross_checked_model(cfg, "E5")
    rows = []
    for k, h in zip(*step_ladder(T, c["k"]), strict=True):
        path = discrete_moments(model, h, T)
        second_moment = np.trace(path.cov, axis1=1, axis2=2) + np.sum(path.mean**2, axis=1)
        rows.append({"k": int(k), "h": h, "max_second_moment": second_moment.max()})
    table = pd.DataFrame(rows)
    smallest = table.nsmallest(4, "h")["max_second_moment"]
    spread = (smallest.max() - smallest.min()) / smallest.mean()
    return ExperimentResult({"table": table}, {"max_second_moment/spread_4_smallest_h": spread})
