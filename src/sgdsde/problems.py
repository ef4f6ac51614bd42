"""Objectives F with their mean descent direction H̄ = −∇F and its Jacobian.

Conventions follow docs/momentum_approx.md#setting: the optimisers move along the stochastic descent
direction ``H_γ(x) = −∇f_γ(x)`` whose mean is ``H̄(x) = −∇F(x)``. Every method takes a batch of
points of shape ``(n_paths, d)`` and returns arrays of the same leading shape.

``mean_field_jvp(x, v)`` is the Jacobian-vector product ``∇H̄(x) v`` row by row: the second-order
drifts need ``U∘(JH @ p)`` and never the full ``(n_paths, d, d)`` Jacobian.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sgdsde.linalg import matvec


@dataclass(frozen=True)
class Quadratic:
    """``F(x) = ½ (x − x*)ᵀ A (x − x*)`` with A symmetric positive definite
    (docs/momentum_approx.md#experiments, CFG-B)."""

    A: np.ndarray
    x_star: np.ndarray

    def __post_init__(self):
        A = np.asarray(self.A, dtype=float)
        if A.ndim != 2 or A.shape[0] != A.shape[1] or not np.allclose(A, A.T):
            raise ValueError("Quadratic: A must be a symmetric square matrix")
        object.__setattr__(self, "A", A)
        object.__setattr__(
            self, "x_star", np.broadcast_to(np.asarray(self.x_star, float), (len(A),))
        )

    @property
    def dim(self) -> int:
        return self.A.shape[0]

    def value(self, x: np.ndarray) -> np.ndarray:
        z = x - self.x_star
        return 0.5 * np.einsum("...i,ij,...j->...", z, self.A, z)

    def mean_field(self, x: np.ndarray) -> np.ndarray:
        """H̄(x) = −A (x − x*)."""
        return -matvec(self.A, x - self.x_star)

    def mean_field_jvp(self, x: np.ndarray, v: np.ndarray) -> np.ndarray:
        """∇H̄(x) v = −A v."""
        return -matvec(self.A, v)


@dataclass(frozen=True)
class LogCoshQuartic:
    """``F(x) = Σ_i log cosh(x_i − c_i) + |x|⁴/(4d)``: the non-quadratic objective of E0."""

    c: np.ndarray

    @property
    def dim(self) -> int:
        return len(self.c)

    def value(self, x: np.ndarray) -> np.ndarray:
        sq = np.sum(x**2, axis=-1)
        return np.sum(np.log(np.cosh(x - self.c)), axis=-1) + sq**2 / (4 * self.dim)

    def mean_field(self, x: np.ndarray) -> np.ndarray:
        """H̄(x) = −tanh(x − c) − |x|² x / d."""
        sq = np.sum(x**2, axis=-1, keepdims=True)
        return -np.tanh(x - self.c) - sq * x / self.dim

    def mean_field_jvp(self, x: np.ndarray, v: np.ndarray) -> np.ndarray:
        """∇H̄(x) v = −sech²(x − c)∘v − (|x|² v + 2 (x·v) x)/d."""
        sq = np.sum(x**2, axis=-1, keepdims=True)
        xv = np.sum(x * v, axis=-1, keepdims=True)
        return -v / np.cosh(x - self.c) ** 2 - (sq * v + 2 * xv * x) / self.dim


@dataclass(frozen=True)
class FiniteSumLeastSquares:
    """``F(x) = (1/N) Σ_i ½(a_i·x − b_i)²`` (docs/momentum_approx.md#e1,
    docs/momentum_approx.md#exact-moments).

    Sample i has the descent direction ``H_i(x) = −R_i x + r_i`` with ``R_i = a_i a_iᵀ`` and
    ``r_i = a_i b_i``; the mean field is ``H̄(x) = −R̄ x + r̄``.
    """

    a: np.ndarray
    b: np.ndarray

    @property
    def dim(self) -> int:
        return self.a.shape[1]

    @property
    def R(self) -> np.ndarray:  # noqa: N802 (the document's R_i)
        """``R_i = a_i a_iᵀ``, shape ``(N, d, d)``."""
        return np.einsum("ni,nj->nij", self.a, self.a)

    @property
    def r(self) -> np.ndarray:
        """``r_i = a_i b_i``, shape ``(N, d)``."""
        return self.a * self.b[:, None]

    def value(self, x: np.ndarray) -> np.ndarray:
        return 0.5 * np.mean((matvec(self.a, x) - self.b) ** 2, axis=-1)

    def sample_direction(self, x: np.ndarray, i: np.ndarray) -> np.ndarray:
        """``H_{i_k}(x_k) = −a_i (a_i·x_k − b_i)`` for each row k."""
        a = self.a[i]
        return -a * (np.sum(a * x, axis=-1, keepdims=True) - self.b[i, None])

    def mean_field(self, x: np.ndarray) -> np.ndarray:
        return -matvec(self.R.mean(axis=0), x) + self.r.mean(axis=0)

    def mean_field_jvp(self, x: np.ndarray, v: np.ndarray) -> np.ndarray:
        return -matvec(self.R.mean(axis=0), v)


@dataclass(frozen=True)
class DoubleWell:
    """``F(x) = Σ_i (x_i² − 1)²/4``: ``H̄ = −(x³ − x)``, ``∇H̄ = −diag(3x² − 1)``
    (docs/momentum_approx.md#e2)."""

    dim: int = 1

    def value(self, x: np.ndarray) -> np.ndarray:
        return np.sum((x**2 - 1) ** 2, axis=-1) / 4

    def mean_field(self, x: np.ndarray) -> np.ndarray:
        return x - x**3

    def mean_field_jvp(self, x: np.ndarray, v: np.ndarray) -> np.ndarray:
        return (1 - 3 * x**2) * v


@dataclass(frozen=True)
class Quartic:
    """``F(x) = Σ_i x_i⁴/4``: ``H̄ = −x³``, ``∇H̄ = −diag(3x²)``; superlinear growth
    (docs/momentum_approx.md#e3)."""

    dim: int = 1

    def value(self, x: np.ndarray) -> np.ndarray:
        return np.sum(x**4, axis=-1) / 4

    def mean_field(self, x: np.ndarray) -> np.ndarray:
        return -(x**3)

    def mean_field_jvp(self, x: np.ndarray, v: np.ndarray) -> np.ndarray:
        return -3 * x**2 * v


@dataclass(frozen=True)
class DiagonalQuadratic:
    """``F(x) = ½ Σ_i λ_i x_i²``: a quadratic with a given spectrum, in O(d) per evaluation
    (docs/momentum_approx.md#e4's log-spaced spectrum)."""

    lam: np.ndarray

    @property
    def dim(self) -> int:
        return len(self.lam)

    def value(self, x: np.ndarray) -> np.ndarray:
        return 0.5 * np.sum(self.lam * x**2, axis=-1)

    def mean_field(self, x: np.ndarray) -> np.ndarray:
        return -self.lam * x

    def mean_field_jvp(self, x: np.ndarray, v: np.ndarray) -> np.ndarray:
        return -self.lam * v


# ---- marginal_momentum (arXiv 2307.15196)


@dataclass(frozen=True)
class NC2:
    """The non-convex 2-D test problem "NC2" of docs/marginal_momentum.md#experiments (satisfies
    Assumption 4.3):

    ``L(x) = ½(x₁² + x₂²) + 0.8 cos(2x₁) cos(x₂)``, Gaussian NGOS ``g = ∇L + σ Σ^{1/2} ξ`` with
    ``Σ^{1/2}(x) = diag(1 + 0.5 sin x₁, 1 + 0.5 cos x₂)``."""

    dim: int = 2

    def value(self, x: np.ndarray) -> np.ndarray:
        x1, x2 = x[..., 0], x[..., 1]
        return 0.5 * (x1**2 + x2**2) + 0.8 * np.cos(2 * x1) * np.cos(x2)

    def gradient(self, x: np.ndarray) -> np.ndarray:
        """``∇L = (x₁ − 1.6 sin 2x₁ cos x₂, x₂ − 0.8 cos 2x₁ sin x₂)``."""
        x1, x2 = x[..., 0], x[..., 1]
        return np.stack(
            [x1 - 1.6 * np.sin(2 * x1) * np.cos(x2), x2 - 0.8 * np.cos(2 * x1) * np.sin(x2)],
            axis=-1,
        )

    def mean_field(self, x: np.ndarray) -> np.ndarray:
        return -self.gradient(x)

    def hessian(self, x: np.ndarray) -> np.ndarray:
        """∇²L at one point x of shape (2,)."""
        x1, x2 = x
        c = 0.8 * np.cos(2 * x1) * np.cos(x2)
        off = 1.6 * np.sin(2 * x1) * np.sin(x2)
        return np.array([[1 - 4 * c, off], [off, 1 - c]])

    def noise_sqrt_diag(self, x: np.ndarray) -> np.ndarray:
        """The diagonal of ``Σ^{1/2}(x)``."""
        return np.stack([1 + 0.5 * np.sin(x[..., 0]), 1 + 0.5 * np.cos(x[..., 1])], axis=-1)

    def sample_gradient(self, x: np.ndarray, sigma: float, xi: np.ndarray) -> np.ndarray:
        """``g = ∇L(x) + σ Σ^{1/2}(x) ξ`` for standard normals ξ (broadcast against x); four
        trigonometric evaluations per point (``sin 2x₁ = 2 s₁c₁``, ``cos 2x₁ = 1 − 2s₁²``)."""
        x1, x2 = x[..., 0], x[..., 1]
        s1, c1, s2, c2 = np.sin(x1), np.cos(x1), np.sin(x2), np.cos(x2)
        g1 = x1 - 3.2 * s1 * c1 * c2 + sigma * (1 + 0.5 * s1) * xi[..., 0]
        g2 = x2 - 0.8 * (1 - 2 * s1**2) * s2 + sigma * (1 + 0.5 * c2) * xi[..., 1]
        return np.stack([g1, g2], axis=-1)


@dataclass(frozen=True)
class ManifoldToy:
    """``L(u, v) = ½(uv − 1)²`` with label noise σ_L and isotropic noise σ_I
    (docs/marginal_momentum.md#slow-sde-toy): ``g = (r + σ_L ε)(v, u) + σ_I (ξ₁, ξ₂)``,
    ``r = uv − 1``. Minimisers Γ = {uv = 1}; gradient flow conserves ``D = u² − v²``, the exact
    coordinate of the projection Φ."""

    sigma_label: float
    sigma_iso: float = 0.0
    dim: int = 2

    def value(self, x: np.ndarray) -> np.ndarray:
        return 0.5 * (x[..., 0] * x[..., 1] - 1.0) ** 2

    def sample_gradient(self, x: np.ndarray, noise: np.ndarray) -> np.ndarray:
        """``noise[..., 0] = ε``, ``noise[..., 1:3] = (ξ₁, ξ₂)``."""
        u, v = x[..., 0], x[..., 1]
        R = u * v - 1.0 + self.sigma_label * noise[..., 0]
        return np.stack([R * v, R * u], axis=-1) + self.sigma_iso * noise[..., 1:3]

    @staticmethod
    def invariant(x: np.ndarray) -> np.ndarray:
        """``D = u² − v²``."""
        return x[..., 0] ** 2 - x[..., 1] ** 2
