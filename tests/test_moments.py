"""Exact moment recursions and Lyapunov ODEs against independent references."""

import numpy as np
import pytest
from scipy.linalg import expm

from sgdsde.moments import (
    continuous_moments,
    discrete_moments,
    leading_error_coefficient,
    n_steps,
)
from sgdsde.observables import canonical_test_functions
from sgdsde.oracles import GaussianOracle
from sgdsde.problems import Quadratic
from sgdsde.schedules import Schedule
from sgdsde.sde import APPROXIMATIONS, HeavyBallRegimeB
from sgdsde.stats import mean_with_se


@pytest.mark.parametrize("which", ["cfg_b", "cfg_a"])
def test_discrete_moments_match_brute_force_monte_carlo(which, request):
    """E g(x_N) from the recursion lies within 4 standard errors of 40 000 simulated paths."""
    model, h, T = request.getfixturevalue(which), 0.125, 2.0
    exact = discrete_moments(model, h, T)
    gen = np.random.default_rng(7)
    Y = np.tile(model.initial_discrete(h), (40_000, 1))
    for n in range(n_steps(T, h)):
        Y = model.discrete_step(n * h, h, Y, gen.standard_normal((len(Y), model.dim)))
    x = Y[:, : model.dim]
    for name, g in canonical_test_functions(2).items():
        mc = mean_with_se(g(x))
        reference = exact.expectation(g, model.dim)[-1]
        assert abs(mc.mean - reference) <= 4 * mc.se, (name, mc, reference)
    cov_mc = np.cov(x.T)
    np.testing.assert_allclose(cov_mc, exact.cov[-1, :2, :2], rtol=0.05, atol=1e-3)


def test_lyapunov_ode_matches_van_loan_for_constant_coefficients():
    """Constant U, V: P(T) = h ∫ e^{Fs} GGᵀ e^{Fᵀs} ds by the Van Loan block exponential."""
    A, S = np.array([[2.0, 0.5], [0.5, 1.0]]), np.array([[1.0, 0.2], [0.2, 0.7]])
    model = HeavyBallRegimeB(
        GaussianOracle(Quadratic(A, [0, 0]), S),
        Schedule("constant", 1.5),
        Schedule("constant", 2.0),
        np.array([1.0, -1.0]),
        np.zeros(2),
    )
    h, T = 0.01, 2.0
    path = continuous_moments(model, h, T, APPROXIMATIONS["sde1"])
    zero, eye = np.zeros((2, 2)), np.eye(2)
    F = np.block([[zero, eye], [-1.5 * A, -2.0 * eye]])
    GG = h * np.block([[zero, zero], [zero, 1.5**2 * S]])
    E = expm(np.block([[-F, GG], [np.zeros((4, 4)), F.T]]) * T)
    P_T = E[4:, 4:].T @ E[:4, 4:]
    np.testing.assert_allclose(path.cov[-1], P_T, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(path.mean[-1], expm(F * T) @ [1.0, -1.0, 0, 0], rtol=1e-11)


def test_ode_has_zero_covariance_and_sde2_mean_shifts_by_order_h(cfg_b):
    ode = continuous_moments(cfg_b, 0.01, 2.0, APPROXIMATIONS["ode"])
    assert np.abs(ode.cov).max() == 0.0
    sde1 = continuous_moments(cfg_b, 0.01, 2.0, APPROXIMATIONS["sde1"])
    sde2 = continuous_moments(cfg_b, 0.01, 2.0, APPROXIMATIONS["sde2"])
    np.testing.assert_allclose(sde1.mean, ode.mean, rtol=1e-11)
    gap = np.abs(sde2.mean - sde1.mean).max()
    assert 1e-4 < gap < 1e-1


@pytest.mark.parametrize("g_name", ["g1", "g3"])
@pytest.mark.parametrize("approximation", ["ode", "sde1"])
def test_phibar_equals_richardson_limit_of_error_over_h(cfg_b, g_name, approximation):
    """φ̄ by quadrature (docs/momentum_approx.md#phibar) equals 2e(h/2)/(h/2) − e(h)/h up to
    zero(h²), at h = 2^-8."""
    g, T = canonical_test_functions(2)[g_name], 2.0
    a = APPROXIMATIONS[approximation]

    def error_over_h(h):
        disc = discrete_moments(cfg_b, h, T).expectation(g, 2)[-1]
        cont = continuous_moments(cfg_b, h, T, a).expectation(g, 2)[-1]
        return (disc - cont) / h

    h = 2.0**-8
    richardson = 2 * error_over_h(h / 2) - error_over_h(h)
    phibar = leading_error_coefficient(cfg_b, T, g, a)
    assert phibar == pytest.approx(richardson, abs=5e-5)


def test_phibar_values_quoted_in_the_spec(cfg_b):
    """docs/momentum_approx.md#pitfalls P8: for g1 in CFG-B the errors are ≈ −0.375h (ODE) and
    −0.541h (SDE1)."""
    g1 = canonical_test_functions(2)["g1"]
    assert leading_error_coefficient(cfg_b, 2.0, g1, APPROXIMATIONS["ode"]) == pytest.approx(
        -0.375, abs=5e-4
    )
    assert leading_error_coefficient(cfg_b, 2.0, g1, APPROXIMATIONS["sde1"]) == pytest.approx(
        -0.541, abs=5e-4
    )


def test_phibar_rejects_what_it_cannot_compute(cfg_b):
    g2 = canonical_test_functions(2)["g2"]
    with pytest.raises(ValueError, match="polynomial"):
        leading_error_coefficient(cfg_b, 2.0, g2, APPROXIMATIONS["ode"])
    with pytest.raises(ValueError, match="first-order"):
        leading_error_coefficient(cfg_b, 2.0, g2, APPROXIMATIONS["sde2"])


def test_step_count_must_be_an_integer():
    assert n_steps(2.0, 2.0**-12) == 8192
    with pytest.raises(ValueError, match="T/h must be a positive integer"):
        n_steps(2.0, 0.3)
