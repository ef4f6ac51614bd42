"""Tail-index estimation (docs/least_squares.md#tail-estimation).

The Hill estimator of the k largest radii ``R_(1) ≥ … ≥ R_(k+1)``,
``α̂_k = [k⁻¹ Σ_{j≤k} log(R_(j)/R_(k+1))]⁻¹``. For an exact Pareto(α) tail the k log-spacings
sum to a Gamma(k, 1/α) variable, so ``α̂_k = k/G`` and ``α/α̂_k ~ Gamma(k, 1)/k``: that gives an
exact confidence interval (and SE ≈ α̂/√k). For other laws (Student t, Pearson IV) there is a
second-order bias that grows with k/N: calibrate on exact samples of the reference law.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import gammaincinv


@dataclass(frozen=True)
class HillEstimate:
    alpha: float
    se: float
    ci_low: float
    ci_high: float
    k: int


def hill(radii: np.ndarray, k: int, level: float = 0.95) -> HillEstimate:
    """Hill's estimator on the ``k`` largest of ``|radii|`` with the exact Pareto interval."""
    r = np.abs(np.ravel(radii))
    if not 1 <= k < r.size:
        raise ValueError(f"hill: need 1 ≤ k < N, got k = {k}, N = {r.size}")
    top = -np.partition(-r, k)[: k + 1]
    top = np.sort(top)[::-1]
    alpha = 1.0 / np.mean(np.log(top[:k] / top[k]))
    lo, hi = gammaincinv(k, (1 - level) / 2) / k, gammaincinv(k, (1 + level) / 2) / k
    return HillEstimate(
        float(alpha), float(alpha / np.sqrt(k)), float(alpha * lo), float(alpha * hi), int(k)
    )


def survival(radii: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Empirical ``P(|X| > r)`` at the points ``r``."""
    x = np.sort(np.abs(np.ravel(radii)))
    return 1 - np.searchsorted(x, r, side="right") / x.size
