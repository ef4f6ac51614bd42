"""Discrete stochastic optimisers, vectorised over a leading axis of independent paths.

Arrays are ``(n_paths, d)``; hyperparameters are per-coordinate arrays broadcast against them
(diagonal ``η_n``, ``ζ_n`` of docs/momentum_approx.md#setting). ``H`` is a sample of the stochastic
descent direction ``H_γ(x_n) = −∇f_γ(x_n)`` drawn by an oracle. Python loops run over time steps
only.
"""

from __future__ import annotations

import numpy as np


def sgd_step(x: np.ndarray, eta: np.ndarray, H: np.ndarray) -> np.ndarray:
    """Plain SGD: ``x_{n+1} = x_n + η_n H_γ(x_n)``."""
    return x + eta * H


def heavy_ball_step(
    x: np.ndarray, x_prev: np.ndarray, eta: np.ndarray, zeta: np.ndarray, H: np.ndarray
) -> np.ndarray:
    """Heavy ball (docs/momentum_approx.md#setting): ``x_{n+1} = x_n + η_n H_γ(x_n) + ζ_n (x_n −
    x_{n−1})``.

    With the rest start ``x_{−1} = x_0`` this is PyTorch's ``SGD(momentum=ζ, dampening=0)`` with
    ``lr = η``.
    """
    return x + eta * H + zeta * (x - x_prev)


def heavy_ball_velocity_step(
    x: np.ndarray, p: np.ndarray, h: float, U: np.ndarray, V: np.ndarray, H: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Heavy ball in velocity coordinates ``p_n = (x_n − x_{n−1})/h`` (docs/momentum_approx.md#lift,
    Regime B).

    ``p_{n+1} = p_n + h(−V_n p_n + U_n H_γ(x_n))``, ``x_{n+1} = x_n + h p_{n+1}``; identical to
    :func:`heavy_ball_step` with ``η_n = h² U_n`` and ``ζ_n = 1 − h V_n``.
    """
    p_next = p + h * (-V * p + U * H)
    return x + h * p_next, p_next


def nesterov_step(
    x: np.ndarray, x_prev: np.ndarray, eta: float, zeta: float, mean_field
) -> np.ndarray:
    """Nesterov's accelerated gradient: ``y = x_n + ζ_n (x_n − x_{n−1})``,
    ``x_{n+1} = y + η H̄(y)`` (the gradient at the look-ahead point; not heavy ball)."""
    y = x + zeta * (x - x_prev)
    return y + eta * mean_field(y)
