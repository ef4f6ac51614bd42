"""SGD and its modified equations (docs/custom.md#worked-example): one file for a weak-error study.

SGD with step h on Gaussian gradient noise, ``x_{n+1} = x_n + h(H̄(x_n) + Σ(x_n)^{1/2} z_n)`` with
``H̄ = −∇f``, and three candidate continuous models driven by the same Brownian motion:

* ``sde1``: ``dX = H̄ dt + √h Σ(X)^{1/2} dW``, weak order 1;
* ``sde2``: the modified equation of Li, Tai and E, ``dX = −∇(f + (h/4)|∇f|²) dt + √h Σ^{1/2} dW``,
  that is ``dX = [H̄ − (h/2) ∇H̄ H̄] dt + √h Σ^{1/2} dW``, weak order 2 (Li, Tai and E 2017,
  Theorem 1, also for state-dependent Σ);
* ``sde2_wrong_sign``: the same correction with the wrong sign, which also claims order 2: the
  study should refute it (a negative control).
"""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SGD:
    oracle: object
    h: float
    x0: np.ndarray

    @property
    def noise_shape(self):
        return (self.oracle.problem.dim,)

    def initial_state(self):
        return self.x0

    def step(self, t, X, z):
        return X + self.h * self.oracle.sample(X, z)

    def position(self, X):
        return X


@dataclass(frozen=True)
class ModifiedEquation:
    oracle: object
    h: float
    x0: np.ndarray
    correction: float  # the coefficient c of c·h ∇H̄ H̄ in the drift
    weak_order: int

    @property
    def noise_shape(self):
        return (self.oracle.problem.dim,)

    def initial_state(self):
        return self.x0

    def drift(self, t, X):
        problem = self.oracle.problem
        H = problem.mean_field(X)
        return H + self.correction * self.h * problem.mean_field_jvp(X, H)

    def diffusion(self, t, X, dW):
        # Σ(X)^{1/2} dW: one matrix for additive noise, one per path when it depends on X
        root = np.broadcast_to(self.oracle.noise_sqrt(X), (*X.shape, X.shape[-1]))
        return np.sqrt(self.h) * np.einsum("nij,nj->ni", root, dW)

    def position(self, X):
        return X


def optimizer(oracle, h, x0):
    return SGD(oracle, h, x0)


def models(oracle, h, x0):
    return {
        "sde1": ModifiedEquation(oracle, h, x0, 0.0, weak_order=1),
        "sde2": ModifiedEquation(oracle, h, x0, -0.5, weak_order=2),
        "sde2_wrong_sign": ModifiedEquation(oracle, h, x0, +0.5, weak_order=2),
    }
