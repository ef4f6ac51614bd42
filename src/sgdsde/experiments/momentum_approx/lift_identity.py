"""E0 of arXiv 2504.13992: the 2d lift is an exact SGD-form recursion; the seed's "modified
objective" is not, and no potential is (docs/momentum_approx.md#lift)."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from sgdsde.checks import require_finite
from sgdsde.experiments import ExperimentResult
from sgdsde.experiments.momentum_approx.common import PAPER
from sgdsde.lift import lifted_sgd_step, natural_objective_x_gradient, seed_objective_gradient
from sgdsde.optimizers import heavy_ball_step, heavy_ball_velocity_step
from sgdsde.problems import LogCoshQuartic
from sgdsde.seeding import rng

log = logging.getLogger(__name__)


def _lift_jacobian_asymmetry(eta: np.ndarray, zeta: np.ndarray) -> float:
    """‖M − Mᵀ‖_F for the Jacobian M of the f = 0 lift map, by central differences.

    A gradient step on any C² potential has a symmetric-times-diagonal Jacobian ``I − D∇²j``
    whose off-diagonal signs agree; HB's ``M = [[1+ζ, −ζ], [1, 0]]`` cannot
    (docs/momentum_approx.md#lift).
    """
    d = len(eta)
    step = lambda X: lifted_sgd_step(X, eta, zeta, np.zeros((len(X), d)))  # noqa: E731
    E = np.eye(2 * d)
    M = ((step(E) - step(-E)) / 2).T
    return float(np.linalg.norm(M - M.T))


def run_E0(cfg: dict, seed: int) -> ExperimentResult:
    """docs/momentum_approx.md#e0: heavy ball on ``F = Σ log cosh(x − c) + |x|⁴/(4d)`` with Gaussian
    noise and random diagonal ``η_n``, ``ζ_n`` that change every step, run in five equivalent
    forms."""
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
        rows.append(
            {
                "step": n + 1,
                "iterate_norm": float(np.abs(x_next).max()),
                "lift_sgd_form_error": float(np.abs(X_next - np.hstack([x_next, x])).max()),
                "velocity_form_error": float(np.abs(xp - x_next).max()),
                "natural_objective_error": float(np.abs(natural - x_next).max()),
                "seed_objective_discrepancy": float(
                    np.abs(seed_step - np.hstack([x_next, x])).max()
                ),
            }
        )
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
