"""Experiments of arXiv 2307.15196 (docs/marginal_momentum.md): the marginal value of
momentum for small learning rate SGD. E0–E6 check the paper's statements (exact where a closed
form exists); E7–E9 are CPU analogues of Figure 1, Table 1 and Figure 2 on scikit-learn's
digits; E10 is the original-scale Figure 2 (ResNet-32 on a local CIFAR-10 copy), off by default.
"""

from sgdsde.experiments.marginal_momentum.analogues import (
    run_E7,
    run_E7_run,
    run_E8,
    run_E8_run,
    run_E9,
    run_E9_run,
)
from sgdsde.experiments.marginal_momentum.exact import (
    run_E1,
    run_E2,
    run_E3,
    run_E4a,
    run_E4c,
    run_E4d,
)
from sgdsde.experiments.marginal_momentum.monte_carlo import run_E0, run_E4b, run_E5, run_E6
from sgdsde.experiments.marginal_momentum.scale_up import run_E10

EXPERIMENTS = {
    "E0": run_E0,
    "E1": run_E1,
    "E2": run_E2,
    "E3": run_E3,
    "E4a": run_E4a,
    "E4b": run_E4b,
    "E4c": run_E4c,
    "E4d": run_E4d,
    "E5": run_E5,
    "E6": run_E6,
    "E7_run": run_E7_run,
    "E7": run_E7,
    "E8_run": run_E8_run,
    "E8": run_E8,
    "E9_run": run_E9_run,
    "E9": run_E9,
    "E10": run_E10,
}

__all__ = ["EXPERIMENTS", *(f.__name__ for f in EXPERIMENTS.values())]
