"""Coupled Monte Carlo of a discrete optimiser and its SDE approximations.

docs/momentum_approx.md#pitfalls P1 – P2 and E1c. Each optimiser step of size h is split into K fine
Brownian increments ``ΔW_{n,k} ~ N(0, h/K)``. The optimiser's noise is ``z_n = Σ_k ΔW_{n,k}/√h``
(standard normal), and every SDE is integrated by Euler–Maruyama with the same increments, on the
fine grid ``δ = h/K`` and on the grid ``2δ`` (pairs summed). The reference value of a test
function is the Talay–Tubaro extrapolation ``2 g(Y^δ_T) − g(Y^{2δ}_T)``, whose weak error is
``O(δ²) = O(h²/K²)``, well below an O(h²) bias for K ≥ 8. The pathwise difference
``g(x_N) − ref`` then has a standard error of order ``h^{1.5}/√M``, not ``√h/√M``.

Reproducibility. Random numbers are drawn per *seed block* of ``paths_per_block`` paths, from
the stream ``(seed, *keys, block)``; a *chunk* (``blocks_per_chunk`` blocks) is what is held in
memory at once. Every path's result is a function of its block's stream only and all state
products are row-wise (:mod:`sgdsde.linalg`), so results are bitwise identical for any chunk
size and any number of cores. Per-path results are kept and reduced once at the end.

Divergence. A path whose state leaves ``|·| ≤ divergence_threshold`` or turns non-finite, in the
optimiser or in any SDE, is frozen and flagged; callers count it and exclude it from averages,
never averaging in NaN or inf.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from sgdsde.linalg import batched_matvec
from sgdsde.moments import n_steps
from sgdsde.sde import Approximation
from sgdsde.seeding import rng


@dataclass(frozen=True)
class MonteCarlo:
    """Sizes of a coupled simulation; only ``n_paths``, ``paths_per_block`` and ``fine_steps``
    (and the seed) determine the result, ``blocks_per_chunk`` only the memory used."""

    n_paths: int
    fine_steps: int = 8
    paths_per_block: int = 1024
    blocks_per_chunk: int = 16
    divergence_threshold: float = 1e6

    def __post_init__(self):
        if self.n_paths % self.paths_per_block:
            raise ValueError(f"n_paths={self.n_paths} is not a multiple of "
                             f"paths_per_block={self.paths_per_block}")  # fmt: skip
        if self.fine_steps < 2 or self.fine_steps % 2:
            raise ValueError(f"fine_steps={self.fine_steps} must be even (grids δ and 2δ)")

    @property
    def n_blocks(self) -> int:
        return self.n_paths // self.paths_per_block


@dataclass
class CoupledSample:
    """Per-path values at T: ``discrete[g]`` and, per approximation, ``fine[a][g]`` and
    ``coarse[a][g]`` (grids δ and 2δ); ``diverged`` flags; ``max_norm`` is ``max_n |x_n|`` of
    the optimiser."""

    discrete: dict[str, np.ndarray]
    fine: dict[str, dict[str, np.ndarray]]
    coarse: dict[str, dict[str, np.ndarray]]
    diverged: np.ndarray
    max_norm: np.ndarray

    @property
    def n_diverged(self) -> int:
        return int(self.diverged.sum())

    def reference(self, a: str, g: str) -> np.ndarray:
        """The Talay–Tubaro reference ``2 g(Y^δ_T) − g(Y^{2δ}_T)`` per path."""
        return 2 * self.fine[a][g] - self.coarse[a][g]


class _Chunk(NamedTuple):
    x: np.ndarray  # the optimiser's x at T, (n, d)
    fine: dict[str, np.ndarray]  # each approximation's x at T on grid δ, (n, d)
    coarse: dict[str, np.ndarray]  # … on grid 2δ
    diverged: np.ndarray
    max_norm: np.ndarray


def _fill_increments(buffer, generators, paths_per_block, dt):
    """Brownian increments ``√dt · N(0, 1)`` for every seed block, drawn into ``buffer``
    (``(K, n, d)``, block b in paths ``b·paths_per_block …``) in place: the same numbers as
    concatenating each block's draws, without the copies."""
    for b, g in enumerate(generators):
        block = buffer[:, b * paths_per_block : (b + 1) * paths_per_block]
        for k in range(buffer.shape[0]):  # out= needs a contiguous target
            g.standard_normal(out=block[k])
    buffer *= np.sqrt(dt)
    return buffer


def _euler_maruyama(model, approximation, X, t0, h, dt, increments):
    """Euler–Maruyama steps of size dt, one per increment; ``h`` is the optimiser's step, which
    the drift and diffusion depend on. A noise-free model (the ODE) ignores the increments."""
    for k, dW in enumerate(increments):
        t = t0 + k * dt
        X = X + dt * model.drift(t, h, X, approximation)
        if approximation.noisy:
            X = X + batched_matvec(model.diffusion(t, h, X, approximation), dW)
    return X


