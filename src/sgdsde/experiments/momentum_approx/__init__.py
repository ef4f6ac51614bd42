"""Experiments of arXiv 2504.13992 (docs/momentum_approx.md): heavy ball with time-varying
learning rate and momentum, and its ODE / SDE1 / SDE2 approximations."""

from sgdsde.experiments.momentum_approx.common import build_model
from sgdsde.experiments.momentum_approx.convex import run_E4
from sgdsde.experiments.momentum_approx.exact_rates import (
    run_E1,
    run_E1b,
    run_E5,
    run_E7,
    run_E8,
)
from sgdsde.experiments.momentum_approx.feynman_kac import run_E6
from sgdsde.experiments.momentum_approx.lift_identity import run_E0
from sgdsde.experiments.momentum_approx.monte_carlo import run_E1c, run_E2, run_E3

EXPERIMENTS = {
    "E0": run_E0,
    "E1": run_E1,
    "E1b": run_E1b,
    "E1c": run_E1c,
    "E2": run_E2,
    "E3": run_E3,
    "E4": run_E4,
    "E5": run_E5,
    "E6": run_E6,
    "E7": run_E7,
    "E8": run_E8,
}

__all__ = ["EXPERIMENTS", "build_model", *(f.__name__ for f in EXPERIMENTS.values())]
