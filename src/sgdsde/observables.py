"""Test functions g and their exact expectations under a Gaussian law
(docs/momentum_approx.md#test-functions).

Each observable is evaluated on samples ``x`` of shape ``(..., d)`` and has
``gaussian_mean(m, P) = E g(x)`` for ``x ~ N(m, P)``, batched over leading axes of m and P.
Polynomials of degree ≤ 2 also expose ``quadratic_form() = (Q, w)`` with ``g = xᵀQx + wᵀx``,
which the leading-error-coefficient formula of docs/momentum_approx.md#phibar needs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SquaredNorm:
    """``g(x) = |x − c|²``; ``E g = tr P + |m − c|²`` (exact for any law with these moments)."""

    dim: int
    center: tuple[float, ...] | None = None

    def _c(self) -> np.ndarray:
        return np.zeros(self.dim) if self.center is None else np.asarray(self.center, float)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.sum((x - self._c()) ** 2, axis=-1)

    def gaussian_mean(self, m: np.ndarray, P: np.ndarray) -> np.ndarray:
        return np.trace(P, axis1=-2, axis2=-1) + np.sum((m - self._c()) ** 2, axis=-1)

    def quadratic_form(self) -> tuple[np.ndarray, np.ndarray] | None:
        """``(Q, w)`` with ``g = xᵀQx + wᵀx``, up to a constant; centred forms are not needed."""
        return (np.eye(self.dim), np.zeros(self.dim)) if self.center is None else None


@dataclass(frozen=True)
class LinearProjection:
    """``g(x) = w·x``; ``E g = w·m``."""

    w: tuple[float, ...]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return x @ np.asarray(self.w)

    def gaussian_mean(self, m: np.ndarray, P: np.ndarray) -> np.ndarray:
        return m @ np.asarray(self.w)

    def quadratic_form(self) -> tuple[np.ndarray, np.ndarray]:
        w = np.asarray(self.w, dtype=float)
        return np.zeros((len(w), len(w))), w


@dataclass(frozen=True)
class CosineProjection:
    """``g(x) = cos(w·x)``; ``E g = cos(w·m) exp(−½ wᵀPw)``."""

    w: tuple[float, ...]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.cos(x @ np.asarray(self.w))

    def gaussian_mean(self, m: np.ndarray, P: np.ndarray) -> np.ndarray:
        w = np.asarray(self.w)
        return np.cos(m @ w) * np.exp(-0.5 * np.einsum("i,...ij,j->...", w, P, w))

    def quadratic_form(self) -> None:
        return None


def canonical_test_functions(dim: int) -> dict[str, object]:
    """The test functions g1, g2, g3 of docs/momentum_approx.md#experiments (CFG-B): ``|x|²``,
    ``cos(x_1 + ½x_2)``, ``x_1``."""
    if dim != 2:
        raise ValueError(f"the canonical test functions g1..g3 are defined for d = 2, not {dim}")
    return {
        "g1": SquaredNorm(dim),
        "g2": CosineProjection((1.0, 0.5)),
        "g3": LinearProjection((1.0, 0.0)),
    }


@dataclass(frozen=True)
class SmoothSign:
    """``g(x) = tanh(scale · w·x)``: a smooth "which well" statistic (docs/momentum_approx.md#e2,
    docs/momentum_approx.md#pitfalls P9)."""

    w: tuple[float, ...]
    scale: float = 5.0

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.tanh(self.scale * (x @ np.asarray(self.w)))
