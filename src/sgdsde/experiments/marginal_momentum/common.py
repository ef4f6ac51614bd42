"""Helpers shared by the experiments of arXiv 2307.15196 (spec ``papers/2307.15196.md``)."""

from __future__ import annotations

import numpy as np

PAPER = "marginal_momentum"


def eta_ladder(eta0: float, j_max: int) -> np.ndarray:
    """``η_j = η₀·2^{−j}``, j = 0..j_max (spec §5.4, §5.5)."""
    return eta0 * 2.0 ** -np.arange(j_max + 1)


def one_minus_beta(cfg: dict, eta: float, alpha: float) -> float:
    """Def. 4.1 with index α: ``1 − β = c_α η^α``, ``c_0 = cfg["c0"]`` (β = 0.9 for 0.1),
    ``c_α = cfg["c"]`` otherwise (spec §5.4a)."""
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
