"""Appendix B of arXiv 2307.15196 by exact moments (docs/marginal_momentum.md#appendix-b): the
exact linear-SDE moments, the α = 1 underdamped limit, the α > 1 frozen trajectory and the
distance to the coupled trajectory, as rate tests against closed forms."""

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from sgdsde import momentum_forms as mf
from sgdsde.experiments.marginal_momentum.exact import _frozen_gaps, _thm45_gaps
from sgdsde.stats import exact_order

E4A = {"H": [1.0, 3.0], "x0": [1.0, 1.0], "T": 1.0, "c0": 0.1, "c": 1.0}
ETAS = 0.1 * 2.0 ** -np.arange(3, 8)


def test_linear_sde_path_is_the_ornstein_uhlenbeck_closed_form():
    """dX = −aX dt + s dW: mean x₀e^{−at}, variance s²(1 − e^{−2at})/(2a)."""
    a, s, x0, dt, n = 2.0, 0.7, 1.5, 0.05, 40
    mean, cov = mf.linear_sde_path([[-a]], [[s**2]], [x0], dt, n)
    t = dt * np.arange(n + 1)
    np.testing.assert_allclose(mean[:, 0], x0 * np.exp(-a * t), rtol=1e-12)
    np.testing.assert_allclose(cov[:, 0, 0], s**2 * (1 - np.exp(-2 * a * t)) / (2 * a), atol=1e-14)


def test_underdamped_moments_solve_the_mean_and_lyapunov_odes():
    F, Q = mf.underdamped_limit(np.diag(E4A["H"]), 1.3)
    z0 = np.array([1.0, 1.0, 1.0, 3.0])
    mean, cov = mf.linear_sde_path(F, Q, z0, 0.25, 4)

    def rhs(t, y):
        P = y[4:].reshape(4, 4)
        return np.concatenate([F @ y[:4], (F @ P + P @ F.T + Q).ravel()])

    sol = solve_ivp(rhs, (0, 1), np.concatenate([z0, np.zeros(16)]), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(mean[-1], sol.y[:4, -1], atol=1e-10)
    np.testing.assert_allclose(cov[-1].ravel(), sol.y[4:, -1], atol=1e-10)


def test_exact_order_extrapolates_the_first_correction():
    """e = h^p (1 + h): local orders are p + O(h), their Richardson extrapolation p + O(h²)."""
    h = 0.1 * 2.0 ** -np.arange(6)
    fit = exact_order(h, 3 * h**1.5 * (1 + h))
    assert abs(fit.order - 1.5) < 1e-4 < abs(fit.last - 1.5)
    assert (fit.ci_low, fit.ci_high) == (fit.order, fit.last)
    with pytest.raises(ValueError, match="three step sizes"):
        exact_order(h[:2], h[:2])


def test_sgdm_at_alpha_one_has_weak_order_one_to_the_underdamped_limit():
    final, worst = np.array([_thm45_gaps(E4A, e, 1.0)["underdamped"] for e in ETAS]).T
    assert exact_order(ETAS, final).order == pytest.approx(1.0, abs=0.02)
    assert exact_order(ETAS, worst).order == pytest.approx(1.0, abs=0.02)


def test_sgdm_at_alpha_one_stays_away_from_sgds_sde():
    """The gap to SGD's SDE tends to the gap between the two limits, not to 0."""
    gaps = [_thm45_gaps(E4A, e, 1.0) for e in ETAS]
    limits = gaps[-1]["sgd_sde"][0] - gaps[-1]["underdamped"][0]
    assert limits > 0.4
    assert gaps[-1]["sgd_sde"][0] == pytest.approx(limits, rel=1e-3)


@pytest.mark.parametrize("alpha", [1.5, 2.0])
def test_frozen_displacement_is_the_leading_order_closed_form(alpha):
    """α > 1, m₀ = 0: E x_K − x₀ ≈ −(cT²/2)η^{α−1}Hx₀ and tr Cov x_K ≈ d c²T³η^{2α−2}/3, so the
    L² displacement over η^{α−1} tends to √((cT²/2)²‖Hx₀‖² + d c²T³/3) (T = c = 1)."""
    Hx0 = np.diag(E4A["H"]) @ np.array(E4A["x0"])
    limit = np.sqrt(Hx0 @ Hx0 / 4 + len(Hx0) / 3)
    eta = 0.1 * 2.0**-10
    gaps = _frozen_gaps(E4A, eta, alpha)
    assert gaps["x0_zero_m0"][1] / eta ** (alpha - 1) == pytest.approx(limit, rel=0.05)
    assert gaps["line_grad_m0"][1] / eta ** (alpha - 1) < 2 * limit
    assert gaps["x0_grad_m0"][0] == pytest.approx(np.linalg.norm(Hx0), rel=0.05)


def test_coupled_distance_is_the_stationary_momentum_noise():
    """α = 0: x̃ − x = −(βη/(1−β)) m and Var m → (1−β)σ²/(1+β)·I, so the largest L² distance is
    β√(dη/(1−β²)) (1 + O(η)): order (1 − α)/2 = ½ with that constant."""
    beta, d = 1 - E4A["c0"], len(E4A["H"])
    for eta in (0.1 * 2.0**-8, 0.1 * 2.0**-9):
        worst = _thm45_gaps(E4A, eta, 0.0)["coupled"][1]
        assert worst == pytest.approx(beta * np.sqrt(d * eta / (1 - beta**2)), rel=0.02)
