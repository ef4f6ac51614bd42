"""Noisy gradient oracles: maps from standard normal draws to descent-direction samples.

An oracle never draws random numbers itself. It receives the standard normals ``z`` of shape
``(n_paths, d_noise)`` and returns ``H_γ(x) = H̄(x) + ξ(x, z)``. Passing the normals in is what
lets the discrete optimiser and its SDE share one Brownian path (the coupling of spec 2504.13992
docs/momentum_approx.md#pitfalls P1) and keeps every result a deterministic function of the config's
seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sgdsde.linalg import matvec


@dataclass(frozen=True)
class GaussianOracle:
    """Additive Gaussian noise: ``H_γ(x) = H̄(x) + L z`` with ``L Lᵀ = S``
    (docs/momentum_approx.md#setting).

    ``S`` may be positive semi-definite: the factor is an eigen-decomposition square root with
    negative rounding eigenvalues clipped (docs/momentum_approx.md#pitfalls P13), never an inverse.
    """

    problem: object
    S: np.ndarray
    noise_factor: np.ndarray = field(init=False, repr=False, compare=False)
    """A matrix L with L Lᵀ = S."""

    def __post_init__(self):
        S = np.atleast_2d(np.asarray(self.S, dtype=float))
        if S.shape != (self.problem.dim, self.problem.dim) or not np.allclose(S, S.T):
            raise ValueError("GaussianOracle: S must be a symmetric d×d matrix")
        w, Q = np.linalg.eigh(S)
        object.__setattr__(self, "S", S)
        object.__setattr__(self, "noise_factor", Q * np.sqrt(np.clip(w, 0.0, None)))

    def noise_sqrt(self, x: np.ndarray) -> np.ndarray:
        """Σ(x)^{1/2}, here constant: shape ``(d, d)``."""
        return self.noise_factor

    def expected_covariance(self, m: np.ndarray, P: np.ndarray) -> np.ndarray:
        """E Σ(x) over any law of x: the constant S (broadcast over leading axes of m)."""
        return np.broadcast_to(self.S, (*np.shape(m)[:-1], *self.S.shape))

    def sample(self, x: np.ndarray, z: np.ndarray) -> np.ndarray:
        """H_γ(x) = H̄(x) + L z, batched over the leading axis."""
        return self.problem.mean_field(x) + matvec(self.noise_factor, z)


@dataclass(frozen=True)
class MinibatchOracle:
    """Single-sample minibatches of a finite-sum least-squares problem
    (docs/momentum_approx.md#exact-moments).

    The noise input of :meth:`sample` is an array of sample indices, drawn uniformly. The noise
    ``ξ = −R̃_i x + r̃_i`` (``R̃_i = R_i − R̄``, ``r̃_i = r_i − r̄``) has the covariance
    ``Σ(x) = mean_i[(R̃_i x − r̃_i)(R̃_i x − r̃_i)ᵀ]``, quadratic in x, so ``E Σ(x)`` is a linear
    function of the first two moments of x: the closure that makes
    docs/momentum_approx.md#exact-moments exact.
    """

    problem: object

    def sample(self, x: np.ndarray, i: np.ndarray) -> np.ndarray:
        return self.problem.sample_direction(x, i)

    def draw(self, gen: np.random.Generator, n: int) -> np.ndarray:
        """Indices of n single-sample minibatches."""
        return gen.integers(len(self.problem.b), size=n)

    def _centred(self):
        R, r = self.problem.R, self.problem.r
        return R - R.mean(axis=0), r - r.mean(axis=0)

    def covariance(self, x: np.ndarray) -> np.ndarray:
        """Σ(x) per row: shape ``(n, d, d)``."""
        Rt, rt = self._centred()
        e = np.einsum("kij,nj->nki", Rt, x) - rt  # (n, N, d): R̃_k x − r̃_k
        return np.einsum("nki,nkj->nij", e, e) / len(rt)

    def noise_sqrt(self, x: np.ndarray) -> np.ndarray:
        """Σ(x)^{1/2} per row by eigen-decomposition (negative rounding clipped)."""
        w, Q = np.linalg.eigh(self.covariance(x))
        return Q * np.sqrt(np.clip(w, 0.0, None))[:, None, :]

    def expected_covariance(self, m: np.ndarray, P: np.ndarray) -> np.ndarray:
        """``E Σ(x) = mean[R̃ Mx R̃] − mean[R̃ m r̃ᵀ] − (·)ᵀ + mean[r̃ r̃ᵀ]``, ``Mx = P + m mᵀ``."""
        Rt, rt = self._centred()
        Mx = P + m[..., :, None] * m[..., None, :]
        cross = np.einsum("kij,...j,kl->...il", Rt, m, rt) / len(rt)
        return (
            np.einsum("kij,...jl,klm->...im", Rt, Mx, Rt) / len(rt)
            - cross
            - np.swapaxes(cross, -1, -2)
            + rt.T @ rt / len(rt)
        )


@dataclass(frozen=True)
class GaussianMinibatchOracle(MinibatchOracle):
    """The Gaussian surrogate of single-sample minibatch noise of a finite-sum least-squares
    problem: ``H(x) = H̄(x) + Σ(x)^{1/2} z`` with z standard normal and the minibatch covariance
    Σ(x) of :class:`MinibatchOracle` (state-dependent, quadratic in x; docs/custom.md#problems)."""

    def sample(self, x: np.ndarray, z: np.ndarray) -> np.ndarray:
        return self.problem.mean_field(x) + np.einsum("nij,nj->ni", self.noise_sqrt(x), z)
