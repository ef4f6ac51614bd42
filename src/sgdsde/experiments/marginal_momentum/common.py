"""Helpers shared by the experiments of arXiv 2307.15196 (docs/marginal_momentum.md)."""

from __future__ import annotations

import numpy as np

from sgdsde.engine import Paths

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


def json_records(table) -> list[dict]:
    """A table's rows as JSON-ready dicts for metrics.json (non-finite floats become None)."""

    def clean(v):
        if isinstance(v, np.generic):
            v = v.item()
        return None if isinstance(v, float) and not np.isfinite(v) else v

    return [{k: clean(v) for k, v in row.items()} for row in table.to_dict("records")]


def paths(n: int, chunk: int) -> Paths:
    """``n`` paths in the engine's seed blocks of :data:`BLOCK`, about ``chunk`` paths in memory
    at once: the random numbers of a path do not depend on ``chunk``."""
    return Paths(n, BLOCK, max(1, chunk // BLOCK))
