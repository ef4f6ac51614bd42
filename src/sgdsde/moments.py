"""Exact means and covariances of linear-Gaussian optimisers and their continuous models.

For a quadratic objective with additive Gaussian noise (docs/momentum_approx.md#exact-moments), the
discrete iterates and every continuous approximation are Gaussian, so each weak error is a
deterministic number. The matrices of docs/momentum_approx.md#exact-moments are not typed in a
second time: they are read off the models' own step, drift and diffusion functions by
:func:`affine_map`, which is exact for affine maps. The closed forms therefore check the very code
the Monte-Carlo simulations run.

* discrete:   ``m_{n+1} = M_n m_n + c_n``,  ``P_{n+1} = M_n P_n M_nᵀ + B_n Σ̄_n B_nᵀ``
(docs/momentum_approx.md#exact-moments)
* continuous: ``m' = F m + c``,  ``P' = F P + P Fᵀ + E_t Σ̄(t) E_tᵀ``  (Lyapunov, DOP853)
(docs/momentum_approx.md#exact-moments)

``Σ̄ = E[Σ(x)]`` is the oracle's noise covariance averaged over the current law of x: constant
for additive Gaussian noise, and the exact moment closure of docs/momentum_approx.md#exact-moments
for finite-sum least squares, whose Σ(x) is quadratic in x. The recursions are exact whenever the
maps are affine; for state-dependent noise the laws are not Gaussian, so only test functions of
degree ≤ 2 are exact (``GaussianPath.expectation`` uses nothing but the first two moments for
those).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.integrate import solve_ivp

from sgdsde.sde import Approximation

ODE_TOLERANCES = {"method": "DOP853", "rtol": 1e-13, "atol": 1e-15}


@dataclass(frozen=True)
class GaussianPath:
    """Means ``(n_times, m)`` and covariances ``(n_times, m, m)`` of a Gaussian process."""

    t: np.ndarray
    mean: np.ndarray
    cov: np.ndarray

    def expectation(self, g, block: int) -> np.ndarray:
        """``E g(Y_t[:block])`` at every stored time."""
        return g.gaussian_mean(self.mean[:, :block], self.cov[:, :block, :block])


def affine_map(f: Callable[[np.ndarray], np.ndarray], dim_in: int) -> tuple[np.ndarray, np.ndarray]:
    """``(M, c)`` with ``f(y) = M y + c`` for an affine, row-batched f: one call on ``[0; I]``.

    If f also maps over leading axes (e.g. a column of times), M and c carry them too."""
    out = f(np.vstack([np.zeros(dim_in), np.eye(dim_in)]))
    c = out[..., 0, :]
    return np.swapaxes(out[..., 1:, :] - c[..., None, :], -1, -2), c


def n_steps(T: float, h: float) -> int:
    """``N = T/h``, which must be an integer (the admissible set 𝓗 of
    docs/momentum_approx.md#scalings)."""
    N = round(T / h)
    if N < 1 or not np.isclose(N * h, T, rtol=1e-12, atol=0.0):
        raise ValueError(f"T/h must be a positive integer, got T={T}, h={h}")
    return N


def discrete_moments(model, h: float, T: float) -> GaussianPath:
    """Exact law of the discrete optimiser on the grid ``t_n = n h``, ``n = 0..T/h``
    (docs/momentum_approx.md#exact-moments)."""
    N = n_steps(T, h)
    m = model.initial_discrete(h)
    dim, d = len(m), model.dim
    times = h * np.arange(N)[:, None]  # a column: the step maps of all n in one call

    def step(yxi):  # the update along H = H̄(x, t_n) + ξ, affine in (Y, ξ)
        Y, xi = yxi[:, :dim], yxi[:, dim:]
        return model.discrete_update(times, h, Y, model.mean_field(times, Y[:, :d]) + xi)

    MB, c = affine_map(step, dim + d)
    MB, c = np.broadcast_to(MB, (N, dim, dim + d)), np.broadcast_to(c, (N, dim))
    M, B = MB[..., :dim], MB[..., dim:]
    means, covs = np.empty((N + 1, dim)), np.empty((N + 1, dim, dim))
    means[0], covs[0] = m, 0.0
    for n in range(N):
        noise = model.oracle.expected_covariance(
            model.centred(n * h, means[n, :d]), covs[n, :d, :d]
        )
        means[n + 1] = M[n] @ means[n] + c[n]
        covs[n + 1] = M[n] @ covs[n] @ M[n].T + B[n] @ noise @ B[n].T
    return GaussianPath(h * np.arange(N + 1), means, covs)


def linearised_drift(model, t: float, h: float, approximation: Approximation, dim: int):
    """``(F, c)`` of the affine drift ``Y ↦ F Y + c`` at time t."""
    return affine_map(lambda Y: model.drift(t, h, Y, approximation), dim)


def continuous_moments(
    model, h: float, T: float, approximation: Approximation, t_eval: np.ndarray | None = None
) -> GaussianPath:
    """Exact law of a linear continuous model by its mean and Lyapunov ODEs
    (docs/momentum_approx.md#exact-moments)."""
    return continuous_moments_ladder(model, [h], T, approximation, t_eval)[0]


def continuous_moments_ladder(
    model, hs, T: float, approximation: Approximation, t_eval: np.ndarray | None = None
) -> list[GaussianPath]:
    """:func:`continuous_moments` for several step sizes h in one ODE system.

    Every approximation's drift is affine in h, ``J0 + h·b1`` (order 1: ``b1 = 0``), and its
    diffusion is ``√h·E_t Σ^{1/2}``, so two linearisations per time (at h = 0 and h = 1) serve
    the whole ladder: ``F_h = F_0 + h(F_1 − F_0)``, noise ``h·E_t Σ̄ E_tᵀ`` with ``E_t`` at h = 1.
    """
    hs = np.asarray(hs, dtype=float)
    m0 = np.array([model.initial_continuous(h, approximation) for h in hs])
    K, dim, d = len(hs), m0.shape[1], model.dim
    scale = hs[:, None, None]

    def rhs(t, y):
        y = y.reshape(K, dim + dim * dim)
        m, P = y[:, :dim], y[:, dim:].reshape(K, dim, dim)
        F, c = linearised_drift(model, t, 0.0, approximation, dim)
        if approximation.order == 2:
            F1, c1 = linearised_drift(model, t, 1.0, approximation, dim)
            F, c = F + scale * (F1 - F), c + hs[:, None] * (c1 - c)
        F = np.broadcast_to(F, (K, dim, dim))
        E = model.noise_embedding(t, 1.0, approximation)
        noise = model.oracle.expected_covariance(model.centred(t, m[:, :d]), P[:, :d, :d])
        noise = scale * (E @ noise @ E.T)
        dm = np.einsum("kij,kj->ki", F, m) + c
        dP = F @ P + P @ np.swapaxes(F, 1, 2) + noise
        return np.concatenate([dm, dP.reshape(K, -1)], axis=1).ravel()

    t_eval = np.array([T]) if t_eval is None else np.asarray(t_eval)
    y0 = np.concatenate([m0, np.zeros((K, dim * dim))], axis=1).ravel()
    sol = solve_ivp(rhs, (0.0, T), y0, t_eval=t_eval, **ODE_TOLERANCES)
    if not sol.success:
        raise RuntimeError(f"Lyapunov ODE failed for {approximation.name}, h={hs}: {sol.message}")
    y = sol.y.reshape(K, dim + dim * dim, -1)
    return [GaussianPath(sol.t, y[k, :dim].T, y[k, dim:].T.reshape(-1, dim, dim)) for k in range(K)]


def leading_error_coefficient(model, T: float, g, approximation: Approximation) -> float:
    """φ̄ with ``E g(Y_N) − E g(Y(T)) = h φ̄ + O(h²)`` for ODE or SDE1 (docs/momentum_approx.md#sde2
    and docs/momentum_approx.md#phibar).

    For a linear model and ``g(Y) = YᵀQ̃Y + w̃ᵀY`` on the x-block, with ``R(t) = Φ(T,t)ᵀQ̃Φ(T,t)``
    and ``r(t) = Φ(T,t)ᵀw̃`` (backward ODEs ``R' = −(FᵀR + RF)``, ``r' = −Fᵀr``)::

        φ̄_SDE1 = ∫_0^T (2 R m + r)·(B1 m) dt,      B1 = J1 − ½(Ḟ + F²) = F2(t; h=1) − F(t)
        φ̄_ODE  = φ̄_SDE1 + ∫_0^T tr(G Gᵀ R) dt,     G = diffusion at h = 1

    where m(t) is the ODE mean. Only polynomial g of degree ≤ 2, linear (c = 0) models and
    additive noise.
    """
    if approximation.order != 1:
        raise ValueError("φ̄ is the leading coefficient of the first-order approximations")
    form = g.quadratic_form()
    if form is None:
        raise ValueError(f"φ̄ needs a polynomial test function of degree ≤ 2, got {g}")
    first, second = (
        approximation,
        Approximation("b1", order=2, noisy=True, shifted=False, weak_order=2),
    )
    m0 = model.initial_continuous(1.0, first)
    dim, d = len(m0), model.dim
    if np.any(linearised_drift(model, 0.0, 1.0, first, dim)[1]):
        raise ValueError("φ̄ formula implemented for linear models (x* = 0) only")

    forward = solve_ivp(
        lambda t, m: linearised_drift(model, t, 1.0, first, dim)[0] @ m,
        (0.0, T),
        m0,
        dense_output=True,
        **ODE_TOLERANCES,
    )

    def backward(t, y):
        R, r = y[: dim * dim].reshape(dim, dim), y[dim * dim : -1]
        F = linearised_drift(model, t, 1.0, first, dim)[0]
        B1 = linearised_drift(model, t, 1.0, second, dim)[0] - F
        m = forward.sol(t)
        integrand = (2 * R @ m + r) @ (B1 @ m)
        if not approximation.noisy:
            E = model.noise_embedding(t, 1.0, second)
            integrand += np.trace(
                E @ model.oracle.expected_covariance(m[:d], np.zeros((d, d))) @ E.T @ R
            )
        return np.concatenate([-(F.T @ R + R @ F).ravel(), -F.T @ r, [-integrand]])

    Q, w = np.zeros((dim, dim)), np.zeros(dim)
    Q[:d, :d], w[:d] = form
    y_T = np.concatenate([Q.ravel(), w, [0.0]])
    sol = solve_ivp(backward, (T, 0.0), y_T, **ODE_TOLERANCES)
    return float(sol.y[-1, -1])


class NotLinearGaussianError(ValueError):
    """A model's maps are not affine with additive noise, so its law is not Gaussian."""


def _probe_rows(dim: int) -> np.ndarray:
    """Two fixed points, of scales 1 and 3, at which a map read off by :func:`affine_map` must
    agree with the map itself (deterministic: the probe draws nothing)."""
    u = np.cos(0.7 * np.arange(1, dim + 1) + 0.3)
    return np.stack([u, -3.0 * u[::-1]])


def checked_affine_map(f, dim_in: int, label: str) -> tuple[np.ndarray, np.ndarray]:
    """:func:`affine_map` of a row-batched f, refused with :class:`NotLinearGaussianError` naming
    ``label`` unless f equals ``M y + c`` at the probe points (to 1e-9 relative)."""
    M, c = affine_map(f, dim_in)
    probe = _probe_rows(dim_in)
    value, linear = f(probe), probe @ M.T + c
    scale = 1.0 + np.max(np.abs(value), initial=0.0)
    if not np.all(np.isfinite(value)) or np.max(np.abs(value - linear)) > 1e-9 * scale:
        raise NotLinearGaussianError(f"{label} is not affine")
    return M, c


def _flat(state: np.ndarray) -> np.ndarray:
    return state.reshape(len(state), -1)


def _state_and_noise(rows: np.ndarray, shape: tuple, noise_shape: tuple):
    """Rows ``[X; z]`` of a joint probe split into states of ``shape`` and noise of
    ``noise_shape``."""
    D = int(np.prod(shape))
    return rows[:, :D].reshape(-1, *shape), rows[:, D:].reshape(-1, *noise_shape)


def position_law(model, shape: tuple, mean: np.ndarray, cov: np.ndarray):
    """The law ``N(Π m + π, Π P Πᵀ)`` of ``position(X)`` for ``X ~ N(m, P)``, position affine."""
    Pi, pi = checked_affine_map(
        lambda y: _flat(model.position(y.reshape(-1, *shape))),
        len(mean),
        f"{type(model).__name__}.position",
    )
    return Pi @ mean + pi, Pi @ cov @ Pi.T


def optimizer_law(optimizer, h: float, T: float) -> tuple[np.ndarray, np.ndarray]:
    """Exact mean and covariance of ``position(X_N)``, ``N = T/h``, of an optimiser on the
    engine's protocol whose step is affine in the state and the noise (docs/custom.md#exact):

        ``X_{n+1} = M_n X_n + B_n z_n + c_n``:  ``m_{n+1} = M_n m_n + c_n``,
        ``P_{n+1} = M_n P_n M_nᵀ + B_n B_nᵀ``  (z_n standard normal).
    """
    X0 = np.asarray(optimizer.initial_state(), dtype=float)
    shape, noise_shape = X0.shape, tuple(optimizer.noise_shape)
    D, q = X0.size, int(np.prod(noise_shape))
    mean, cov = X0.ravel(), np.zeros((D, D))
    label = f"{type(optimizer).__name__}.step"
    for n in range(n_steps(T, h)):

        def step(rows, t=n * h):
            return _flat(np.asarray(optimizer.step(t, *_state_and_noise(rows, shape, noise_shape))))

        MB, c = checked_affine_map(step, D + q, label)
        M, B = MB[:, :D], MB[:, D:]
        mean, cov = M @ mean + c, M @ cov @ M.T + B @ B.T
    return position_law(optimizer, shape, mean, cov)


def model_law(model, T: float) -> tuple[np.ndarray, np.ndarray]:
    """Exact mean and covariance of ``position(X_T)`` for a continuous model on the engine's
    protocol with affine drift ``F_t X + c_t`` and additive diffusion ``G_t dW``
    (docs/custom.md#exact), by the mean and Lyapunov ODEs

        ``m' = F_t m + c_t``,  ``P' = F_t P + P F_tᵀ + G_t G_tᵀ``  (DOP853, rtol 1e-13).
    """
    X0 = np.asarray(model.initial_state(), dtype=float)
    shape, D = X0.shape, X0.size
    noise_shape = None if model.noise_shape is None else tuple(model.noise_shape)
    q = 0 if noise_shape is None else int(np.prod(noise_shape))
    name = type(model).__name__

    def coefficients(t):
        F, c = checked_affine_map(
            lambda y: _flat(model.drift(t, y.reshape(-1, *shape))), D, f"{name}.drift"
        )
        if noise_shape is None:
            return F, c, np.zeros((D, 0))

        def diffusion(rows):  # jointly in (X, dW): additive noise has no X part and no offset
            X, dW = _state_and_noise(rows, shape, noise_shape)
            return _flat(np.asarray(model.diffusion(t, X, dW)))

        MG, offset = checked_affine_map(diffusion, D + q, f"{name}.diffusion")
        if np.any(MG[:, :D]) or np.any(offset):
            raise NotLinearGaussianError(f"{name}.diffusion depends on the state (not additive)")
        return F, c, MG[:, D:]

    def rhs(t, y):
        m, P = y[:D], y[D:].reshape(D, D)
        F, c, G = coefficients(t)
        return np.concatenate([F @ m + c, (F @ P + P @ F.T + G @ G.T).ravel()])

    y0 = np.concatenate([X0.ravel(), np.zeros(D * D)])
    sol = solve_ivp(rhs, (0.0, T), y0, t_eval=[T], **ODE_TOLERANCES)
    if not sol.success:
        raise RuntimeError(f"mean and Lyapunov ODEs of {name} failed: {sol.message}")
    return position_law(model, shape, sol.y[:D, -1], sol.y[D:, -1].reshape(D, D))
