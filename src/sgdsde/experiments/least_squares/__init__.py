"""Experiments of arXiv 2407.02322 (spec ``papers/2407.02322.md``): SDE models of least-squares
SGD, their invariant laws, Wasserstein convergence and heavy tails."""

from sgdsde.experiments.least_squares.interpolation import run_E1, run_E2
from sgdsde.experiments.least_squares.invariant import run_E3, run_E4, run_E5
from sgdsde.experiments.least_squares.tails_rates import (
    run_E6,
    run_E7,
    run_E8,
    run_E9,
    run_E10,
)

EXPERIMENTS = {
    "E1": run_E1, "E2": run_E2, "E3": run_E3, "E4": run_E4, "E5": run_E5,
    "E6": run_E6, "E7": run_E7, "E8": run_E8, "E9": run_E9, "E10": run_E10,
}  # fmt: skip

__all__ = ["EXPERIMENTS", *(f.__name__ for f in EXPERIMENTS.values())]
