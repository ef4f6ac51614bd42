"""Exact (Monte-Carlo-free) checks of arXiv 2509.21614 (docs/adaptive_sde.md#experiments):

* E0: calibration on SGD, whose Li–Tai–E modified equations of order 1 and 2 have known weak
      orders: the exact laws (sgdsde.moments) must give slopes 1 and 2;
* E1: deterministic order checks, σ = 0 (V1 RMSprop ballistic; A1 Adam ballistic with its
      start-time and indexing protocols and every code variant of
      docs/adaptive_sde.md#code-variants);
* E2: the closed-form v-only test V2 (∇f ≡ 0): order 2 with and without the independent
      Brownian motion W2 (the key claim K1a);
* E3: one-step covariances (K2): the discrete increments' covariance against the SDE's ``ssᵀ``.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from scipy.linalg import expm

from sgdsde.adaptive import SGD, Adam, LiTaiE, RMSprop, rk4_drift
from sgdsde.checks import require_finite
from sgdsde.experiments import ExperimentResult
from sgdsde.experiments.adaptive_sde.common import (
    PAPER,
    build_problem,
    effective_equation,
    exact_slope_metrics,
    initial_state,
    ladder,
)
from sgdsde.moments import model_law, optimizer_law
from sgdsde.seeding import rng

log = logging.getLogger(__name__)

#: Adam protocols of docs/adaptive_sde.md#experiments A1: (discrete indexing, SDE indexing, start)
# per model.
ADAM_PROTOCOLS = {
    "start2tau_code_index": {
        "indexing": "code",
        "start": "2tau",
        "models": {"ode": "code", "sde2": "code", "sde2_code": "natural"},
    },
    "start2tau_natural": {
        "indexing": "natural",
        "start": "2tau",
        "models": {
            "sde2": "natural",
            "sde2_code_drift": "natural",
            "sde2_code_hv": "natural",
            "sde2_code_dt": "natural",
        },
    },
    "t0": {
        "indexing": "natural",
        "start": "t0",
        "models": {"ode": "natural", "sde2": "natural", "sde2_code_drift": "natural"},
    },
}


def _mean_square_per_coordinate(law) -> float:
    """``E‖θ‖²/d`` of ``θ ~ N(m, P)``."""
    m, P = law
    return float((m @ m + np.trace(P)) / len(m))


def run_E0(cfg: dict, seed: int) -> ExperimentResult:
    """E0: ``E‖θ_T‖²/d`` of SGD against its order-1 and order-2 modified equations, exactly (the
    discrete mean/covariance recursion and the Lyapunov ODE, read off the models' own maps by
    :mod:`sgdsde.moments`); slopes over the ``fit_last`` smallest τ of each model."""
    c = cfg["E0"]
    problem = build_problem(c["problem"])
    theta0 = np.array(c["problem"]["theta0"], dtype=float)
    _, taus = ladder(c["ladder"])
    rows = []
    for tau in taus:
        disc = _mean_square_per_coordinate(optimizer_law(SGD(problem, tau, theta0), tau, c["T"]))
        for order in (1, 2):
            sme = LiTaiE(problem, tau, theta0, order)
            error = disc - _mean_square_per_coordinate(model_law(sme, c["T"]))
            rows.append({"model": f"sde{order}", "tau": tau, "discrete": disc, "error": error})
    table = pd.DataFrame(rows)
    metrics = {"taus": taus.tolist()}
    for name, group in table.groupby("model"):
        found = exact_slope_metrics(
            group["tau"].to_numpy(), group["error"].to_numpy(), c["fit_last"][name]
        )
        metrics |= {f"{name}/{k}": v for k, v in found.items()}
    return ExperimentResult({"table": table}, metrics)


def _deterministic_error(disc, model, X0, tau, T, skip, substeps):
    """Max-abs error over all variables at T between the σ = 0 discrete chain and the drift ODE
    (RK4, ``dt = τ/substeps``) started from the discrete state after ``skip`` steps."""
    X = np.array(X0, dtype=float)
    zero = np.zeros((1, X.shape[-1]))
    for n in range(skip):
        X = disc.step(X, n, zero, tau)
    Y = rk4_drift(model, X, skip * tau, T, tau / substeps)
    for n in range(skip, round(T / tau)):
        X = disc.step(X, n, zero, tau)
    err = require_finite(np.abs(X - Y)[0], f"{PAPER}.E1", f"τ={tau:g}")
    return err


def run_E1(cfg: dict, seed: int) -> ExperimentResult:
    """V1 and A1 of docs/adaptive_sde.md#experiments (Q-det, σ = 0): max-abs errors at T on the
    ladder τ = 2^-i."""
    c = cfg["E1"]
    _, taus = ladder(c["ladder"])
    rows, metrics = [], {}
    r = c["rmsprop"]
    problem = build_problem(r["problem"], sigma=0.0)
    X0 = initial_state(problem, r["problem"], "rmsprop")
    opt = {"name": "rmsprop", **r}
    for name in ("ode", "sde2"):
        for tau in taus:
            disc = RMSprop(problem, r["c"], r["eps"])
            model = effective_equation(problem, opt, name, tau, "ballistic")
            err = _deterministic_error(disc, model, X0, tau, r["T"], 0, c["rk4_substeps"])
            for var, e in (("theta", err[0].max()), ("v", err[1].max())):
                rows.append(
                    {
                        "optimizer": "rmsprop",
                        "protocol": "start0",
                        "model": name,
                        "variable": var,
                        "tau": tau,
                        "error": e,
                    }
                )
    a = c["adam"]
    problem = build_problem(a["problem"], sigma=0.0)
    X0 = initial_state(problem, a["problem"], "adam")
    opt = {"name": "adam", **a}
    for protocol, spec in ADAM_PROTOCOLS.items():
        disc = Adam(problem, a["c1"], a["c2"], a["eps"], indexing=spec["indexing"])
        for name, sde_indexing in spec["models"].items():
            for tau in taus:
                skip = 2 if spec["start"] == "2tau" else round(a["t0"] / tau)
                model = effective_equation(problem, opt, name, tau, "ballistic", sde_indexing)
                err = _deterministic_error(disc, model, X0, tau, a["T"], skip, c["rk4_substeps"])
                rows.append(
                    {
                        "optimizer": "adam",
                        "protocol": protocol,
                        "model": name,
                        "variable": "all",
                        "tau": tau,
                        "error": err.max(),
                    }
                )
    table = pd.DataFrame(rows)
    for (opt_name, protocol, name, var), group in table.groupby(
        ["optimizer", "protocol", "model", "variable"]
    ):
        found = exact_slope_metrics(
            group["tau"].to_numpy(), group["error"].to_numpy(), c["fit_last"]
        )
        metrics |= {f"{opt_name}/{protocol}/{name}/{var}/{k}": v for k, v in found.items()}
    metrics["taus"] = taus.tolist()
    return ExperimentResult({"table": table}, metrics)


def v_only_discrete(s, M, c, v0, tau, T):
    """Exact mean and second moment of the v-only chain ``v' = (1−cτ)v + cτ ξ²`` (∇f ≡ 0,
    docs/adaptive_sde.md#experiments V2): ``m' = (1−cτ)m + cτs``,
    ``Q' = (1−cτ)²Q + (1−cτ)cτ(msᵀ + smᵀ) + c²τ²(ssᵀ + M)``, ``s = diagΣ``, ``M = 2Σ∘Σ``."""
    m, Q = v0.copy(), np.outer(v0, v0)
    a, b = 1 - c * tau, c * tau
    for _ in range(round(T / tau)):
        Q = a * a * Q + a * b * (np.outer(m, s) + np.outer(s, m)) + b * b * (np.outer(s, s) + M)
        m = a * m + b * s
    return m, Q


