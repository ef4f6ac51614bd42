"""Coupled Monte Carlo of a discrete optimiser and its SDE approximations.

docs/momentum_approx.md#pitfalls P1 – P2 and E1c. Each optimiser step of size h is split into K fine
Brownian increments ``ΔW_{n,k} ~ N(0, h/K)``. The optimiser's noise is ``z_n = Σ_k ΔW_{n,k}/√h``
(standard normal), and every SDE is integrated by Euler–Maruyama with the same increments, on the
fine grid ``δ = h/K`` and on the grid ``2δ`` (pairs summed). The reference value of a test
function is the Talay–Tubaro extrapolation ``2 g(Y^δ_T) − g(Y^{2δ}_T)``, whose weak error is
``O(δ²) = O(h²/K²)``, well below an O(h²) bias for K ≥ 8. The pathwise difference
``g(x_N) − ref`` then has a standard error of order ``h^{1.5}/√M``, not ``√h/√M``.

Reproducibility. The paths are the engine's seed blocks and chunks (:mod:`sgdsde.engine`):
results are bitwise identical for any chunk size and any number of cores. Per-path results are
kept and reduced once at the end.

Divergence. A path whose state leaves ``|·| ≤ divergence_threshold`` or turns non-finite, in the
optimiser or in any SDE, is frozen and flagged; callers count it and exclude it from averages,
never averaging in NaN or inf.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from sgdsde.engine import Chunk, Paths, euler_maruyama, replicate
from sgdsde.moments import n_steps
from sgdsde.stats import talay_tubaro


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
            raise ValueError(
                f"n_paths={self.n_paths} is not a multiple of "
                f"paths_per_block={self.paths_per_block}"
            )
        if self.fine_steps < 2 or self.fine_steps % 2:
            raise ValueError(f"fine_steps={self.fine_steps} must be even (grids δ and 2δ)")

    @property
    def paths(self) -> Paths:
        return Paths(self.n_paths, self.paths_per_block, self.blocks_per_chunk)


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
        return talay_tubaro(self.fine[a][g], self.coarse[a][g])


class _Chunk(NamedTuple):
    x: np.ndarray  # the optimiser's position at T, (n, …)
    fine: dict[str, np.ndarray]  # each SDE's position at T on grid δ
    coarse: dict[str, np.ndarray]  # … on grid 2δ
    diverged: np.ndarray
    max_norm: np.ndarray


def _freeze_diverged(states, diverged, threshold):
    for state in states:
        with np.errstate(invalid="ignore"):
            bad = ~np.all(np.abs(state.reshape(len(state), -1)) <= threshold, axis=1)
        if len(state) == len(diverged):
            diverged |= bad
        elif bad.any():  # the shared noise-free ODE path
            diverged |= True
    for state in states:
        if len(state) == len(diverged):
            state[diverged] = 0.0


def _norm(x: np.ndarray) -> np.ndarray:
    return np.linalg.norm(x.reshape(len(x), -1), axis=1)


def _simulate_chunk(optimiser, sdes: dict, T: float, mc: MonteCarlo, chunk: Chunk) -> _Chunk:
    """One chunk: the optimiser and each SDE on grids δ and 2δ, coupled."""
    n, h, K, shape = chunk.n, optimiser.h, mc.fine_steps, optimiser.noise_shape
    Y = replicate(optimiser.initial_state(), n)
    # a noise-free model (the ODE) is one deterministic path, shared by every optimiser path
    fine = {
        name: replicate(sde.initial_state(), n if sde.noise_shape else 1)
        for name, sde in sdes.items()
    }
    coarse = {name: X.copy() for name, X in fine.items()}
    diverged = np.zeros(n, dtype=bool)
    max_norm = _norm(optimiser.position(Y))
    dt = h / K
    buffer = np.empty((K, n, *shape))
    with np.errstate(over="ignore", invalid="ignore"):
        for step in range(n_steps(T, h)):
            t = step * h
            dW = chunk.normals(*shape, lead=(K,), out=buffer)
            dW *= np.sqrt(dt)
            Y = optimiser.step(t, Y, dW.sum(axis=0) / np.sqrt(h))
            for name, sde in sdes.items():
                fine[name] = euler_maruyama(sde, fine[name], t, dt, dW)
                coarse[name] = euler_maruyama(sde, coarse[name], t, 2 * dt, dW[0::2] + dW[1::2])
            _freeze_diverged(
                [Y, *fine.values(), *coarse.values()], diverged, mc.divergence_threshold
            )
            max_norm = np.maximum(max_norm, _norm(optimiser.position(Y)))
    x = optimiser.position(Y)  # the noise-free ODE ran as one row: broadcast it to every path
    return _Chunk(
        x,
        {a: np.broadcast_to(sdes[a].position(X), x.shape) for a, X in fine.items()},
        {a: np.broadcast_to(sdes[a].position(X), x.shape) for a, X in coarse.items()},
        diverged,
        max_norm,
    )


def coupled_simulation(
    optimiser, sdes: dict, T: float, observables: dict, mc: MonteCarlo, seed: int, *keys: str | int
) -> CoupledSample:
    """Simulate ``mc.n_paths`` coupled paths of ``optimiser`` and of each SDE of ``sdes`` to time
    T; the observables are evaluated on each model's ``position``.

    The optimiser has ``h``, ``noise_shape``, ``initial_state()``, ``step(t, X, z)`` (z standard
    normals of ``noise_shape``) and ``position(X)``; each SDE the engine's continuous protocol
    with ``initial_state()`` and ``position(X)``, driven by increments of the same shape."""
    chunks = [
        _simulate_chunk(optimiser, sdes, T, mc, chunk) for chunk in mc.paths.chunks(seed, *keys)
    ]

    def at_end(states: list[np.ndarray]) -> dict[str, np.ndarray]:
        x = np.concatenate(states)
        return {name: g(x) for name, g in observables.items()}

    return CoupledSample(
        discrete=at_end([c.x for c in chunks]),
        fine={a: at_end([c.fine[a] for c in chunks]) for a in sdes},
        coarse={a: at_end([c.coarse[a] for c in chunks]) for a in sdes},
        diverged=np.concatenate([c.diverged for c in chunks]),
        max_norm=np.concatenate([c.max_norm for c in chunks]),
    )
