"""Heavy ball with time-varying schedules and its ODE / SDE1 / SDE2 approximations.

Two scalings of docs/momentum_approx.md#scalings are modelled, each as one object holding the exact
discrete algorithm and the drift and diffusion of its continuous approximations:

* :class:`HeavyBallRegimeB`, ``η_n = h² U(t_n)``, ``ζ_n = 1 − h V(t_n)``: lifted state
  ``Y = (x, p)`` in velocity coordinates, limit ``x'' + V x' = U H̄(x)``
  (docs/momentum_approx.md#lift, docs/momentum_approx.md#models).
* :class:`HeavyBallRegimeA`, fixed momentum ``ζ_n = Z(t_n)``, ``η_n = h U(t_n)``: discrete state
  ``(x_n, x_{n−1})``, continuous state x on the slow manifold with the effective rate
  ``W = U/(1 − Z)`` (docs/momentum_approx.md#regime-a).

Generic form (docs/momentum_approx.md#sde2): a recursion ``Y_{n+1} = Y_n + h[J0 + h J1 + ε_n]`` has
the approximations ``ODE: dY = J0 dt``, ``SDE1: dY = J0 dt + √h Σ̃0^{1/2} dW`` and
``SDE2: dY = [J0 + h b1] dt + √h Σ̃0^{1/2} dW`` with ``b1 = J1 − ½(∂_t J0 + (∇J0) J0)``.
Schedules are evaluated at the left point t_n (docs/momentum_approx.md#pitfalls P3).

Every method is vectorised over a leading axis of paths: states are ``(n_paths, m)``,
diffusions ``(n_paths, m, d)`` (or ``(1, m, d)`` for additive noise) multiplying a
d-dimensional Brownian increment.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sgdsde.linalg import batched_matvec
from sgdsde.optimizers import heavy_ball_step, heavy_ball_velocity_step, sgd_step
from sgdsde.schedules import Schedule


@dataclass(frozen=True)
class Approximation:
    """A continuous model: the order of its drift (1 or 2), with or without noise and initial
    shift, and its weak order as an approximation of heavy ball (docs/momentum_approx.md#models):
    SDE2 without its shifted start keeps the O(h) initial-layer offset of Regime A and is first
    order; SDE2 without the objective's rate ∂_t H̄ (``objective_rate``) is first order on a
    time-dependent objective (docs/momentum_approx.md#moving-objective)."""

    name: str
    order: int
    noisy: bool
    shifted: bool
    weak_order: int
    objective_rate: bool = True


APPROXIMATIONS = {
    a.name: a
    for a in (
        Approximation("ode", order=1, noisy=False, shifted=False, weak_order=1),
        Approximation("sde1", order=1, noisy=True, shifted=False, weak_order=1),
        Approximation("sde2", order=2, noisy=True, shifted=True, weak_order=2),
        Approximation("sde2_noshift", order=2, noisy=True, shifted=False, weak_order=1),
        # SDE2 that treats a time-dependent objective as frozen: without ∂_t H̄, first order
        Approximation(
            "sde2_frozen_objective",
            order=2,
            noisy=True,
            shifted=True,
            weak_order=1,
            objective_rate=False,
        ),
    )
}


@dataclass(frozen=True)
class Discrete:
    """A heavy-ball model's optimiser at step h, in the coupled engine's protocol
    (:func:`sgdsde.coupling.coupled_simulation`): its state, its step with the oracle's sample
    for standard normals z, and its position x."""

    model: object
    h: float

    @property
    def noise_shape(self) -> tuple[int]:
        return (self.model.dim,)

    def initial_state(self) -> np.ndarray:
        return self.model.initial_discrete(self.h)

    def step(self, t: float, Y: np.ndarray, z: np.ndarray) -> np.ndarray:
        return self.model.discrete_step(t, self.h, Y, z)

    def position(self, Y: np.ndarray) -> np.ndarray:
        return Y[:, : self.model.dim]


@dataclass(frozen=True)
class Continuous:
    """One approximation of a heavy-ball model at step h, in the engine's protocol
    (:mod:`sgdsde.engine`): ``drift(t, X)``, ``diffusion(t, X, dW) = G(t, X) dW`` with d-dimensional
    increments, no noise for the ODE; its initial state and its position x."""

    model: object
    h: float
    approximation: Approximation

    def initial_state(self) -> np.ndarray:
        return self.model.initial_continuous(self.h, self.approximation)

    def position(self, X: np.ndarray) -> np.ndarray:
        return X[:, : self.model.dim]

    @property
    def noise_shape(self) -> tuple[int] | None:
        return (self.model.dim,) if self.approximation.noisy else None

    @property
    def weak_order(self) -> int:
        return self.approximation.weak_order

    def drift(self, t: float, X: np.ndarray) -> np.ndarray:
        return self.model.drift(t, self.h, X, self.approximation)

    def diffusion(self, t: float, X: np.ndarray, dW: np.ndarray) -> np.ndarray:
        return batched_matvec(self.model.diffusion(t, self.h, X, self.approximation), dW)


def coupled_models(model, h: float, names) -> tuple[Discrete, dict[str, Continuous]]:
    """The optimiser of ``model`` at step h and its approximations ``names`` (of
    :data:`APPROXIMATIONS`), for :func:`sgdsde.coupling.coupled_simulation`."""
    return Discrete(model, h), {a: Continuous(model, h, APPROXIMATIONS[a]) for a in names}


def join(*blocks: np.ndarray) -> np.ndarray:
    """Concatenate state blocks on the last axis, broadcasting the leading axes: with ``t`` a
    column of times, every method below evaluates all time steps at once."""
    shape = np.broadcast_shapes(*(b.shape[:-1] for b in blocks))
    return np.concatenate([np.broadcast_to(b, (*shape, b.shape[-1])) for b in blocks], axis=-1)


def _embedded(amplitude: np.ndarray, rows: int, h: float) -> np.ndarray:
    """``√h · diag(amplitude)`` placed in the last d of ``rows`` state rows: shape ``(rows, d)``."""
    d = len(amplitude)
    E = np.zeros((rows, d))
    E[rows - d :, :] = np.sqrt(h) * np.diag(amplitude)
    return E


def _diffusion(model, t: float, h: float, Y: np.ndarray, approximation: Approximation):
    """``E_t Σ(x)^{1/2}``: ``(n, m, d)``, or ``(1, m, d)`` when Σ does not depend on x (additive
    noise), which then broadcasts against every path at no cost."""
    root = model.oracle.noise_sqrt(model.centred(t, Y[:, : model.dim]))
    return np.matmul(
        model.noise_embedding(t, h, approximation), root[None] if root.ndim == 2 else root
    )


class _OracleModel:
    """What every model shares: the dimension of x, the objective, and one optimiser step with
    the oracle's sample for the noise input ``z`` (standard normals, or minibatch indices).

    The objective may move in time (docs/momentum_approx.md#moving-objective):
    ``f(x, t) = F(x − c(t))`` for the problem's F and a schedule c (``moving``; None: c = 0), so
    ``H̄(x, t) = H̄_F(x − c(t))``, ``∂_t H̄ = −∇H̄_F(x − c) ċ``, and the noise is the oracle's at
    ``x − c(t)``."""

    @property
    def dim(self) -> int:
        return self.oracle.problem.dim

    def centred(self, t, x: np.ndarray) -> np.ndarray:
        """``x − c(t)`` (with t a column of times, one row of states per time)."""
        return x if self.moving is None else x - self.moving(t, self.dim)

    def mean_field(self, t, x: np.ndarray) -> np.ndarray:
        """``H̄(x, t)``."""
        return self.oracle.problem.mean_field(self.centred(t, x))

    def mean_field_jvp(self, t, x: np.ndarray, v: np.ndarray) -> np.ndarray:
        """``∇H̄(x, t) v``."""
        return self.oracle.problem.mean_field_jvp(self.centred(t, x), v)

    def objective_rate(self, t, x: np.ndarray, approximation: Approximation) -> np.ndarray:
        """``∂_t H̄(x, t)``: zero for a fixed objective or an approximation that freezes it."""
        if self.moving is None or not approximation.objective_rate:
            return np.zeros_like(x)
        return -self.mean_field_jvp(t, x, self.moving.derivative(t, self.dim))

    def discrete_step(self, t, h: float, Y: np.ndarray, z: np.ndarray) -> np.ndarray:
        x = self.centred(t, Y[:, : self.dim])
        return self.discrete_update(t, h, Y, self.oracle.sample(x, z))


@dataclass(frozen=True)
class HeavyBallRegimeB(_OracleModel):
    """Regime B, ``η = h²U``, ``ζ = 1 − hV``; lifted state ``Y = (x, p)``
    (docs/momentum_approx.md#lift, docs/momentum_approx.md#models)."""

    oracle: object
    U: Schedule
    V: Schedule
    x0: np.ndarray
    p0: np.ndarray
    moving: Schedule | None = None

    def initial_discrete(self, h: float) -> np.ndarray:
        return np.concatenate([self.x0, self.p0])

    def initial_continuous(self, h: float, approximation: Approximation) -> np.ndarray:
        """Regime B has no initial layer: every approximation starts at the lifted ``Y_0``."""
        return self.initial_discrete(h)

    def discrete_update(self, t: float, h: float, Y: np.ndarray, H: np.ndarray) -> np.ndarray:
        """One exact heavy-ball step from ``t = t_n`` along the sampled direction ``H``."""
        d = self.dim
        x, p = Y[:, :d], Y[:, d:]
        return join(*heavy_ball_velocity_step(x, p, h, self.U(t, d), self.V(t, d), H))

    def drift(self, t: float, h: float, Y: np.ndarray, approximation: Approximation) -> np.ndarray:
        """``J0 = (p, −V∘p + U∘H̄)``; for order 2 plus ``h·b1`` with
        (docs/momentum_approx.md#models) ``b1 = (½(−V∘p + U∘H̄), −½[U∘(∇H̄ p) + (V² − V̇)∘p + (U̇ −
        V∘U)∘H̄ + U∘∂_t H̄])``."""
        d = self.dim
        x, p = Y[:, :d], Y[:, d:]
        U, V = self.U(t, d), self.V(t, d)
        H = self.mean_field(t, x)
        accel = -V * p + U * H
        if approximation.order == 1:
            return join(p, accel)
        Ud, Vd = self.U.derivative(t, d), self.V.derivative(t, d)
        b1_x = 0.5 * accel
        b1_p = -0.5 * (
            U * self.mean_field_jvp(t, x, p)
            + (V**2 - Vd) * p
            + (Ud - V * U) * H
            + U * self.objective_rate(t, x, approximation)
        )
        return join(p + h * b1_x, accel + h * b1_p)

    def noise_embedding(self, t: float, h: float, approximation: Approximation) -> np.ndarray:
        """``E_t = √h · [0; diag(U)]``: the diffusion is ``E_t Σ(x)^{1/2}``, noise only in p."""
        return _embedded(self.U(t, self.dim) * float(approximation.noisy), 2 * self.dim, h)

    def diffusion(self, t: float, h: float, Y: np.ndarray, approximation: Approximation):
        """``√h · blockdiag(0, U Σ(x)^{1/2})`` (docs/momentum_approx.md#setting,
        docs/momentum_approx.md#models)."""
        return _diffusion(self, t, h, Y, approximation)


@dataclass(frozen=True)
class HeavyBallRegimeA(_OracleModel):
    """Regime A, fixed momentum ``ζ = Z``, ``η = hU``; effective rate ``W = U/(1 − Z)``
    (docs/momentum_approx.md#regime-a).

    The discrete state is ``(x_n, x_{n−1})`` with a rest start ``x_{−1} = x_0``; the continuous
    state is x alone. Heavy ball is a two-step method with parasitic root ζ, so the rest start
    leaves an O(h) offset that SDE2 absorbs in its shifted initial condition
    ``X(0) = x_0 − h Z0/(1 − Z0) ∘ W0 ∘ H̄(x_0)``.
    """

    oracle: object
    U: Schedule
    Z: Schedule
    x0: np.ndarray
    moving: Schedule | None = None

    def effective_rate(self, t: float) -> tuple[np.ndarray, np.ndarray]:
        """``W = U/(1−Z)`` and ``Ẇ = U̇/(1−Z) + U Ż/(1−Z)²``."""
        d = self.dim
        U, Z = self.U(t, d), self.Z(t, d)
        Ud, Zd = self.U.derivative(t, d), self.Z.derivative(t, d)
        return U / (1 - Z), Ud / (1 - Z) + U * Zd / (1 - Z) ** 2

    def initial_discrete(self, h: float) -> np.ndarray:
        return np.concatenate([self.x0, self.x0])

    def initial_continuous(self, h: float, approximation: Approximation) -> np.ndarray:
        if not approximation.shifted:
            return np.array(self.x0, dtype=float)
        Z0 = self.Z(0.0, self.dim)
        W0, _ = self.effective_rate(0.0)
        return self.x0 - h * Z0 / (1 - Z0) * W0 * self.mean_field(0.0, self.x0)

    def discrete_update(self, t: float, h: float, Y: np.ndarray, H: np.ndarray) -> np.ndarray:
        """One exact heavy-ball step on the state ``(x_n, x_{n−1})`` along ``H``."""
        d = self.dim
        x, x_prev = Y[:, :d], Y[:, d:]
        return join(heavy_ball_step(x, x_prev, h * self.U(t, d), self.Z(t, d), H), x)

    def drift(self, t: float, h: float, x: np.ndarray, approximation: Approximation) -> np.ndarray:
        """``W∘H̄``; for order 2 minus ``h·C∘(Ẇ∘H̄ + W∘∂_t H̄ + W∘(∇H̄ (W∘H̄)))``,
        ``C = (1+Z)/(2(1−Z))``: ``Ẇ∘H̄ + W∘∂_t H̄`` is ``∂_t`` of the drift ``W∘H̄``."""
        W, Wd = self.effective_rate(t)
        H = self.mean_field(t, x)
        if approximation.order == 1:
            return W * H
        Z = self.Z(t, self.dim)
        C = (1 + Z) / (2 * (1 - Z))
        rate = Wd * H + W * self.objective_rate(t, x, approximation)
        return W * H - h * C * (rate + W * self.mean_field_jvp(t, x, W * H))

    def noise_embedding(self, t: float, h: float, approximation: Approximation) -> np.ndarray:
        """``E_t = √h · diag(W)``: the diffusion is ``E_t Σ(x)^{1/2}``."""
        W, _ = self.effective_rate(t)
        return _embedded(W * float(approximation.noisy), self.dim, h)

    def diffusion(self, t: float, h: float, x: np.ndarray, approximation: Approximation):
        """``√h · W Σ(x)^{1/2}``."""
        return _diffusion(self, t, h, x, approximation)


@dataclass(frozen=True)
class PlainSGD(_OracleModel):
    """SGD with a time-varying rate: ``x_{n+1} = x_n + h W(t_n) H_γ(x_n)``
    (docs/momentum_approx.md#e8's counterpart of heavy ball with fixed momentum, whose effective
    rate is ``W = U/(1 − Z)``)."""

    oracle: object
    W: Schedule
    x0: np.ndarray
    moving: Schedule | None = None

    def initial_discrete(self, h: float) -> np.ndarray:
        return np.array(self.x0, dtype=float)

    def discrete_update(self, t: float, h: float, x: np.ndarray, H: np.ndarray) -> np.ndarray:
        return sgd_step(x, h * self.W(t, self.dim), H)
