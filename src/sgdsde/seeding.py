"""Deterministic random streams keyed by name.

Every stream is ``SeedSequence(seed, spawn_key=keys)`` with the keys (experiment, step size,
chunk, …) turned into stable integers, so a result depends on the config's seed and on what it
is, never on the number of cores, the order jobs run in or the chunking of paths.
"""

from __future__ import annotations

import zlib

import numpy as np


def _key(part: str | int) -> int:
    return part if isinstance(part, int) else zlib.crc32(str(part).encode())


def rng(seed: int, *keys: str | int) -> np.random.Generator:
    """A PCG64 generator for the stream ``(seed, *keys)``."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=tuple(map(_key, keys))))
