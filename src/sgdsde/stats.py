"""Weak-error estimates with standard errors, and log-log rate fits.

A rate is a claim about ``|e(h)| ≈ C h^q``. :func:`pairwise_slopes` gives the local orders
``log(|e_k|/|e_{k+1}|)/log(h_k/h_{k+1})`` that the specs' pass criteria use and
:func:`exact_order` their Richardson extrapolation for exact errors; :func:`fit_loglog_slope`
gives a least-squares order with a confidence interval, weighted by the standard errors when the
errors are Monte-Carlo estimates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri, stdtrit


@dataclass(frozen=True)
class Estimate:
    """A Monte-Carlo mean with its standard error."""

    mean: float
    se: float


def mean_with_se(samples: np.ndarray) -> Estimate:
    """Sample mean and its standard error ``s/√M``."""
    samples = np.asarray(samples, dtype=float)
    return Estimate(float(samples.mean()), float(samples.std(ddof=1) / np.sqrt(samples.size)))


def weak_error(g_discrete: np.ndarray, g_continuous: np.ndarray, coupled: bool) -> Estimate:
    """``E g(discrete) − E g(continuous)`` with its standard error.

    Coupled samples (driven by the same noise, paired by index) use the variance of the
    pathwise difference; independent samples add the two variances.
    """
    if coupled:
        return mean_with_se(np.asarray(g_discrete) - np.asarray(g_continuous))
    a, b = mean_with_se(g_discrete), mean_with_se(g_continuous)
    return Estimate(a.mean - b.mean, float(np.hypot(a.se, b.se)))


@dataclass(frozen=True)
class PairedDifference:
    """``mean(a − b)`` over paired runs, its SE ``s/√n`` and the Student-t 95 % CI (``None``
    with fewer than two pairs: one pair says nothing about the spread)."""

    mean: float
    se: float | None
    ci: tuple[float, float] | None
    n: int


def paired_difference(a, b, level: float = 0.95) -> PairedDifference:
    """The paired comparison of two methods run on the same seeds (docs/methods.md#paired)."""
    diff = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    n = diff.size
    if n < 2:
        return PairedDifference(float(diff.mean()), None, None, n)
    se = float(diff.std(ddof=1) / np.sqrt(n))
    half = float(stdtrit(n - 1, 0.5 + level / 2)) * se
    return PairedDifference(float(diff.mean()), se, (diff.mean() - half, diff.mean() + half), n)


def talay_tubaro(fine: np.ndarray, coarse: np.ndarray) -> np.ndarray:
    """The Richardson–Talay–Tubaro extrapolation ``2 g(Y^δ) − g(Y^{2δ})`` of a weak-order-1 scheme
    on the grids δ and 2δ: its weak error is O(δ²) (docs/momentum_approx.md#pitfalls P2)."""
    return 2 * np.asarray(fine) - np.asarray(coarse)


def control_variate_estimate(diff: np.ndarray, cv: np.ndarray | None):
    """``mean(diff − CV·β̂)`` and its SE, β̂ the least-squares coefficients of ``diff`` on
    ``[1, CV]``; the raw CV (true mean 0) is subtracted, not a sample-centred one
    (docs/adaptive_sde.md#coupling)."""
    n = len(diff)
    if cv is None or not np.any(cv):
        return float(diff.mean()), float(diff.std(ddof=1) / np.sqrt(n))
    design = np.column_stack([np.ones(n), cv])
    beta = np.linalg.lstsq(design, diff, rcond=None)[0][1:]
    adjusted = diff - cv @ beta
    return float(adjusted.mean()), float(adjusted.std(ddof=1) / np.sqrt(n))


def pairwise_slopes(h: np.ndarray, err: np.ndarray) -> np.ndarray:
    """Local orders between consecutive step sizes: ``log(|e_k|/|e_{k+1}|)/log(h_k/h_{k+1})``."""
    h, err = np.asarray(h, dtype=float), np.abs(np.asarray(err, dtype=float))
    return np.log(err[:-1] / err[1:]) / np.log(h[:-1] / h[1:])


@dataclass(frozen=True)
class ExactOrder:
    """The order of exact errors, its interval and the last local order it extrapolates."""

    order: float
    ci_low: float
    ci_high: float
    last: float


def exact_order(h: np.ndarray, err: np.ndarray) -> ExactOrder:
    """The order of exact (deterministic) errors on a halving ladder h₀ > h₁ > … (h_{k+1} = h_k/2).

    Exact errors carry no sampling error but truncation: with ``e = C h^p (1 + O(h))`` the local
    order of the halving h → h/2 is ``p + O(h)``, so the order is the Richardson extrapolation
    ``2 p_last − p_prev`` of the last two local orders and the interval spans it and ``p_last``
    (docs/custom.md#exact)."""
    local = pairwise_slopes(h, err)
    if len(local) < 2:
        raise ValueError("an exact order needs at least three step sizes")
    order, last = float(2 * local[-1] - local[-2]), float(local[-1])
    return ExactOrder(order, min(order, last), max(order, last), last)


@dataclass(frozen=True)
class SlopeFit:
    """``log|e| = intercept + slope·log h`` with a confidence interval on the slope."""

    slope: float
    intercept: float
    stderr: float
    ci_low: float
    ci_high: float


def fit_loglog_slope(
    h: np.ndarray, err: np.ndarray, se: np.ndarray | None = None, level: float = 0.95
) -> SlopeFit:
    """Least-squares slope of ``log|e|`` against ``log h``.

    Without ``se`` (exact errors) the interval is the usual t-interval from the residuals and
    measures how far the points are from a straight line. With ``se`` the fit is weighted by
    ``1/σ²``, ``σ = se/|e|`` (delta method), and the interval is the normal one from the
    propagated Monte-Carlo error.
    """
    x, y = np.log(np.asarray(h, dtype=float)), np.log(np.abs(np.asarray(err, dtype=float)))
    if len(x) < 3:
        raise ValueError("a slope with an interval needs at least three step sizes")
    exact = se is None
    sigma = np.ones_like(x) if exact else np.asarray(se, dtype=float) / np.exp(y)
    X = np.column_stack([np.ones_like(x), x]) / sigma[:, None]
    cov = np.linalg.inv(X.T @ X)
    coef = cov @ X.T @ (y / sigma)
    if exact:  # the scatter about the line sets the error
        residual = y - coef[0] - coef[1] * x
        cov = cov * (residual @ residual) / (len(x) - 2)
        q = stdtrit(len(x) - 2, 0.5 + level / 2)
    else:
        q = ndtri(0.5 + level / 2)
    slope, stderr = float(coef[1]), float(np.sqrt(cov[1, 1]))
    return SlopeFit(slope, float(coef[0]), stderr, slope - q * stderr, slope + q * stderr)


def variance_combination(samples: list[np.ndarray], weights: list[float]) -> Estimate:
    """``Σ_j w_j Var(s_j)`` over paired (coupled) samples, with the delta-method standard error
    from the per-path influence ``Σ_j w_j (s_j − s̄_j)²``. ``Var x − Var y`` is weights (1, −1);
    a Talay–Tubaro reference is ``Var x − [2 Var y^δ − Var y^{2δ}]``, weights (1, −2, 1)."""
    n = np.shape(samples[0])[0]
    parts = [np.broadcast_to(np.asarray(s, dtype=float), (n,)) for s in samples]
    influence = sum(w * (s - s.mean()) ** 2 for w, s in zip(weights, parts, strict=True))
    value = sum(w * s.var(ddof=1) for w, s in zip(weights, parts, strict=True))
    return Estimate(float(value), float(np.std(influence, ddof=1) / np.sqrt(n)))


def variance_with_se(x: np.ndarray) -> Estimate:
    """Sample variance with the delta-method standard error ``sd((x − x̄)²)/√M``."""
    return variance_combination([x], [1.0])


def jackknife_se(leave_one_out: np.ndarray) -> float:
    """Delete-a-group jackknife standard error ``√((G−1)/G Σ_g (θ_(g) − θ̄)²)`` from the G
    estimates that each leave one group of paths out (for statistics with no closed-form SE,
    such as a rate fitted to a Wasserstein curve)."""
    theta = np.asarray(leave_one_out, dtype=float)
    G = len(theta)
    return float(np.sqrt((G - 1) / G * np.sum((theta - theta.mean()) ** 2)))


def bonferroni_z(m: int, level: float = 0.05) -> float:
    """The two-sided bound ``z* = Φ⁻¹(1 − level/(2m))`` that m z-scores stay under together with
    probability ≥ 1 − level when each is N(0, 1) (Bonferroni; any dependence between them)."""
    if m < 1:
        raise ValueError(f"a family of comparisons needs m ≥ 1, got {m}")
    return float(ndtri(1 - level / (2 * m)))


def resolved(estimates: list[Estimate], ratio: float = 4.0) -> np.ndarray:
    """Which Monte-Carlo errors are resolved: ``SE ≤ |estimate|/ratio`` (the specs' rule for
    claiming a rate from Monte Carlo is ``SE ≤ bias/4``)."""
    return np.array([e.se * ratio <= abs(e.mean) for e in estimates])


def resolved_slope(
    h: np.ndarray, estimates: list[Estimate], min_points: int = 3
) -> SlopeFit | None:
    """SE-weighted log-log slope over the resolved step sizes only; None if fewer than
    ``min_points`` are resolved (then no rate may be claimed)."""
    ok = resolved(estimates)
    if ok.sum() < min_points:
        return None
    h = np.asarray(h, dtype=float)[ok]
    kept = [e for e, keep in zip(estimates, ok, strict=True) if keep]
    return fit_loglog_slope(h, [e.mean for e in kept], se=[e.se for e in kept])
