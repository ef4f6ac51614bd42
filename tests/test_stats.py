import numpy as np
import pytest

from sgdsde.stats import (
    Estimate,
    fit_loglog_slope,
    mean_with_se,
    paired_difference,
    pairwise_slopes,
    resolved_slope,
    variance_combination,
    weak_error,
)


def test_pairwise_slopes_of_an_exact_power_law():
    h = 2.0 ** -np.arange(3, 9)
    np.testing.assert_allclose(pairwise_slopes(h, -0.3 * h**2), 2.0)
    np.testing.assert_allclose(pairwise_slopes(h, 0.5 * h**1.5), 1.5)


def test_exact_fit_has_a_degenerate_interval():
    h = 2.0 ** -np.arange(3, 9)
    fit = fit_loglog_slope(h, 3 * h)
    assert fit.slope == pytest.approx(1.0)
    assert fit.intercept == pytest.approx(np.log(3))
    assert fit.ci_high - fit.ci_low < 1e-10


def test_weighted_interval_covers_the_true_slope_at_its_nominal_rate():
    """Monte-Carlo errors with known SE: the 95 % interval covers 2 in about 95 % of cases."""
    gen = np.random.default_rng(0)
    h = 2.0 ** -np.arange(2, 8)
    truth = 0.2 * h**2
    se = 0.05 * truth
    covered = 0
    for _ in range(400):
        fit = fit_loglog_slope(h, truth + se * gen.standard_normal(len(h)), se=se)
        covered += fit.ci_low <= 2.0 <= fit.ci_high
    assert 0.91 <= covered / 400 <= 0.99


def test_fit_needs_three_points():
    with pytest.raises(ValueError, match="three"):
        fit_loglog_slope([0.1, 0.05], [1.0, 0.5])


def test_coupled_weak_error_uses_the_paired_difference():
    gen = np.random.default_rng(1)
    common = gen.standard_normal(10_000)
    a, b = common + 0.01 * gen.standard_normal(10_000), common
    coupled, independent = weak_error(a, b, coupled=True), weak_error(a, b, coupled=False)
    assert coupled.mean == pytest.approx(independent.mean)
    assert coupled.se < independent.se / 50
    assert mean_with_se(np.ones(4)).se == 0.0


def test_variance_combination_standard_error_is_calibrated():
    """The delta-method SE of Var x − Var y (paired) matches the spread over replications."""
    gen = np.random.default_rng(2)
    estimates, ses = [], []
    for _ in range(300):
        z = gen.standard_normal(2000)
        x, y = z + 0.3 * gen.standard_normal(2000), 0.8 * z
        est = variance_combination([x, y], [1.0, -1.0])
        estimates.append(est.mean)
        ses.append(est.se)
    assert np.mean(ses) == pytest.approx(np.std(estimates), rel=0.15)
    assert np.mean(estimates) == pytest.approx(1.09 - 0.64, abs=0.01)


def test_unresolved_errors_yield_no_slope():
    h = np.array([0.25, 0.125, 0.0625])
    noisy = [Estimate(1e-3, 1e-3)] * 3
    assert resolved_slope(h, noisy) is None
    clean = [Estimate(0.2 * x**2, 1e-6) for x in h]
    assert resolved_slope(h, clean).slope == pytest.approx(2.0)


def test_paired_difference_is_a_student_t_interval_of_the_differences():
    from scipy import stats

    a, b = np.array([0.91, 0.93, 0.90, 0.95]), np.array([0.90, 0.91, 0.91, 0.92])
    d = a - b
    found = paired_difference(a, b)
    low, high = stats.t.interval(0.95, len(d) - 1, loc=d.mean(), scale=stats.sem(d))
    assert found.n == 4 and found.mean == pytest.approx(d.mean())
    assert found.se == pytest.approx(stats.sem(d)) and found.ci == pytest.approx((low, high))
    single = paired_difference([0.9], [0.8])
    assert single.ci is None and single.se is None and single.mean == pytest.approx(0.1)
