"""Experiments of arXiv 2504.13992 (spec ``papers/2504.13992.md``): heavy ball with time-varying
learning rate and momentum, and its ODE / SDE1 / SDE2 approximations.

* E0: the 2d lift is an exact SGD-form recursion; the seed's "modified objective" is not.
* E1: exact weak errors of ODE, SDE1 and SDE2 on CFG-B (Regime B) and CFG-A (Regime A).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from sgdsde.checks import require_finite
from sgdsde.experiments import ExperimentResult
from sgdsde.lift import lifted_sgd_step, natural_objective_x_gradient, seed_objective_gradient
from sgdsde.moments import continuous_moments, discrete_moments, leading_error_coefficient
from sgdsde.observables import canonical_test_functions
from sgdsde.optimizers import heavy_ball_step, heavy_ball_velocity_step
from sgdsde.oracles import GaussianOracle
from sgdsde.problems import LogCoshQuartic, Quadratic
from sgdsde.schedules import Schedule
from sgdsde.sde import APPROXIMATIONS, HeavyBallRegimeA, HeavyBallRegimeB
from sgdsde.seeding import rng
from sgdsde.stats import fit_loglog_slope, pairwise_slopes

log = logging.getLogger(__name__)
PAPER = "momentum_approx"


# --------------------------------------------------------------------------------------- E0
def _lift_jacobian_asymmetry(eta: np.ndarray, zeta: np.ndarray) -> float:
    """‖M − Mᵀ‖_F for the Jacobian M of the f = 0 lift map, by central differences.

    A gradient step on any C² potential has a symmetric-times-diagonal Jacobian ``I − D∇²j``
    whose off-diagonal signs agree; HB's ``M = [[1+ζ, −ζ], [1, 0]]`` cannot (spec §2.4 proof).
    """
    d = len(eta)
    step = lambda X: lifted_sgd_step(X, eta, zeta, np.zeros((len(X), d)))  # noqa: E731
    E = np.eye(2 * d)
    M = ((step(E) - step(-E)) / 2).T
    return float(np.linalg.norm(M - M.T))


def run_E0(cfg: dict, seed: int) -> ExperimentResult:
    """Spec §3 E0: heavy ball on ``F = Σ log cosh(x − c) + |x|⁴/(4d)`` with Gaussian noise and
    random diagonal ``η_n``, ``ζ_n`` that change every step, run in five equivalent forms."""
    c = cfg["E0"]
    d, N, h = c["dim"], c["n_steps"], c["h"]
    gen = rng(seed, PAPER, "E0")
    problem = LogCoshQuartic(gen.standard_normal(d))
    eta = gen.uniform(*c["eta"], size=(N, d))
    zeta = gen.uniform(*c["zeta"], size=(N, d))
    noise = c["noise"] * gen.standard_normal((N, d))
    x = x_prev = gen.standard_normal((1, d))
    X = np.hstack([x, x])  # lifted (x, y) state, rest start
    xp, p = x.copy(), np.zeros((1, d))  # velocity form with η = h²U, ζ = 1 − hV
    rows = []
    for n in range(N):
        H = problem.mean_field(x) + noise[n]
        x_next = heavy_ball_step(x, x_prev, eta[n], zeta[n], H)
        X_next = lifted_sgd_step(X, eta[n], zeta[n], problem.mean_field(X[:, :d]) + noise[n])
        U, V = eta[n] / h**2, (1 - zeta[n]) / h
        xp, p = heavy_ball_velocity_step(xp, p, h, U, V, problem.mean_field(xp) + noise[n])
        natural = x - eta[n] * natural_objective_x_gradient(X, eta[n], zeta[n], -H)
        seed_step = X - np.hstack([eta[n], eta[n]]) * seed_objective_gradient(
            X, eta[n], zeta[n], -H
        )
        rows.append({
            "step": n + 1,
            "iterate_norm": float(np.abs(x_next).max()),
            "lift_sgd_form_error": float(np.abs(X_next - np.hstack([x_next, x])).max()),
            "velocity_form_error": float(np.abs(xp - x_next).max()),
            "natural_objective_error": float(np.abs(natural - x_next).max()),
            "seed_objective_discrepancy": float(np.abs(seed_step - np.hstack([x_next, x])).max()),
        })  # fmt: skip
        x_prev, x, X = x, x_next, X_next
    table = pd.DataFrame(rows)
    require_finite(table.to_numpy(), "momentum_approx.E0", f"h={h}")
    scale = table["iterate_norm"].max()
    metrics = {
        "iterate_scale": scale,
        "lift_sgd_form_error_rel": table["lift_sgd_form_error"].max() / scale,
        "velocity_form_error_rel": table["velocity_form_error"].max() / scale,
        "natural_objective_error_rel": table["natural_objective_error"].max() / scale,
        "seed_objective_discrepancy_rel": table["seed_objective_discrepancy"].max() / scale,
        "lift_jacobian_asymmetry": _lift_jacobian_asymmetry(eta[0], zeta[0]),
    }
    log.info("E0: %s", metrics)
    return ExperimentResult({"table": table}, metrics)


# --------------------------------------------------------------------------------------- E1
def build_model(problem_cfg: dict, model_cfg: dict):
    """The heavy-ball model of one E1 configuration (CFG-B or CFG-A of spec §3)."""
    problem = Quadratic(np.array(problem_cfg["A"]), np.array(problem_cfg["x_star"]))
    oracle = GaussianOracle(problem, np.array(problem_cfg["S"]))
    x0 = np.array(problem_cfg["x0"], dtype=float)
    U = Schedule.from_config(model_cfg["U"])
    if model_cfg["regime"] == "B":
        V = Schedule.from_config(model_cfg["V"])
        return HeavyBallRegimeB(oracle, U, V, x0, np.array(problem_cfg["p0"], dtype=float))
    return HeavyBallRegimeA(oracle, U, Schedule.from_config(model_cfg["Z"]), x0)


def step_ladder(T: float, k_range: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """``k`` and ``h = T·2^{−k}`` for ``k = k_min..k_max`` (spec §2.5), so ``T/h = 2^k``."""
    k = np.arange(k_range[0], k_range[1] + 1)
    return k, T * 2.0 ** (-k)


def _weak_errors(model, name: str, approximations, gs: dict, T: float, k: int, h: float):
    """Rows ``(approximation, g)`` of terminal and sup-norm errors at one step size."""
    d = model.dim
    discrete = discrete_moments(model, h, T)
    rows = []
    for a in approximations:
        continuous = continuous_moments(model, h, T, APPROXIMATIONS[a], t_eval=discrete.t)
        for g_name, g in gs.items():
            e_disc, e_cont = discrete.expectation(g, d), continuous.expectation(g, d)
            err = require_finite(e_disc - e_cont, f"{PAPER}.E1 config {name}", f"h={h} ({a})")
            rows.append({
                "config": name, "approximation": a, "test_function": g_name, "k": k, "h": h,
                "n_steps": len(discrete.t) - 1, "discrete": e_disc[-1], "continuous": e_cont[-1],
                "error": err[-1], "sup_error": np.abs(err).max(),
            })  # fmt: skip
    return rows


def _rate_metrics(group: pd.DataFrame, n_pairs: int, n_fit: int) -> dict:
    """Pairwise slopes (all, and the last ``n_pairs``) and a fitted slope over ``n_fit`` points."""
    group = group.sort_values("h", ascending=False)
    out = {}
    for kind, col in (("terminal", "error"), ("sup", "sup_error")):
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
    """φ̄ by quadrature (spec §5.5) and the orders at which ``e(h)/h`` converges to it."""
    phibar = leading_error_coefficient(model, T, g, APPROXIMATIONS[approximation])
    group = group.sort_values("h", ascending=False)
    gap = group["error"] / group["h"] - phibar
    slopes = pairwise_slopes(group["h"], gap)
    return {"phibar": phibar, "phibar_gap_tail_slopes": slopes[-n_pairs:].tolist()}


def run_E1(cfg: dict, seed: int) -> ExperimentResult:
    """Spec §3 E1: exact weak errors ``E g(x_N) − E g(X_T)`` on the ladder ``h = T·2^{−k}``."""
    problem_cfg, c = cfg["problem"], cfg["E1"]
    T = problem_cfg["T"]
    gs = {name: g for name, g in canonical_test_functions(len(problem_cfg["x0"])).items()
          if name in c["test_functions"]}  # fmt: skip
    rows, metrics = [], {}
    for name, model_cfg in c["configs"].items():
        model = build_model(problem_cfg, model_cfg)
        ks, hs = step_ladder(T, model_cfg["k"])
        for k, h in zip(ks, hs, strict=True):
            log.info("E1 config %s: k=%d, h=%.3g", name, k, h)
            rows += _weak_errors(model, name, model_cfg["approximations"], gs, T, int(k), h)
        table = pd.DataFrame(rows)
        for (a, g_name), group in table[table["config"] == name].groupby(
            ["approximation", "test_function"]
        ):
            prefix = f"{name}/{a}/{g_name}/"
            found = _rate_metrics(group, c["slope_pairs"], c["fit_points"])
            if model_cfg["regime"] == "B" and a in ("ode", "sde1") and gs[g_name].quadratic_form():
                found |= _phibar_metrics(model, group, gs[g_name], a, T, c["slope_pairs"])
            metrics |= {prefix + key: value for key, value in found.items()}
    return ExperimentResult({"table": pd.DataFrame(rows)}, metrics)


EXPERIMENTS = {"E0": run_E0, "E1": run_E1}
