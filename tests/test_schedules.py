import numpy as np
import pytest

from sgdsde.schedules import Schedule

SCHEDULES = [
    Schedule("constant", 2.0),
    Schedule("inverse", 1.0, offset=1.0),
    Schedule("inverse", 3.0, offset=0.5),
    Schedule("exponential", 0.7, rate=1.3),
    Schedule("cosine", 1.0, horizon=2.0),
    Schedule("affine", 0.5, slope=0.4),
    Schedule("inverse", (1.0, 0.5)),
]


@pytest.mark.parametrize("schedule", SCHEDULES, ids=lambda s: s.kind)
def test_derivative_matches_central_differences(schedule):
    t = np.linspace(0.05, 1.95, 17)
    eps = 1e-6
    numeric = (schedule(t + eps, 2) - schedule(t - eps, 2)) / (2 * eps)
    np.testing.assert_allclose(schedule.derivative(t, 2), numeric, rtol=1e-7, atol=1e-9)


def test_values_of_the_spec_examples():
    assert Schedule("inverse")(1.0, 1) == pytest.approx(0.5)  # u = 1/(1+t)
    assert Schedule("cosine", horizon=2.0)(2.0, 1) == pytest.approx(0.0, abs=1e-15)
    # Z(t) = 0.5 + 0.4 t/T with T = 2 is 0.5·(1 + 0.4 t)
    assert Schedule("affine", 0.5, slope=0.4)(2.0, 1) == pytest.approx(0.9)


def test_diagonal_scale_broadcasts_per_coordinate():
    s = Schedule.from_config({"kind": "inverse", "scale": [1.0, 0.5]})
    values = s(np.array([0.0, 1.0]), 2)
    assert values.shape == (2, 2)
    np.testing.assert_allclose(values, [[1.0, 0.5], [0.5, 0.25]])


def test_unknown_kind_is_rejected():
    with pytest.raises(ValueError, match="unknown schedule kind"):
        Schedule("step")(0.0, 1)
