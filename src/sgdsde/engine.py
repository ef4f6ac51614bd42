"""The one Monte-Carlo engine of the four papers (docs/methods.md#coupled-monte-carlo).

**Paths and seeds.** ``Paths(n_paths, paths_per_block, blocks_per_chunk)`` splits the paths into
seed blocks of ``paths_per_block`` paths (the last one may be shorter). Block b draws every random
number it needs from its own stream ``rng(seed, *keys, b)`` (:mod:`sgdsde.seeding`), the keys
naming the experiment and the setting. A chunk is ``blocks_per_chunk`` consecutive blocks held in
memory and advanced together. A path's result is a function of its block's stream only as long as
the model's products are row-wise (:mod:`sgdsde.linalg`), so results are bitwise identical for any
chunk size and any number of cores. A model that multiplies its state by BLAS (whose summation
order depends on the number of rows) says ``rowwise = False`` and is then advanced one block at a
time: the same guarantee, at the cost of the vectorisation over blocks.

**The model protocol.** A *continuous model* has ``drift(t, X)``, ``diffusion(t, X, dW)`` (the
diffusion applied to one Brownian increment), ``noise_shape`` (the trailing shape of dW for one
path, ``()`` for an ODE) and ``weak_order``. A *discrete optimiser* has ``step(t, X, noise)`` and
``draw(chunk)``, which draws one step's noise for a chunk's paths (standard normals, minibatch
indices, …). States are arrays whose first axis is the path.

**Divergence.** A path whose state leaves ``|·| ≤ threshold`` or turns non-finite is frozen (set
to zero, so it cannot overflow) and flagged; :class:`Recorded` reports how many diverged and
when, and callers exclude them from every average.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from sgdsde.checks import DivergenceError
from sgdsde.seeding import rng

CHECK_EVERY = 50
"""Steps between divergence checks in :func:`simulate` (well before a float overflows)."""


@dataclass(frozen=True)
class Paths:
    """``n_paths`` paths in seed blocks of ``paths_per_block``; ``blocks_per_chunk`` blocks are
    simulated together (memory and speed only: it never changes a result)."""

    n_paths: int
    paths_per_block: int = 1024
    blocks_per_chunk: int = 16

    def __post_init__(self):
        for name in ("n_paths", "paths_per_block", "blocks_per_chunk"):
            value = getattr(self, name)
            if not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")

    @property
    def blocks(self) -> list[tuple[int, int]]:
        """``(start, stop)`` of each seed block."""
        size = self.paths_per_block
        return [(a, min(a + size, self.n_paths)) for a in range(0, self.n_paths, size)]

    def chunks(self, seed: int, *keys: str | int, rowwise: bool = True) -> Iterator[Chunk]:
        """The chunks in path order, each with its blocks' generators; a model that is not
        row-wise gets one block per chunk."""
        blocks, per = self.blocks, self.blocks_per_chunk if rowwise else 1
        for first in range(0, len(blocks), per):
            group = range(first, min(first + per, len(blocks)))
            yield Chunk(
                blocks[group[0]][0],
                tuple(blocks[b][1] - blocks[b][0] for b in group),
                tuple(rng(seed, *keys, b) for b in group),
            )


@dataclass(frozen=True)
class Chunk:
    """Consecutive seed blocks from path ``start`` on: block b has ``sizes[b]`` paths and draws
    from ``generators[b]`` only."""

    start: int
    sizes: tuple[int, ...]
    generators: tuple[np.random.Generator, ...]

    @property
    def n(self) -> int:
        return sum(self.sizes)

    @property
    def stop(self) -> int:
        return self.start + self.n

    def _slices(self):
        a = 0
        for size, gen in zip(self.sizes, self.generators, strict=True):
            yield slice(a, a + size), gen
            a += size

    def normals(self, *shape: int, lead: tuple[int, ...] = (), out=None) -> np.ndarray:
        """Standard normals ``(*lead, n, *shape)``: block b fills its paths from its stream, in
        the order of one ``standard_normal((*lead, size, *shape))`` call, written in place."""
        out = np.empty((*lead, self.n, *shape)) if out is None else out
        for rows, gen in self._slices():
            for index in np.ndindex(*lead):  # out= needs a contiguous target
                gen.standard_normal(out=out[(*index, rows)])
        return out

    def draw(self, sample: Callable[[np.random.Generator, int], np.ndarray]) -> np.ndarray:
        """``sample(generator, size)`` per block, concatenated along the paths: for noise that is
        not Gaussian (minibatch indices, χ² variables)."""
        return np.concatenate([sample(gen, rows.stop - rows.start) for rows, gen in self._slices()])


def euler_maruyama_step(model, X: np.ndarray, t: float, dt: float, dW) -> np.ndarray:
    """One step ``X ← X + b(t, X) dt + G(t, X) ΔW`` in place (both evaluated at the old X)."""
    step = model.drift(t, X)
    step *= dt
    if model.noise_shape is not None:
        step += model.diffusion(t, X, dW)
    X += step
    return X


def euler_maruyama(
    model,
    X: np.ndarray,
    t0: float,
    dt: float,
    increments: Sequence,
    monitor: Callable[[np.ndarray], None] | None = None,
) -> np.ndarray:
    """``X_{k+1} = X_k + b(t_k, X_k) dt + G(t_k, X_k) ΔW_k``, ``t_k = t0 + k dt``, one step per
    increment: weak order 1 (strong order ½; with ``noise_shape = None`` an ODE and explicit
    Euler, the increments then unused). ``X`` is not modified; ``monitor`` sees the state after
    every step."""
    X = np.array(X, dtype=float)
    for k, dW in enumerate(increments):
        euler_maruyama_step(model, X, t0 + k * dt, dt, dW)
        if monitor is not None:
            monitor(X)
    return X


@dataclass
class Recorded:
    """States at the recorded steps, ``(len(record_steps), n_paths, …)``, and for each path the
    first recorded step index at which it had diverged (``-1``: never)."""

    states: np.ndarray
    diverged_at: np.ndarray
    record_steps: tuple[int, ...]

    @property
    def diverged(self) -> np.ndarray:
        return self.diverged_at >= 0

    @property
    def n_diverged(self) -> int:
        return int(self.diverged.sum())

    def require_converged(self, label: str, where: str) -> np.ndarray:
        """The states, or a :class:`DivergenceError` naming the experiment, the setting, how many
        paths diverged and by which step."""
        if self.n_diverged:
            first = self.record_steps[int(self.diverged_at[self.diverged].min())]
            raise DivergenceError(
                f"{label}: {self.n_diverged} of {len(self.diverged_at)} paths "
                f"diverged at {where}, the first by step {first}"
            )
        return self.states


def _freeze(X: np.ndarray, diverged: np.ndarray, threshold: float) -> None:
    with np.errstate(invalid="ignore"):
        bad = ~np.all(np.abs(X.reshape(len(X), -1)) <= threshold, axis=1)
    diverged |= bad
    X[diverged] = 0.0


def replicate(state, n: int) -> np.ndarray:
    """One path's ``state`` repeated for n paths: a float copy the engine may write into."""
    return np.array(np.broadcast_to(state, (n, *np.shape(state))), dtype=float)


