"""Heavy ball on a time-dependent objective f(x, t) = F(x − c(t))
(docs/momentum_approx.md#moving-objective): rate tests on exact moments."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from sgdsde.experiments.momentum_approx.common import gaussian_quadratic, heavy_ball
from sgdsde.experiments.momentum_approx.exact_rates import exact_weak_error_study
from sgdsde.observables import canonical_test_functions
from sgdsde.schedules import Schedule
from sgdsde.sde import APPROXIMATIONS

PROBLEM = {"A": [[2.0, 0.5], [0.5, 1.0]], "x_star": [0.0, 0.0], "S": [[1.0, 0.0], [0.0, 1.0]]}
PROBLEM |= {"x0": [1.0, -1.0], "p0": [0.0, 0.0], "T": 2.0}
MOVING = Schedule("cosine", scale=(1.0, 0.5), horizon=1.0)
CASES = {
    "B": {"regime": "B", "U": {"kind": "inverse"}, "V": {"kind": "constant", "scale": 2.0}},
    "A": {
        "regime": "A",
        "U": {"kind": "inverse", "scale": 0.1},
        "Z": {"kind": "constant", "scale": 0.9},
    },
}


def _model(regime):
    oracle = gaussian_quadratic(PROBLEM)
    return replace(heavy_ball(oracle, CASES[regime], PROBLEM["x0"], PROBLEM["p0"]), moving=MOVING)


@pytest.mark.parametrize(("regime", "k"), [("B", [7, 10]), ("A", [8, 12])])
def test_sde2_needs_the_objectives_rate_for_order_two(regime, k):
    cfg = CASES[regime] | {"k": k, "approximations": ["sde2", "sde2_frozen_objective"]}
    gs = canonical_test_functions(2)
    _, metrics = exact_weak_error_study(
        _model(regime), regime, cfg, gs, 2.0, {"slope_pairs": 1, "fit_points": 3}, phibar=False
    )
    for g in gs:
        assert metrics[f"{regime}/sde2/{g}/terminal_tail_slopes"][-1] == pytest.approx(2.0, abs=0.1)
        frozen = metrics[f"{regime}/sde2_frozen_objective/{g}/terminal_tail_slopes"][-1]
        assert frozen == pytest.approx(1.0, abs=0.1)


def test_the_objectives_rate_is_minus_the_jacobian_along_the_path():
    model = _model("B")
    x, t = np.array([[0.3, -0.2]]), 0.4
    rate = model.objective_rate(t, x, APPROXIMATIONS["sde2"])
    eps = 1e-6
    numeric = (model.mean_field(t + eps, x) - model.mean_field(t - eps, x)) / (2 * eps)
    assert np.allclose(rate, numeric, atol=1e-8)
    assert not np.any(model.objective_rate(t, x, APPROXIMATIONS["sde2_frozen_objective"]))
    fixed = replace(model, moving=None)
    assert not np.any(fixed.objective_rate(t, x, APPROXIMATIONS["sde2"]))
    assert np.array_equal(fixed.mean_field(t, x), fixed.oracle.problem.mean_field(x))
