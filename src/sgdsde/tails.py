"""Tail-index estimation (docs/least_squares.md#tail-estimation).

The Hill estimator of the k largest radii ``R_(1) ≥ … ≥ R_(k+1)``,
``α̂_k = [k⁻¹ Σ_{j≤k} log(R_(j)/R_(k+1))]⁻¹``. For an exact Pareto(α) tail the k log-spacings
sum to a Gamma(k, 1/α) variable, so ``α̂_k = k/G`` and ``α/α̂_k ~ Gamma(k, 1)/k``: that gives an
exact confidence interval (and SE ≈ α̂/√k). For other laws (Student t, Pearson IV) there is a
second-order bias that grows with k/N: calibrate on exact samples of the reference law.

The exact tail index of a stationary law whose GBM part is ``dη = −Hη dt + σ(η) dB``,
``σσᵀ(η) = γΣ(η)`` with Σ homogeneous quadratic (docs/least_squares.md#lyapunov-exponent): the
moment Lyapunov exponent Λ(p) of ``E‖η_t‖^p``, its root α (d = 2, angular eigenproblem), and the
analytic bracket ``α_low ≤ α ≤ α_up`` in any dimension. ``noise(S)`` returns Σ at the unit
vectors ``S`` (rows), shape ``(n, d, d)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, sparse
from scipy.sparse.linalg import eigs
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


# ------------------------------------------------ moment Lyapunov exponents and α
# (docs/least_squares.md#lyapunov-exponent)
def circle(n_phi: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(φ_j, s_j, e_j)``, φ_j = jπ/N on one period [0, π) of the angular coefficients
    (η ↦ −η leaves them unchanged), ``s = (cos φ, sin φ)``, ``e_φ = (−sin φ, cos φ)``."""
    phi = np.pi * np.arange(n_phi) / n_phi
    return (
        phi,
        np.column_stack([np.cos(phi), np.sin(phi)]),
        np.column_stack([-np.sin(phi), np.cos(phi)]),
    )


def angular_generator(H, noise, gamma: float, p: float, n_phi: int) -> sparse.csc_matrix:
    """``𝓛_p g = ½q_φφ g'' + (b_φ + (p−1)q_rφ) g' + p(b_r + ½q_φφ + ½(p−1)q_rr) g`` with
    ``𝓖(ρ^p g(φ)) = ρ^p 𝓛_p g`` in d = 2 (docs/least_squares.md#lyapunov-exponent): ``b_r = −sᵀHs``,
    ``b_φ = −e_φᵀHs``, ``q_ab`` the entries of γΣ(s) in the frame (s, e_φ). Periodic central
    differences on :func:`circle`, second order in π/N. Its off-diagonal entries are positive for
    a fine grid (a Metzler matrix) and its row sums are the last term."""
    _, S, E = circle(n_phi)
    Q = gamma * noise(S)
    Hs = S @ np.asarray(H).T
    b_r, b_phi = -np.sum(S * Hs, axis=1), -np.sum(E * Hs, axis=1)
    q_rr = np.einsum("ni,nij,nj->n", S, Q, S)
    q_rphi = np.einsum("ni,nij,nj->n", S, Q, E)
    q_pp = np.einsum("ni,nij,nj->n", E, Q, E)
    h = np.pi / n_phi
    diffusion, transport = q_pp / (2 * h**2), (b_phi + (p - 1) * q_rphi) / (2 * h)
    rows = np.arange(n_phi)
    potential = p * (b_r + q_pp / 2 + (p - 1) * q_rr / 2)
    entries = (
        (rows, rows, potential - 2 * diffusion),
        (rows, (rows + 1) % n_phi, diffusion + transport),
        (rows, (rows - 1) % n_phi, diffusion - transport),
    )
    i, j, v = (np.concatenate(parts) for parts in zip(*entries, strict=True))
    return sparse.csc_matrix((v, (i, j)), shape=(n_phi, n_phi))


def moment_lyapunov_exponent(H, noise, gamma: float, p: float, n_phi: int) -> float:
    """``Λ(p) = lim t⁻¹ log E‖η_t‖^p`` in d = 2: the principal eigenvalue of
    :func:`angular_generator`. For a Metzler matrix A and σ above its largest row sum, (σ − A)⁻¹
    is positive with Perron root 1/(σ − Λ): Λ is the eigenvalue nearest σ, found by
    shift-invert from a fixed start vector."""
    A = angular_generator(H, noise, gamma, p, n_phi)
    shift = float(A.sum(axis=1).max()) + 1.0
    value = eigs(A, k=1, sigma=shift, which="LM", v0=np.ones(n_phi), return_eigenvectors=False)
    return float(value[0].real)


