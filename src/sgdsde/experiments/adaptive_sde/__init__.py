"""Experiments of arXiv 2509.21614 (docs/adaptive_sde.md): RMSprop and Adam with time
step τ in the ballistic and batch-equivalent regimes, and their order-1 and order-2 effective
equations (library: :mod:`sgdsde.adaptive`)."""

from sgdsde.experiments.adaptive_sde.deterministic import run_E0, run_E1, run_E2, run_E3
from sgdsde.experiments.adaptive_sde.monte_carlo import run_E4, run_E5, run_E6, run_E7, run_E8
from sgdsde.experiments.adaptive_sde.scaling import run_E9

EXPERIMENTS = {
    f.__name__.removeprefix("run_"): f
    for f in (run_E0, run_E1, run_E2, run_E3, run_E4, run_E5, run_E6, run_E7, run_E8, run_E9)
}

__all__ = ["EXPERIMENTS", *(f.__name__ for f in EXPERIMENTS.values())]