def v_only_sde(s, M, c, v0, tau, T, order: int, w2: bool):
    """Exact moments of the v-only effective equation by ``expm`` of the augmented linear
    system: ``m' = κ(s − m)``, ``Q' = κ(smᵀ + msᵀ) − 2κQ + τc²M·[W2]``, ``κ = c`` (order 1)
    or ``c(1 + cτ/2)`` (order 2); the order-1 ODE has no noise."""
    d = len(s)
    kappa = c if order == 1 else c * (1 + c * tau / 2)
    noise = tau * c * c * M if (order == 2 and w2) else np.zeros_like(M)
    n = d + d * d + 1
    L = np.zeros((n, n))
    L[:d, :d] = -kappa * np.eye(d)
    L[:d, -1] = kappa * s
    eye = np.eye(d)
    # vec(Q) row-major: d/dt Q_ij = κ(s_i m_j + m_i s_j) − 2κ Q_ij + noise_ij
    L[d:-1, :d] = kappa * (np.kron(s[:, None], eye) + np.kron(eye, s[:, None]))
    L[d:-1, d:-1] = -2 * kappa * np.eye(d * d)
    L[d:-1, -1] = noise.ravel()
    y = expm(T * L) @ np.concatenate([v0, np.outer(v0, v0).ravel(), [1.0]])
    return y[:d], y[d:-1].reshape(d, d)