def _freeze_diverged(states, diverged, threshold):
    for state in states:
        with np.errstate(invalid="ignore"):
            bad = ~np.all(np.abs(state) <= threshold, axis=1)
        if len(state) == len(diverged):
            diverged |= bad
        elif bad.any():  # the shared noise-free ODE path
            diverged |= True
    for state in states:
        if len(state) == len(diverged):
            state[diverged] = 0.0


def _simulate_chunk(model, h, T, approximations, mc, generators):
    """One chunk: the optimiser and each approximation on grids δ and 2δ, coupled."""
    n, d, K = len(generators) * mc.paths_per_block, model.dim, mc.fine_steps
    Y = np.tile(model.initial_discrete(h), (n, 1))
    rows = {a.name: (n if a.noisy else 1) for a in approximations}
    fine = {
        a.name: np.tile(model.initial_continuous(h, a), (rows[a.name], 1)) for a in approximations
    }
    coarse = {name: X.copy() for name, X in fine.items()}
    diverged = np.zeros(n, dtype=bool)
    max_norm = np.linalg.norm(Y[:, :d], axis=1)
    dt = h / K
    buffer = np.empty((K, n, d))
    with np.errstate(over="ignore", invalid="ignore"):
        for step in range(n_steps(T, h)):
            t = step * h
            dW = _fill_increments(buffer, generators, mc.paths_per_block, dt)
            Y = model.discrete_step(t, h, Y, dW.sum(axis=0) / np.sqrt(h))
            for a in approximations:
                fine[a.name] = _euler_maruyama(model, a, fine[a.name], t, h, dt, dW)
                coarse[a.name] = _euler_maruyama(model, a, coarse[a.name], t, h, 2 * dt,
                                                 dW[0::2] + dW[1::2])  # fmt: skip
            _freeze_diverged(
                [Y, *fine.values(), *coarse.values()], diverged, mc.divergence_threshold
            )
            max_norm = np.maximum(max_norm, np.linalg.norm(Y[:, :d], axis=1))
    x = Y[:, :d]  # the noise-free ODE ran as one row: broadcast it to every path
    return _Chunk(x, {a: np.broadcast_to(X[:, :d], x.shape) for a, X in fine.items()},
                  {a: np.broadcast_to(X[:, :d], x.shape) for a, X in coarse.items()},
                  diverged, max_norm)  # fmt: skip


def coupled_simulation(
    model, h: float, T: float, approximations: list[Approximation], observables: dict,
    mc: MonteCarlo, seed: int, *keys: str | int,
) -> CoupledSample:  # fmt: skip
    """Simulate ``mc.n_paths`` coupled paths to time T; observables are evaluated on x."""
    chunks = []
    for first in range(0, mc.n_blocks, mc.blocks_per_chunk):
        blocks = range(first, min(first + mc.blocks_per_chunk, mc.n_blocks))
        chunks.append(_simulate_chunk(model, h, T, approximations, mc,
                                      [rng(seed, *keys, b) for b in blocks]))  # fmt: skip

    def at_end(states: list[np.ndarray]) -> dict[str, np.ndarray]:
        x = np.concatenate(states)
        return {name: g(x) for name, g in observables.items()}

    names = [a.name for a in approximations]
    return CoupledSample(
        discrete=at_end([c.x for c in chunks]),
        fine={a: at_end([c.fine[a] for c in chunks]) for a in names},
        coarse={a: at_end([c.coarse[a] for c in chunks]) for a in names},
        diverged=np.concatenate([c.diverged for c in chunks]),
        max_norm=np.concatenate([c.max_norm for c in chunks]),
    )


# ---- plain Euler–Maruyama (issue 7: the benchmark suite's engine for a single SDE)


def euler_maruyama(
    model, approximation: Approximation, h: float, T: float, mc: MonteCarlo, seed: int,
    *keys: str | int,
) -> np.ndarray:  # fmt: skip
    """``X_T`` of ``mc.n_paths`` independent Euler–Maruyama paths of one continuous model,
    ``X_{n+1} = X_n + h b(t_n, X_n) + G(t_n, X_n) ΔW_n`` with ``ΔW_n ~ N(0, h I)``: shape
    ``(n_paths, m)``. Increments are drawn per seed block as in :func:`coupled_simulation`, so
    the result does not depend on ``blocks_per_chunk`` (no coupling, no fine grid)."""
    out = []
    for first in range(0, mc.n_blocks, mc.blocks_per_chunk):
        blocks = range(first, min(first + mc.blocks_per_chunk, mc.n_blocks))
        generators = [rng(seed, *keys, b) for b in blocks]
        X0 = model.initial_continuous(h, approximation)
        X = np.tile(X0, (len(generators) * mc.paths_per_block, 1))
        buffer = np.empty((1, len(X), model.dim))
        with np.errstate(over="ignore", invalid="ignore"):
            for step in range(n_steps(T, h)):
                dW = _fill_increments(buffer, generators, mc.paths_per_block, h)
                X = _euler_maruyama(model, approximation, X, step * h, h, h, dW)
        out.append(X)
    return np.concatenate(out)
