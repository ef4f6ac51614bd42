"""Experiments of arXiv 2407.02322 (docs/least_squares.md): SDE models of least-squares
SGD, their invariant laws, Wasserstein convergence and heavy tails."""

import functools

import numpy as np

from sgdsde.experiments.least_squares.interpolation import run_E1, run_E2
from sgdsde.experiments.least_squares.invariant import run_E3, run_E4, run_E5
from sgdsde.experiments.least_squares.tails_rates import (
    run_E6,
    run_E7,
    run_E8,
    run_E9,
    run_E10,
)


def _json_metrics(run):
    """metrics.json holds no NaN/inf: a non-finite value (a rate that could not be fitted, a
    Kesten index that does not exist) is written as null; the ledger names such a metric."""

    @functools.wraps(run)
    def wrapped(cfg, seed):
        result = run(cfg, seed)
        result.metrics = {
            k: (float(v) if np.isfinite(v) else None) if np.isscalar(v) else v
            for k, v in result.metrics.items()
        }
        return result

    return wrapped


_RUNS = (run_E1, run_E2, run_E3, run_E4, run_E5, run_E6, run_E7, run_E8, run_E9, run_E10)
EXPERIMENTS = {f.__name__.removeprefix("run_"): _json_metrics(f) for f in _RUNS}

__all__ = ["EXPERIMENTS", *(f.__name__ for f in _RUNS)]
