"""E9: the scaling regimes of docs/adaptive_sde.md#optimisers, docs/adaptive_sde.md#regimes
(discrete chains only).

* the standard-hyperparameter reading of the batch-equivalent regime: RMSprop with time step τ
  equals textbook RMSprop with ``η = √τ``, ``1−β = cη²``, ``ε_std = ε/√τ``, per-step noise
  covariance ``Σ/η²`` and ``V = v/τ`` — to rounding, on the same noise;
* S1: ballistic ``Var θ_T ∝ τ`` (deterministic limit), batch-equivalent ``Var θ_T → const > 0``,
  and in both regimes the coupled differences ``E φ(τ) − E φ(τ/2)`` shrink like τ;
* S2: the square-root scaling rule ``(η, B, 1−β, ε) → (√κη, κB, κ(1−β), ε/√κ)``, time
  ``t = nη²``: coupled ``E φθ(κ) − E φθ(κ/2)`` shrink ∝ κ (slope 1 in κ).

Coupling of a chain with step τ and one with τ/2: the fine chain's two normals ``z', z''`` give
the coarse chain's ``z = (z' + z'')/√2`` (docs/adaptive_sde.md#e9).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sgdsde.adaptive import RMSprop, evaluate_test_functions, standard_rmsprop_step
from sgdsde.checks import require_finite
from sgdsde.engine import Paths
from sgdsde.experiments import ExperimentResult
from sgdsde.experiments.adaptive_sde.common import PAPER, build_problem, initial_state, ladder
from sgdsde.seeding import rng
from sgdsde.stats import mean_with_se, resolved_slope, variance_with_se


def srsr_identity_deviation(problem, c: float, eps: float, tau: float, X0, n_steps: int, gen):
    """Max relative deviation between batch-equivalent RMSprop at τ and textbook RMSprop with
    the square-root-scaled hyperparameters, driven by the same ξ (θ and ``τV`` against v)."""
    disc = RMSprop(problem, c, eps, "batch_equivalent")
    X = X0.copy()
    theta, V = X0[:, 0].copy(), X0[:, 1] / tau
    eta = np.sqrt(tau)
    for n in range(n_steps):
        xi = problem.noise(gen.standard_normal(X[:, 0].shape))
        X = disc.step(X, n, xi, tau)
        g = problem.grad(theta) + xi / eta  # noise covariance Σ/η² per step
        theta, V = standard_rmsprop_step(theta, V, g, eta, 1 - c * eta**2, eps / eta)
    dev_theta = np.abs(theta - X[:, 0]).max() / np.abs(X[:, 0]).max()
    dev_v = np.abs(tau * V - X[:, 1]).max() / np.abs(X[:, 1]).max()
    return float(max(dev_theta, dev_v))


def _paired_chains(step_coarse, step_fine, X0c, X0f, n_coarse, n_paths, d, seed, *keys):
    """Run a coarse chain (``n_coarse`` steps) and a fine one (twice as many) on coupled noise,
    in the engine's seed blocks: the coarse step's normal is ``(z1 + z2)/√2`` of the fine two."""
    ends = []
    for chunk in Paths(n_paths).chunks(seed, *keys):
        Xc, Xf = np.repeat(X0c, chunk.n, axis=0), np.repeat(X0f, chunk.n, axis=0)
        for n in range(n_coarse):
            z1, z2 = chunk.normals(d), chunk.normals(d)
            Xf = step_fine(step_fine(Xf, 2 * n, z1), 2 * n + 1, z2)
            Xc = step_coarse(Xc, n, (z1 + z2) / np.sqrt(2))
        ends.append((Xc, Xf))
    return np.concatenate([c for c, _ in ends]), np.concatenate([f for _, f in ends])


def run_E9(cfg: dict, seed: int) -> ExperimentResult:
    c = cfg["E9"]
    problem = build_problem(c["problem"])
    X0 = initial_state(problem, c["problem"], "rmsprop")
    d, T, rows, metrics = problem.d, c["T"], [], {}
    metrics["srsr_identity_max_rel_deviation"] = srsr_identity_deviation(
        problem,
        c["c"],
        c["eps"],
        2.0 ** -c["ladder"][0],
        np.repeat(X0, 64, axis=0),
        round(T / 2.0 ** -c["ladder"][0]),
        rng(seed, PAPER, "E9", "identity"),
    )
    idx, taus = ladder(c["ladder"])
    for regime in ("ballistic", "batch_equivalent"):
        disc = RMSprop(problem, c["c"], c["eps"], regime)
        variances, diffs = [], []
        for i, tau in zip(idx, taus, strict=True):
            coarse = lambda X, n, z, tau=tau, disc=disc: disc.step(X, n, problem.noise(z), tau)  # noqa: E731
            fine = lambda X, n, z, tau=tau, disc=disc: disc.step(  # noqa: E731
                X, n, problem.noise(z), tau / 2
            )
            Xc, Xf = _paired_chains(
                coarse,
                fine,
                X0,
                X0,
                round(T / tau),
                c["n_paths"],
                d,
                seed,
                PAPER,
                "E9",
                regime,
                int(i),
            )
            require_finite(Xf, f"{PAPER}.E9", f"τ={tau:g} ({regime})")
            var = variance_with_se(Xc[:, 0, 0])
            diff = mean_with_se(
                evaluate_test_functions(Xc)["theta_sq"] - evaluate_test_functions(Xf)["theta_sq"]
            )
            variances.append(var)
            diffs.append(diff)
            rows.append(
                {
                    "study": "S1",
                    "regime": regime,
                    "tau": tau,
                    "var_theta1": var.mean,
                    "var_se": var.se,
                    "diff_theta_sq": diff.mean,
                    "diff_se": diff.se,
                }
            )
        key = f"S1/{regime}"
        var_fit = resolved_slope(taus, variances)
        diff_fit = resolved_slope(taus, diffs)
        metrics |= {
            f"{key}/var_theta1": [v.mean for v in variances],
            f"{key}/var_slope": var_fit.slope if var_fit else None,
            f"{key}/var_last_relative_change": abs(variances[-1].mean / variances[-2].mean - 1),
            f"{key}/diff_slope": diff_fit.slope if diff_fit else None,
            f"{key}/diffs": [e.mean for e in diffs],
            f"{key}/diff_se": [e.se for e in diffs],
        }
    # S2: textbook RMSprop with (√κη0, κB0, κ(1−β0), ε0/√κ), time t = nη²
    eta0_sq = 2.0 ** -c["srsr"]["tau0_exponent"]
    kappas = np.array(c["srsr"]["kappas"], dtype=float)
    diffs = []
    for kappa in kappas[1:]:

        def standard(kappa_):
            eta = np.sqrt(kappa_ * eta0_sq)
            beta, eps_std = 1 - c["c"] * eta**2, c["eps"] / eta

            def step(X, n, z):
                g = problem.grad(X[:, 0]) + problem.noise(z) / eta  # batch B ∝ η²
                theta, V = standard_rmsprop_step(X[:, 0], X[:, 1], g, eta, beta, eps_std)
                return np.stack([theta, V], axis=1)

            return step, eta**2

        step_c, tau_c = standard(kappa)
        step_f, _ = standard(kappa / 2)
        Xs_c, Xs_f = X0.copy(), X0.copy()  # the same v0 = ηV0² in the code parametrisation
        Xs_c[:, 1], Xs_f[:, 1] = X0[:, 1] / tau_c, X0[:, 1] / (tau_c / 2)
        Xc, Xf = _paired_chains(
            step_c,
            step_f,
            Xs_c,
            Xs_f,
            round(T / tau_c),
            c["n_paths"],
            d,
            seed,
            PAPER,
            "E9",
            "S2",
            int(kappa),
        )
        diff = mean_with_se(
            evaluate_test_functions(Xc)["theta_sq"] - evaluate_test_functions(Xf)["theta_sq"]
        )
        diffs.append(diff)
        rows.append(
            {
                "study": "S2",
                "regime": "batch_equivalent",
                "tau": tau_c,
                "kappa": kappa,
                "diff_theta_sq": diff.mean,
                "diff_se": diff.se,
            }
        )
    fit = resolved_slope(kappas[1:], diffs)
    metrics |= {
        "S2/kappas": kappas[1:].tolist(),
        "S2/diffs": [e.mean for e in diffs],
        "S2/diff_se": [e.se for e in diffs],
        "S2/diff_slope_in_kappa": fit.slope if fit else None,
    }
    return ExperimentResult({"table": pd.DataFrame(rows)}, metrics)
