"""One module per paper; each exposes ``EXPERIMENTS``: experiment label → function.

An experiment function takes the paper's config section and the global seed and returns an
:class:`ExperimentResult`: tidy tables (long format, one measurement per row) and a flat
``metrics`` mapping that the claims ledger reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import import_module

import pandas as pd

PAPERS = ("momentum_approx", "marginal_momentum", "adaptive_sde", "least_squares")
# The figures F1..Fn that each paper's notebooks draw (its document captions each of them).
FIGURE_COUNT = {
    "momentum_approx": 8,
    "marginal_momentum": 6,
    "adaptive_sde": 5,
    "least_squares": 10,
}


@dataclass
class ExperimentResult:
    tables: dict[str, pd.DataFrame]
    metrics: dict[str, float | list[float]] = field(default_factory=dict)


def experiment(paper: str, label: str):
    """The function that runs ``paper.label``."""
    if paper not in PAPERS:
        raise KeyError(f"unknown paper {paper!r}; known: {', '.join(PAPERS)}")
    registry = import_module(f"sgdsde.experiments.{paper}").EXPERIMENTS
    if label not in registry:
        raise KeyError(f"unknown experiment {paper}.{label}; known: {', '.join(registry)}")
    return registry[label]