def simulate(
    model,
    X0: np.ndarray,
    paths: Paths,
    record_steps: Sequence[int],
    seed: int,
    *keys: str | int,
    dt: float = 1.0,
    t0: float = 0.0,
    per_path: bool = False,
    threshold: float = 1e150,
) -> Recorded:
    """Simulate ``paths.n_paths`` independent paths of a continuous model (Euler–Maruyama with
    step ``dt``) or a discrete optimiser (its own step; ``dt`` is the time per step), from
    ``X0`` at ``t0``, recording the state at the increasing step counts ``record_steps``.

    ``X0`` is one state shared by every path, or with ``per_path`` one state per path."""
    record_steps = tuple(int(k) for k in record_steps)
    if list(record_steps) != sorted(set(record_steps)) or record_steps[0] < 0:
        raise ValueError(f"record_steps must increase from 0 or more, got {record_steps}")
    continuous = hasattr(model, "drift")
    states, diverged_at = [], []
    for chunk in paths.chunks(seed, *keys, rowwise=getattr(model, "rowwise", True)):
        X = (
            np.array(X0[chunk.start : chunk.stop], dtype=float)
            if per_path
            else replicate(X0, chunk.n)
        )
        diverged = np.zeros(chunk.n, dtype=bool)
        first = np.full(chunk.n, -1)
        out, k = np.empty((len(record_steps), *X.shape)), 0
        noisy = continuous and model.noise_shape is not None
        dW = np.empty((chunk.n, *model.noise_shape)) if noisy else None
        with np.errstate(over="ignore", invalid="ignore"):
            for r, target in enumerate(record_steps):
                while k < target:
                    t = t0 + k * dt
                    if continuous:
                        if noisy:
                            chunk.normals(*model.noise_shape, out=dW)
                            dW *= np.sqrt(dt)
                        euler_maruyama_step(model, X, t, dt, dW)
                    else:
                        X = model.step(t, X, model.draw(chunk))
                    k += 1
                    if k % CHECK_EVERY == 0:
                        _freeze(X, diverged, threshold)
                _freeze(X, diverged, threshold)
                first[(first < 0) & diverged] = r
                out[r] = X
        states.append(out)
        diverged_at.append(first)
    return Recorded(np.concatenate(states, axis=1), np.concatenate(diverged_at), record_steps)
