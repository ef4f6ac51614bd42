"""E4 of arXiv 2504.13992: O(1/k²) in the convex case (docs/momentum_approx.md#e4; Su, Boyd and
Candès 2016).

Regime B with ``U ≡ 1``, ``V(t) = 3/t`` is the ODE ``X'' + (3/t)X' + ∇F(X) = 0``; with ``η = s``
and ``ζ_k = (k−1)/(k+2)`` heavy ball is its discretisation (``t = k√s``). The instance is the
quadratic ``F = ½ Σ λ_i x_i²`` with a log-spaced spectrum and a flat start, on which GD is
``Θ(1/k)`` and accelerated methods ``Θ(1/k²)`` for ``1 ≪ k ≪ 1/λ_min``. The ODE has the closed
form ``X_i(t) = x_{0,i} · 2 J₁(√λ_i t)/(√λ_i t)``, so no numerical ODE solve is needed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import j1

from sgdsde.engine import Paths
from sgdsde.experiments import ExperimentResult
from sgdsde.experiments.momentum_approx.common import PAPER
from sgdsde.optimizers import heavy_ball_step, nesterov_step
from sgdsde.problems import DiagonalQuadratic
from sgdsde.stats import fit_loglog_slope


def _momentum(k: int) -> float:
    """``ζ_k = (k−1)/(k+2)``."""
    return (k - 1) / (k + 2)


def _run(method: str, problem, x0, s: float, K: int, noise=None) -> np.ndarray:
    """``f(x_k) − f*`` for k = 0..K (rows: paths). ``noise[k]`` is added to the gradient."""
    x = x_prev = np.atleast_2d(x0).astype(float)
    gaps = [problem.value(x)]
    for k in range(1, K + 1):
        xi = 0.0 if noise is None else noise[k - 1]
        field = lambda y, xi=xi: problem.mean_field(y) - xi  # noqa: E731
        zeta = 0.0 if method == "gd" else _momentum(k)
        if method == "nag":
            x, x_prev = nesterov_step(x, x_prev, s, zeta, field), x
        else:
            x, x_prev = heavy_ball_step(x, x_prev, s, zeta, field(x)), x
        gaps.append(problem.value(x))
    return np.array(gaps).T


def ode_gap(lam: np.ndarray, x0: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``F(X_t) − F*`` of the Su–Boyd–Candès ODE from rest, in closed form (Bessel J₁)."""
    z = np.sqrt(lam)[None, :] * t[:, None]
    ratio = np.where(z > 1e-8, 2 * j1(z) / np.where(z > 1e-8, z, 1.0), 1.0)
    return 0.5 * np.sum(lam * (x0 * ratio) ** 2, axis=1)


def envelope_slope(k: np.ndarray, gap: np.ndarray, window: list[float]) -> float:
    """Log-log slope of the upper envelope ``max_{j ≥ k} gap_j`` over ``k ∈ window``."""
    envelope = np.maximum.accumulate(gap[::-1])[::-1]
    points = np.unique(np.searchsorted(k, np.geomspace(window[0], window[1], 60)))
    return fit_loglog_slope(k[points], envelope[points]).slope


def run_E4(cfg: dict, seed: int) -> ExperimentResult:
    c = cfg["E4"]
    lam = np.logspace(c["log10_lambda"][0], c["log10_lambda"][1], c["n_coordinates"])
    problem = DiagonalQuadratic(lam)
    x0, s, K = np.ones_like(lam), 1.0 / lam.max(), c["iterations"]
    bound = 2 * np.sum(x0**2) / s
    k = np.arange(K + 1)
    gaps = {m: _run(m, problem, x0, s, K)[0] for m in ("gd", "hb", "nag")}
    t_grid = np.geomspace(*c["ode_t_range"], 400)
    gaps_ode = ode_gap(lam, x0, t_grid)
    metrics = {f"{m}/envelope_slope": envelope_slope(k, g, c["window"]) for m, g in gaps.items()}
    t_env = np.arange(c["window"][0], c["window"][1] + 1, 0.25 * np.sqrt(s))  # resolves the ripples
    metrics["ode/envelope_slope"] = envelope_slope(t_env, ode_gap(lam, x0, t_env), c["window"])
    for m, g in gaps.items():
        metrics[f"{m}/bound_ratio"] = float(np.max((k + 1) ** 2 * g) / bound)
    metrics["ode/bound_ratio"] = float(np.max(t_grid**2 * gaps_ode) / (2 * np.sum(x0**2)))
    shown = np.unique(np.geomspace(1, K, 300).astype(int))
    rows = [
        {"method": m, "k": int(j), "t": j * np.sqrt(s), "gap": g[j]}
        for m, g in gaps.items()
        for j in shown
    ]
    rows += [
        {"method": "ode", "k": np.nan, "t": t, "gap": g}
        for t, g in zip(t_grid, gaps_ode, strict=True)
    ]
    rows += [
        {"method": "bound", "k": int(j), "t": j * np.sqrt(s), "gap": bound / (j + 1) ** 2}
        for j in shown
    ]

    noisy, plateau = _stochastic_addendum(problem, x0, s, c, seed)
    metrics |= plateau
    return ExperimentResult({"table": pd.DataFrame(rows), "noisy": noisy}, metrics)


def _stochastic_addendum(problem, x0, s, c, seed):
    """Gradient noise σ (docs/momentum_approx.md#e4's addendum). Reports the late log-log slope of
    the mean gap on ``k ∈ [K/10, K]`` (0 for a plateau) and the level at σ and 2σ with the same
    normals (ratio 4 if the level scales like σ²). Heavy ball's ``ζ_k → 1`` makes its effective rate
    ``η/(1 − ζ_k) = η(k+2)/3`` grow, so its noise-driven gap grows like k instead of levelling."""
    a = c["stochastic"]
    K, n = c["iterations"], a["n_paths"]
    paths = Paths(n)  # each pass over the chunks draws the same normals: σ and 2σ share them
    late = np.arange(K + 1) >= K // 2
    shown = np.unique(np.geomspace(1, K, 300).astype(int))
    rows, metrics = [], {}
    for m in ("gd", "hb"):
        levels = []
        for sigma in (a["sigma"], 2 * a["sigma"]):
            gaps = [
                _run(
                    m,
                    problem,
                    np.tile(x0, (chunk.n, 1)),
                    s,
                    K,
                    sigma * chunk.normals(problem.dim, lead=(K,)),
                )
                for chunk in paths.chunks(seed, PAPER, "E4", "noise")
            ]
            mean_gap = np.concatenate(gaps).mean(axis=0)
            levels.append(mean_gap[late].mean())
            if sigma == a["sigma"]:
                k_late = np.unique(np.geomspace(K // 10, K, 60).astype(int))
                metrics[f"{m}/late_slope"] = fit_loglog_slope(k_late, mean_gap[k_late]).slope
            rows += [{"method": m, "sigma": sigma, "k": int(j), "gap": mean_gap[j]} for j in shown]
        metrics[f"{m}/plateau_over_eta_sigma2"] = float(levels[0] / (s * a["sigma"] ** 2))
        metrics[f"{m}/plateau_ratio_2sigma"] = float(levels[1] / levels[0])

    return pd.DataFrame(rows), metrics
