"""Time-varying, per-coordinate hyperparameter schedules with exact derivatives.

The momentum-approximation spec (docs/momentum_approx.md#scalings) lets the learning rate U(t), the
damping V(t) and the fixed momentum Z(t) vary in time and per coordinate. The second-order drifts
need their time derivatives (U̇, V̇, Ż), so every schedule carries an exact derivative.
Piecewise-constant (step) schedules are deliberately absent: their derivative is a Dirac delta
(docs/momentum_approx.md#pitfalls P15).

A schedule is ``scale ∘ φ(t)`` with a scalar shape φ and a per-coordinate ``scale`` (a float or
a length-d vector: the diagonal examples of E7).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

ScheduleKind = Literal["constant", "inverse", "exponential", "cosine", "affine"]


@dataclass(frozen=True)
class Schedule:
    """``s(t) = scale ∘ φ(t)`` with one of the shapes of docs/momentum_approx.md#scalings.

    * ``constant``:    φ(t) = 1
    * ``inverse``:     φ(t) = 1/(offset + t)     (``u = 1/(1+t)``; ``v = 3/(t+t0)``: scale 3)
    * ``exponential``: φ(t) = exp(−rate·t)
    * ``cosine``:      φ(t) = ½(1 + cos(π t / horizon))
    * ``affine``:      φ(t) = 1 + slope·t             (``v = 1 + t``; ``Z = 0.5(1 + 0.8 t/T)``)
    """

    kind: ScheduleKind
    scale: float | tuple[float, ...] = 1.0
    offset: float = 1.0
    rate: float = 1.0
    horizon: float = 1.0
    slope: float = 0.0

    @classmethod
    def from_config(cls, spec: dict) -> Schedule:
        """Build from a config mapping such as ``{kind: inverse, scale: [1.0, 0.5]}``."""
        spec = dict(spec)
        scale = spec.pop("scale", 1.0)
        scale = tuple(float(s) for s in scale) if isinstance(scale, list | tuple) else float(scale)
        return cls(scale=scale, **spec)

    def _shape(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """φ(t) and φ'(t), elementwise in t."""
        match self.kind:
            case "constant":
                return np.ones_like(t), np.zeros_like(t)
            case "inverse":
                return 1.0 / (self.offset + t), -1.0 / (self.offset + t) ** 2
            case "exponential":
                e = np.exp(-self.rate * t)
                return e, -self.rate * e
            case "cosine":
                w = np.pi / self.horizon
                return 0.5 * (1.0 + np.cos(w * t)), -0.5 * w * np.sin(w * t)
            case "affine":
                return 1.0 + self.slope * t, np.full_like(t, self.slope)
        raise ValueError(f"unknown schedule kind {self.kind!r}")

    def _scaled(self, phi: np.ndarray, d: int) -> np.ndarray:
        scale = np.broadcast_to(np.asarray(self.scale, dtype=float), (d,))
        return phi[..., None] * scale

    def __call__(self, t: float | np.ndarray, d: int) -> np.ndarray:
        """s(t), shape ``(*t.shape, d)``."""
        return self._scaled(self._shape(np.asarray(t, dtype=float))[0], d)

    def derivative(self, t: float | np.ndarray, d: int) -> np.ndarray:
        """ṡ(t), shape ``(*t.shape, d)``."""
        return self._scaled(self._shape(np.asarray(t, dtype=float))[1], d)
