"""Wasserstein distances between empirical and exact laws
(docs/least_squares.md#wasserstein-estimation).

* 1-D: the quantile formula against an exact quantile function (no second sample), and
  against a second sample; cross-checked with :func:`scipy.stats.wasserstein_distance` (W₁);
* multi-d: exact optimal transport of two empirical measures with POT (``ot.emd2``), capped in
  sample size because the solve is O(N³); sliced W₂ (``ot.sliced_wasserstein_distance``);
* Gaussian closed form (Bures): a lower bound from first and second moments (Gelbrich);
* the Monte-Carlo bias (floor) of an empirical estimate: the distance between two independent
  samples of the same law, with its standard error over repetitions.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg, stats

from sgdsde.stats import Estimate, mean_with_se


def quantile_wasserstein(sample: np.ndarray, ppf, p: float = 2.0) -> float:
    """``W_p(ρ̂_N, ρ)^p = (1/N)Σ_j |θ_(j) − F⁻¹((j − ½)/N)|^p`` for a 1-D sample
    (docs/least_squares.md#e3)."""
    x = np.sort(np.asarray(sample, dtype=float))
    q = ppf((np.arange(x.size) + 0.5) / x.size)
    return float(np.mean(np.abs(x - q) ** p) ** (1 / p))


def wasserstein_1d(a: np.ndarray, b: np.ndarray, p: float = 2.0) -> float:
    """``W_p`` of two 1-D empirical laws of equal size: sorted samples matched in order."""
    a, b = np.sort(np.ravel(a)), np.sort(np.ravel(b))
    if a.size != b.size:
        raise ValueError("wasserstein_1d: equal sample sizes required")
    return float(np.mean(np.abs(a - b) ** p) ** (1 / p))


def scipy_w1(a: np.ndarray, b: np.ndarray) -> float:
    """SciPy's 1-D W₁ (the cross-check of :func:`wasserstein_1d` with p = 1)."""
    return float(stats.wasserstein_distance(np.ravel(a), np.ravel(b)))


def emd_wasserstein(a: np.ndarray, b: np.ndarray, p: float = 2.0, cap: int = 1000) -> float:
    """Exact ``W_p`` of two empirical laws in ℝ^d by POT's network simplex (``ot.emd2``) on the
    first ``min(N, cap)`` points of each sample (the solve is O(N³): always capped)."""
    a = np.asarray(a, dtype=float).reshape(len(a), -1)[:cap]
    b = np.asarray(b, dtype=float).reshape(len(b), -1)[:cap]
    import ot  # POT imports PyTorch (≈ 3 s): only where a transport problem is solved

    cost = ot.dist(a, b, metric="euclidean") ** p
    wa, wb = np.full(len(a), 1 / len(a)), np.full(len(b), 1 / len(b))
    return float(ot.emd2(wa, wb, cost, numItermax=10_000_000) ** (1 / p))


def sliced_wasserstein(a, b, n_projections: int = 500, seed: int = 0, p: int = 2) -> float:
    """Sliced ``W_p`` (POT), with a fixed projection seed
    (docs/least_squares.md#wasserstein-estimation)."""
    a = np.asarray(a, dtype=float).reshape(len(a), -1)
    b = np.asarray(b, dtype=float).reshape(len(b), -1)
    import ot

    return float(ot.sliced_wasserstein_distance(a, b, n_projections=n_projections, p=p, seed=seed))


def gaussian_w2(m1, C1, m2, C2) -> float:
    """``W₂(N(m1, C1), N(m2, C2))²  = ‖m1 − m2‖² + tr(C1 + C2 − 2(C2^{½}C1C2^{½})^{½})``
    (Bures); a lower bound on W₂ of any laws with these moments (Gelbrich)."""
    m1, m2 = np.atleast_1d(m1), np.atleast_1d(m2)
    C1, C2 = np.atleast_2d(C1), np.atleast_2d(C2)
    r2 = linalg.sqrtm(C2)
    cross = linalg.sqrtm(r2 @ C1 @ r2).real
    w2 = float(np.sum((m1 - m2) ** 2) + np.trace(C1 + C2 - 2 * cross))
    return float(np.sqrt(max(w2, 0.0)))


def empirical_floor(sampler, distance, n_repeats: int) -> Estimate:
    """Monte-Carlo bias of an empirical distance: mean and SE of ``distance(s, s')`` over
    ``n_repeats`` pairs of independent samples ``s, s' = sampler(i)`` of the same law."""
    values = [distance(sampler(2 * i), sampler(2 * i + 1)) for i in range(n_repeats)]
    return mean_with_se(np.array(values))