def run_E2(cfg: dict, seed: int) -> ExperimentResult:
    """V2: ``E‖v_T‖²/d`` of the discrete chain against the ODE and the order-2 equation with and
    without W2, exactly; slopes 1, 2, 1 (K1a)."""
    c = cfg["E2"]
    problem = build_problem(c["problem"])
    s, M, v0 = problem.diag_Sigma, problem.M, np.full(problem.d, float(c["v0"]))
    _, taus = ladder(c["ladder"])
    rows = []
    for tau in taus:
        _, Q = v_only_discrete(s, M, c["c"], v0, tau, c["T"])
        disc = np.trace(Q) / problem.d
        for name, order, w2 in (("ode", 1, False), ("sde2", 2, True), ("sde2_no_w2", 2, False)):
            _, Qm = v_only_sde(s, M, c["c"], v0, tau, c["T"], order, w2)
            rows.append(
                {
                    "model": name,
                    "tau": tau,
                    "discrete": disc,
                    "error": disc - np.trace(Qm) / problem.d,
                }
            )
    table = pd.DataFrame(rows)
    metrics = {"taus": taus.tolist()}
    for name, group in table.groupby("model"):
        found = exact_slope_metrics(
            group["tau"].to_numpy(), group["error"].to_numpy(), c["fit_last"]
        )
        metrics |= {f"{name}/{k}": v for k, v in found.items()}
    return ExperimentResult({"table": table}, metrics)


def _sde_covariance(model, X, tau):
    """One-step noise covariance ``τ s sᵀ`` of the effective equation at state X (the noise is
    linear in the increments: its columns are the responses to ``√τ e_j``)."""
    cols = []
    for index in np.ndindex(*model.noise_shape):
        e = np.zeros((1, *model.noise_shape))
        e[(0, *index)] = np.sqrt(tau)
        cols.append(model.diffusion(0.0, X, e)[0].ravel())
    G = np.array(cols).T
    return G @ G.T


def run_E3(cfg: dict, seed: int) -> ExperimentResult:
    """K2: for each case, the empirical covariance of ``n_draws`` discrete one-step increments
    from one state against the order-2 SDE's ``τ s sᵀ``; the deviation is normalised by
    ``√(C_ii C_jj)`` over the block of the variables whose noise is O(√τ·τ^{1/2}) per step."""
    c = cfg["E3"]
    problem = build_problem(c["problem"])
    tau, rows, metrics = c["tau"], [], {}
    cases = {
        "rmsprop_ballistic": ("rmsprop", "ballistic", "sde2", [0, 1]),
        "rmsprop_ballistic_code": ("rmsprop", "ballistic", "sde2_code", [0, 1]),
        "adam_ballistic": ("adam", "ballistic", "sde2", [1, 2]),
        "adam_ballistic_code": ("adam", "ballistic", "sde2_code", [1, 2]),
    }
    for case, (opt_name, regime, name, block) in cases.items():
        opt = {"name": opt_name, **c[opt_name]}
        X0 = initial_state(problem, c["problem"], opt_name)
        if opt_name == "adam":
            X0[:, 1] = problem.grad(X0[:, 0]) / 2  # a non-zero m, so Γ, H(Dm) matter
        disc = (
            RMSprop(problem, opt["c"], opt["eps"], regime)
            if opt_name == "rmsprop"
            else Adam(problem, opt["c1"], opt["c2"], opt["eps"], regime)
        )
        gen = rng(seed, PAPER, "E3", case)
        n_start = 4  # Adam: Γ_n at n = 4
        X = np.repeat(X0, c["n_draws"], axis=0)
        xi = problem.noise(gen.standard_normal((c["n_draws"], problem.d)))
        delta = (disc.step(X, n_start, xi, tau) - X)[:, block].reshape(c["n_draws"], -1)
        empirical = np.cov(delta, rowvar=False)
        model = effective_equation(problem, opt, name, tau, regime)
        d = problem.d
        sl = np.concatenate([np.arange(b * d, (b + 1) * d) for b in block])
        X_t = X0.copy()
        predicted = _sde_covariance(model, X_t, tau)[np.ix_(sl, sl)]
        scale = np.sqrt(np.outer(np.diag(predicted), np.diag(predicted)))
        scale = np.where(
            scale > 0, scale, np.sqrt(np.outer(np.diag(empirical), np.diag(empirical)))
        )
        dev = np.abs(empirical - predicted) / scale
        metrics[f"{case}/max_normalised_deviation"] = float(dev.max())
        for (i, j), value in np.ndenumerate(dev):
            rows.append(
                {
                    "case": case,
                    "i": i,
                    "j": j,
                    "empirical": empirical[i, j],
                    "predicted": predicted[i, j],
                    "normalised_deviation": value,
                }
            )
    # K2's identity: Cov(2∇f⊙ξ, ξ⊙ξ − diagΣ) = 0 for symmetric ξ
    gen = rng(seed, PAPER, "E3", "cross")
    xi = problem.noise(gen.standard_normal((c["n_draws"], problem.d)))
    theta0 = np.array(c["problem"]["theta0"], dtype=float)
    a, b = 2 * problem.grad(theta0) * xi, xi * xi - problem.diag_Sigma
    cross = (a - a.mean(0)).T @ (b - b.mean(0)) / (len(a) - 1)
    norm = np.sqrt(np.outer(a.var(0), b.var(0)))
    metrics["cross_covariance_max_correlation"] = float(np.abs(cross / norm).max())
    metrics["se_correlation"] = 1 / np.sqrt(c["n_draws"])
    return ExperimentResult({"table": pd.DataFrame(rows)}, metrics)
