"""E6 of arXiv 2504.13992: the Feynman–Kac representation (docs/momentum_approx.md#e6; the seed's
Theorem 1).

For CFG-B's linear SDE1, ``y(t, Y) = E[g(Y_T) | Y_t = Y]`` is a Gaussian expectation with mean
``Φ(T,t)Y`` and covariance ``P(T,t)``; it must solve the backward Kolmogorov equation
``∂_t y + J0·∇y + ½ GGᵀ:∇²y = 0`` (``GGᵀ = h·blockdiag(0, USU)``). The residual is evaluated by
central finite differences at random (t, Y). As a negative control, the same residual without
the diffusion term must be far from zero (its median over the points is reported).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.integrate import solve_ivp

from sgdsde.experiments import ExperimentResult
from sgdsde.experiments.momentum_approx.common import PAPER, cross_checked_model
from sgdsde.moments import ODE_TOLERANCES, linearised_drift
from sgdsde.observables import canonical_test_functions
from sgdsde.sde import APPROXIMATIONS
from sgdsde.seeding import rng

SDE1 = APPROXIMATIONS["sde1"]


def transition(model, h: float, t0: float, T: float):
    """``(Φ, c, P)`` with ``Y_T | Y_{t0} = Y ~ N(ΦY + c, P)`` for the linear SDE1."""
    m, d = 2 * model.dim, model.dim

    def rhs(t, y):
        Phi, c, P = y[: m * m].reshape(m, m), y[m * m : m * m + m], y[m * m + m :].reshape(m, m)
        F, f = linearised_drift(model, t, h, SDE1, m)
        E = model.noise_embedding(t, h, SDE1)
        noise = E @ model.oracle.expected_covariance(np.zeros(d), np.zeros((d, d))) @ E.T
        return np.concatenate([(F @ Phi).ravel(), F @ c + f, (F @ P + P @ F.T + noise).ravel()])

    y0 = np.concatenate([np.eye(m).ravel(), np.zeros(m), np.zeros(m * m)])
    y = solve_ivp(rhs, (t0, T), y0, **ODE_TOLERANCES).y[:, -1]
    return y[: m * m].reshape(m, m), y[m * m : m * m + m], y[m * m + m :].reshape(m, m)


def feynman_kac_value(transition_moments, g, Y: np.ndarray, d: int) -> np.ndarray:
    """``y(t, Y)`` for a batch of states Y (rows), given the transition ``(Φ, c, P)`` from t."""
    Phi, c, P = transition_moments
    mean = (Y @ Phi.T + c)[:, :d]
    return g.gaussian_mean(mean, np.broadcast_to(P[:d, :d], (len(Y), d, d)))


def _residual_terms(model, gs, h, T, t, Y, eps_t, eps_y):
    """``{g: (∂_t y, J0·∇y, ½ GGᵀ:∇²y)}`` at one point, by central differences; the three
    transitions (from t and t ± ε) are shared by all test functions and shifts."""
    m, d = len(Y), model.dim
    I = np.eye(m) * eps_y  # noqa: E741
    now, later, earlier = (transition(model, h, s, T) for s in (t, t + eps_t, t - eps_t))
    # y at Y ± e_i ± e_j in one batch: the Hessian; y at Y ± e_i: the gradient
    shifts = np.array(
        [
            s_i * I[i] + s_j * I[j]
            for i in range(m)
            for j in range(m)
            for s_i in (1, -1)
            for s_j in (1, -1)
        ]
    )
    drift = model.drift(t, h, Y[None], SDE1)[0]
    G = model.diffusion(t, h, Y[None], SDE1)[0]
    terms = {}
    for name, g in gs.items():
        dt = feynman_kac_value(later, g, Y[None], d) - feynman_kac_value(earlier, g, Y[None], d)
        v = feynman_kac_value(now, g, Y + shifts, d).reshape(m, m, 2, 2)
        hessian = (v[:, :, 0, 0] - v[:, :, 0, 1] - v[:, :, 1, 0] + v[:, :, 1, 1]) / (4 * eps_y**2)
        single = feynman_kac_value(now, g, Y + np.vstack([I, -I]), d)
        gradient = (single[:m] - single[m:]) / (2 * eps_y)
        terms[name] = (dt[0] / (2 * eps_t), drift @ gradient, 0.5 * np.sum(G @ G.T * hessian))
    return terms


def run_E6(cfg: dict, seed: int) -> ExperimentResult:
    c = cfg["E6"]
    model, T = cross_checked_model(cfg, "E6")
    gen = rng(seed, PAPER, "E6")
    gs = canonical_test_functions(model.dim)
    gs = {name: gs[name] for name in c["test_functions"]}
    rows = []
    for _ in range(c["n_points"]):
        t = gen.uniform(0.0, T - 0.1)
        Y = gen.standard_normal(2 * model.dim)
        for name, (dt, transport, diffusion) in _residual_terms(
            model, gs, c["h"], T, t, Y, c["eps_t"], c["eps_y"]
        ).items():
            scale = abs(dt) + abs(transport) + abs(diffusion)
            rows.append(
                {
                    "test_function": name,
                    "t": t,
                    "dt": dt,
                    "transport": transport,
                    "diffusion": diffusion,
                    "relative_residual": abs(dt + transport + diffusion) / scale,
                    "relative_residual_without_diffusion": abs(dt + transport) / scale,
                }
            )
    table = pd.DataFrame(rows)
    metrics = {
        "relative_residual": table["relative_residual"].max(),
        "relative_residual_without_diffusion": table[
            "relative_residual_without_diffusion"
        ].median(),
    }
    return ExperimentResult({"table": table}, metrics)
