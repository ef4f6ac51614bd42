"""Coupled Monte Carlo of a discrete optimiser and its SDE approximations.

Spec 2504.13992 §6 (pitfalls 1–2) and E1c. Each optimiser step of size h is split into K fine
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

from dataclasses import dataclass, field

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
    """Per-path values at T: ``discrete[g]`` and, per approximation, ``reference[a][g]``
    (Talay–Tubaro), ``fine[a][g]`` and ``coarse[a][g]``; ``diverged`` flags; ``max_norm`` is
    ``max_n |x_n|`` of the optimiser."""

    discrete: dict[str, np.ndarray] = field(default_factory=dict)
    reference: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    fine: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    coarse: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    diverged: np.ndarray = None
    max_norm: np.ndarray = None

    @property
    def n_diverged(self) -> int:
        return int(self.diverged.sum())


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
    with np.errstate(over="ignore", invalid="ignore"):
        for step in range(n_steps(T, h)):
            t = step * h
            dW = np.concatenate([g.standard_normal((K, mc.paths_per_block, d)) for g in generators],
                                axis=1) * np.sqrt(dt)  # fmt: skip
            Y = model.discrete_step(t, h, Y, dW.sum(axis=0) / np.sqrt(h))
            for a in approximations:
                fine[a.name] = _euler_maruyama(model, a, fine[a.name], t, h, dt, dW)
                coarse[a.name] = _euler_maruyama(model, a, coarse[a.name], t, h, 2 * dt,
                                                 dW[0::2] + dW[1::2])  # fmt: skip
            _freeze_diverged(
                [Y, *fine.values(), *coarse.values()], diverged, mc.divergence_threshold
            )
            max_norm = np.maximum(max_norm, np.linalg.norm(Y[:, :d], axis=1))
    return (
        Y[:, :d],
        {k: v[:, :d] for k, v in fine.items()},
        {k: v[:, :d] for k, v in coarse.items()},
        diverged,
        max_norm,
    )


def coupled_simulation(
    model, h: float, T: float, approximations: list[Approximation], observables: dict,
    mc: MonteCarlo, seed: int, *keys: str | int,
) -> CoupledSample:  # fmt: skip
    """Simulate ``mc.n_paths`` coupled paths to time T; observables are evaluated on x."""
    sample = CoupledSample()
    parts = []
    for first in range(0, mc.n_blocks, mc.blocks_per_chunk):
        blocks = range(first, min(first + mc.blocks_per_chunk, mc.n_blocks))
        parts.append(_simulate_chunk(model, h, T, approximations, mc,
                                     [rng(seed, *keys, b) for b in blocks]))  # fmt: skip
    x = np.concatenate([p[0] for p in parts])
    sample.diverged = np.concatenate([p[3] for p in parts])
    sample.max_norm = np.concatenate([p[4] for p in parts])
    sample.discrete = {name: g(x) for name, g in observables.items()}
    for a in approximations:
        fine_x = np.concatenate([np.broadcast_to(p[1][a.name], p[0].shape) for p in parts])
        coarse_x = np.concatenate([np.broadcast_to(p[2][a.name], p[0].shape) for p in parts])
        sample.fine[a.name] = {name: g(fine_x) for name, g in observables.items()}
        sample.coarse[a.name] = {name: g(coarse_x) for name, g in observables.items()}
        sample.reference[a.name] = {
            name: 2 * sample.fine[a.name][name] - sample.coarse[a.name][name]
            for name in observables
        }
    return sample
