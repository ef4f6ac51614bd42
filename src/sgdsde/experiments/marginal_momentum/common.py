"""Helpers shared by the experiments of arXiv 2307.15196 (docs/marginal_momentum.md)."""

from __future__ import annotations

import numpy as np

from sgdsde.seeding import rng

PAPER = "marginal_momentum"
BLOCK = 10_000
"""Paths per random stream: results depend on n_paths and the seed, never on ``chunk``."""


def eta_ladder(eta0: float, j_max: int) -> np.ndarray:
    """``η_j = η₀·2^{−j}``, j = 0..j_max (docs/marginal_momentum.md#e4a,
    docs/marginal_momentum.md#e5)."""
    return eta0 * 2.0 ** -np.arange(j_max + 1)


def one_minus_beta(cfg: dict, eta: float, alpha: float) -> float:
    """Def. 4.1 with index α: ``1 − β = c_α η^α``, ``c_0 = cfg["c0"]`` (β = 0.9 for 0.1),
    ``c_α = cfg["c"]`` otherwise (docs/marginal_momentum.md#e4a)."""
    return cfg["c0"] if alpha == 0 else cfg["c"] * eta**alpha


def chunks(n: int, size: int):
    """``(start, stop)`` of consecutive chunks of at most ``size`` paths."""
    return [(s, min(s + size, n)) for s in range(0, n, size)]


def json_records(table) -> list[dict]:
    """A table's rows as JSON-ready dicts for metrics.json (non-finite floats become None)."""

    def clean(v):
        if isinstance(v, np.generic):
            v = v.item()
        return None if isinstance(v, float) and not np.isfinite(v) else v

    return [{k: clean(v) for k, v in row.items()} for row in table.to_dict("records")]


def path_chunks(seed: int, keys: tuple, n: int, chunk: int):
    """Chunks of whole blocks of :data:`BLOCK` paths, each block its own stream
    ``rng(seed, *keys, block)``: yields ``(start, stop, [(generator, size), …])``, so the random
    numbers of a path do not depend on the chunk size (memory only)."""
    blocks = chunks(n, BLOCK)
    per = max(1, chunk // BLOCK)
    for i in range(0, len(blocks), per):
        group = blocks[i : i + per]
        streams = [(rng(seed, *keys, i + j), b - a) for j, (a, b) in enumerate(group)]
        yield group[0][0], group[-1][1], streams


def normals(streams, *tail: int) -> np.ndarray:
    """Standard normals of shape ``(paths of the chunk, *tail)`` from the chunk's streams."""
    return np.concatenate([gen.standard_normal((size, *tail)) for gen, size in streams])
