"""The 2d lift of heavy ball and the "modified objective" of the seed
(docs/momentum_approx.md#lift).

The lift ``X_n = (x_n, x_{n−1})`` turns heavy ball into the one-step recursion
``X_{n+1} = X_n + η_n J(X_n)`` with the non-gradient field
``J(x, y) = (H + η⁻¹ζ(x − y), η⁻¹(x − y))``. No potential j can reproduce it
(docs/momentum_approx.md#lift); the seed's ``j_seed`` is kept here only to measure its O(1)
discrepancy (experiment E0).
"""

from __future__ import annotations

import numpy as np


def _split(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    d = X.shape[-1] // 2
    return X[..., :d], X[..., d:]


def lifted_field(X: np.ndarray, eta: np.ndarray, zeta: np.ndarray, H: np.ndarray) -> np.ndarray:
    """J(x, y) = (H + η⁻¹ζ(x − y), η⁻¹(x − y)), docs/momentum_approx.md#lift; note the stiff 1/η."""
    x, y = _split(X)
    return np.concatenate([H + zeta * (x - y) / eta, (x - y) / eta], axis=-1)


def lifted_sgd_step(X: np.ndarray, eta: np.ndarray, zeta: np.ndarray, H: np.ndarray) -> np.ndarray:
    """One SGD-form step of the lift: ``X_{n+1} = X_n + η_n J(X_n)`` (η applied to both blocks)."""
    return X + np.concatenate([eta, eta], axis=-1) * lifted_field(X, eta, zeta, H)


def natural_objective_x_gradient(
    X: np.ndarray, eta: np.ndarray, zeta: np.ndarray, grad: np.ndarray
) -> np.ndarray:
    """∇_x j♮ for ``j♮(x, y) = f(x) − Σ_i ζ_i (x_i − y_i)²/(2η_i)`` (docs/momentum_approx.md#lift,
    replacement 1).

    The heavy-ball x-update is exactly ``x − η ∇_x j♮(x, y)`` with y frozen; ``grad`` is the
    stochastic gradient ``∇f_γ(x) = −H_γ(x)``.
    """
    x, y = _split(X)
    return grad - zeta * (x - y) / eta


def seed_objective_gradient(
    X: np.ndarray, eta: np.ndarray, zeta: np.ndarray, grad: np.ndarray
) -> np.ndarray:
    """∇j_seed for the seed's ``j = f(x) + Σ_i [x_i² + ζ_i (x_i − y_i)²]/(2η_i)``
    (docs/momentum_approx.md#lift).

    ``∇_x j = ∇f + η⁻¹x + η⁻¹ζ(x − y)``, ``∇_y j = −η⁻¹ζ(x − y)``.
    """
    x, y = _split(X)
    return np.concatenate([grad + x / eta + zeta * (x - y) / eta, -zeta * (x - y) / eta], axis=-1)