def lyapunov_tail_index(H, noise, gamma: float, n_phi: int, p_min: float = 0.5) -> float:
    """The tail index α: the root of ``Λ(α) = 0`` on (p_min, ∞), with Λ < 0 on (0, α)
    (docs/least_squares.md#lyapunov-exponent); the upper end is doubled until Λ > 0."""
    lam = lambda p: moment_lyapunov_exponent(H, noise, gamma, p, n_phi)  # noqa: E731
    if lam(p_min) >= 0:
        raise ValueError(f"Λ({p_min}) ≥ 0 at γ = {gamma:g}: no tail index above {p_min}")
    hi = 2 * p_min
    while lam(hi) < 0:
        hi *= 2
    return float(optimize.brentq(lam, p_min, hi, xtol=1e-10))


def sphere_extrema(f, directions: np.ndarray) -> tuple[float, float]:
    """``(min, max)`` of ``f`` (vectorised over rows of unit vectors) on the sphere: the best of
    ``directions``, refined by Nelder–Mead on ``v ↦ f(v/‖v‖)``."""
    values = f(directions)
    out = []
    for sign, best in ((1, np.argmin(values)), (-1, np.argmax(values))):
        res = optimize.minimize(
            lambda v, sign=sign: sign * f((v / np.linalg.norm(v))[None])[0],
            directions[best],
            method="Nelder-Mead",
            options={"xatol": 1e-12, "fatol": 1e-14, "maxiter": 4000},
        )
        out.append(min(sign * values[best], res.fun) * sign)
    return out[0], out[1]


def lyapunov_ratio(H, noise, gamma: float):
    """``s ↦ (2sᵀHs/γ − tr Σ(s))/sᵀΣ(s)s``: ``V_p(s) = 𝓖‖η‖^p/‖η‖^p`` is negative iff
    p − 2 is below it (docs/least_squares.md#lyapunov-exponent)."""

    def f(S):
        sigma = noise(S)
        sHs = np.einsum("ni,ij,nj->n", S, np.asarray(H), S)
        q4 = np.einsum("ni,nij,nj->n", S, sigma, S)
        return (2 * sHs / gamma - np.trace(sigma, axis1=1, axis2=2)) / q4

    return f


def alpha_bracket(H, noise, gamma: float, directions: np.ndarray) -> tuple[float, float]:
    """``(α_low, α_up) = 2 + (min, max)`` of :func:`lyapunov_ratio` over the sphere:
    ``min_s V_p ≤ Λ(p) ≤ max_s V_p`` brackets the root of Λ in any d
    (docs/least_squares.md#lyapunov-exponent)."""
    low, high = sphere_extrema(lyapunov_ratio(H, noise, gamma), directions)
    return 2 + low, 2 + high


def crude_alpha_upper(H, noise, gamma: float, directions: np.ndarray) -> float:
    """``1 + max_s 2sᵀHs/(γ sᵀΣ(s)s)`` ≥ α_up, since tr Σ ≥ sᵀΣs
    (docs/least_squares.md#lyapunov-exponent)."""

    def f(S):
        sHs = np.einsum("ni,ij,nj->n", S, np.asarray(H), S)
        return 2 * sHs / (gamma * np.einsum("ni,nij,nj->n", S, noise(S), S))

    return 1 + sphere_extrema(f, directions)[1]


def polynomial_generator(H, noise, gamma: float, p: int) -> np.ndarray:
    """The generator ``𝓖f = −(Hη)·∇f + ½tr(γΣ(η)∇²f)`` on homogeneous polynomials of degree p in
    d = 2, in the monomial basis ``η_1^a η_2^{p−a}`` (column a = the coefficients of 𝓖 of the a-th
    monomial). 𝓖 maps this space into itself, so for even p its spectral abscissa is Λ(p)
    (docs/least_squares.md#lyapunov-exponent). The coefficients are read off p + 1 point values,
    which determine a polynomial of this space."""
    a = np.arange(p + 1)
    phi = (np.arange(p + 1) + 0.5) * np.pi / (p + 1)
    eta = np.column_stack([np.cos(phi), np.sin(phi)])
    x, y = eta[:, :1], eta[:, 1:]
    b = p - a
    grad = np.stack([a * _pw(x, a - 1) * _pw(y, b), b * _pw(x, a) * _pw(y, b - 1)], axis=-1)
    hess = np.empty((p + 1, p + 1, 2, 2))
    hess[..., 0, 0] = a * (a - 1) * _pw(x, a - 2) * _pw(y, b)
    hess[..., 0, 1] = hess[..., 1, 0] = a * b * _pw(x, a - 1) * _pw(y, b - 1)
    hess[..., 1, 1] = b * (b - 1) * _pw(x, a) * _pw(y, b - 2)
    drift = -eta @ np.asarray(H).T
    values = np.einsum("ni,nai->na", drift, grad) + 0.5 * gamma * np.einsum(
        "nij,naij->na", noise(eta), hess
    )
    return np.linalg.solve(_pw(x, a) * _pw(y, b), values)


def _pw(x: np.ndarray, k: np.ndarray) -> np.ndarray:
    """``x^k`` elementwise with ``x^k = 0`` for negative k (the derivative of a lower power)."""
    return np.where(k >= 0, x ** np.maximum(k, 0), 0.0)
