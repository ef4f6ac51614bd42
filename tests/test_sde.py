"""Drifts, diffusions and discrete maps against the explicit formulas of spec 2504.13992.

The exact-moment machinery reads its matrices off these functions, so these tests tie the
simulator code to the docs/momentum_approx.md#exact-moments matrices and to the generic
docs/momentum_approx.md#sde2 expansion.
"""

import numpy as np
import pytest

from sgdsde.moments import affine_map
from sgdsde.oracles import GaussianOracle
from sgdsde.problems import LogCoshQuartic, Quadratic
from sgdsde.schedules import Schedule
from sgdsde.sde import APPROXIMATIONS, HeavyBallRegimeA, HeavyBallRegimeB

# Pitfall 12: diagonal, non-commuting parameters with a non-diagonal A.
A = np.array([[2.0, 0.5], [0.5, 1.0]])
S = np.array([[1.0, 0.3], [0.3, 0.5]])
U = Schedule("inverse", (1.0, 0.5))
V = Schedule("affine", (2.0, 3.0), slope=0.5)
Z = Schedule("affine", 0.5, slope=0.4)
X0 = np.array([1.0, -1.0])


def _model_b(problem=None):
    problem = problem or Quadratic(A, [0.0, 0.0])
    return HeavyBallRegimeB(GaussianOracle(problem, S), U, V, X0, np.zeros(2))


def _model_a(problem=None):
    problem = problem or Quadratic(A, [0.0, 0.0])
    return HeavyBallRegimeA(GaussianOracle(problem, S), Schedule("inverse", 0.1), Z, X0)


def _diag(v):
    return np.diag(np.asarray(v).ravel())


@pytest.mark.parametrize("t", [0.0, 0.37, 1.5])
def test_regime_b_drift_matrices_are_spec_5_3(t):
    model, h, d = _model_b(), 0.01, 2
    Ut, Vt, Ud, Vd = (_diag(f(t, d)) for f in (U, V, U.derivative, V.derivative))
    eye, zero = np.eye(d), np.zeros((d, d))
    F = np.block([[zero, eye], [-Ut @ A, -Vt]])
    F_dot = np.block([[zero, zero], [-Ud @ A, -Vd]])
    K = np.block([[-Ut @ A, -Vt], [zero, zero]])
    F2 = F + h * (K - 0.5 * (F @ F + F_dot))
    F_ode, c = affine_map(lambda Y: model.drift(t, h, Y, APPROXIMATIONS["sde1"]), 2 * d)
    F_sde2, _ = affine_map(lambda Y: model.drift(t, h, Y, APPROXIMATIONS["sde2"]), 2 * d)
    np.testing.assert_allclose(F_ode, F, atol=1e-14)
    np.testing.assert_allclose(F_sde2, F2, atol=1e-14)
    np.testing.assert_array_equal(c, 0.0)
    G = model.diffusion(t, h, np.zeros((1, 2 * d)), APPROXIMATIONS["sde1"])[0]
    np.testing.assert_allclose(
        G @ G.T, h * np.block([[zero, zero], [zero, Ut @ S @ Ut]]), atol=1e-15
    )
    assert not model.diffusion(t, h, np.zeros((1, 2 * d)), APPROXIMATIONS["ode"]).any()


def test_regime_b_second_order_drift_is_the_generic_expansion(rng):
    """b1 = J1 − ½(∂_t J0 + (∇J0) J0) (docs/momentum_approx.md#sde2) on a non-quadratic F, by finite
    differences."""
    model, d, t, eps = _model_b(LogCoshQuartic(np.array([0.3, -0.2]))), 2, 0.7, 1e-6
    first, second = APPROXIMATIONS["sde1"], APPROXIMATIONS["sde2"]
    Y = rng.standard_normal((5, 2 * d))
    J0 = lambda s, Y: model.drift(s, 0.0, Y, first)  # noqa: E731
    dJ0_dt = (J0(t + eps, Y) - J0(t - eps, Y)) / (2 * eps)
    grad_J0_J0 = (J0(t, Y + eps * J0(t, Y)) - J0(t, Y - eps * J0(t, Y))) / (2 * eps)
    J1 = np.hstack([J0(t, Y)[:, d:], np.zeros((5, d))])  # (−Vp + UH̄, 0)
    b1 = J1 - 0.5 * (dJ0_dt + grad_J0_J0)
    h = 0.01
    np.testing.assert_allclose((model.drift(t, h, Y, second) - J0(t, Y)) / h, b1, atol=1e-7)


def test_regime_b_discrete_map_is_spec_5_2():
    model, h, t, d = _model_b(), 0.05, 0.4, 2
    Ut, Vt = _diag(U(t, d)), _diag(V(t, d))
    eye = np.eye(d)
    M = np.block([[eye - h**2 * Ut @ A, h * (eye - h * Vt)], [-h * Ut @ A, eye - h * Vt]])
    B = np.vstack([h**2 * Ut, h * Ut]) @ model.oracle.noise_factor
    MB, c = affine_map(lambda yz: model.discrete_step(t, h, yz[:, :4], yz[:, 4:]), 4 + d)
    np.testing.assert_allclose(MB, np.hstack([M, B]), atol=1e-15)
    np.testing.assert_array_equal(c, 0.0)


@pytest.mark.parametrize("t", [0.0, 1.1])
def test_regime_a_drift_matrix_is_spec_5_3(t):
    model, h, d = _model_a(), 0.01, 2
    W, Wd = (_diag(w) for w in model.effective_rate(t))
    C = _diag((1 + Z(t, d)) / (2 * (1 - Z(t, d))))
    F2 = -W @ A - h * C @ (W @ A @ W @ A - Wd @ A)
    F, _ = affine_map(lambda x: model.drift(t, h, x, APPROXIMATIONS["sde2"]), d)
    np.testing.assert_allclose(F, F2, atol=1e-14)
    G = model.diffusion(t, h, np.zeros((1, d)), APPROXIMATIONS["sde1"])[0]
    np.testing.assert_allclose(G @ G.T, h * W @ S @ W, atol=1e-15)


def test_regime_a_reduces_to_kovachki_stuart(rng):
    """u ≡ 1, ζ constant: x' = −∇F/(1−ζ) − h(1+ζ)/(2(1−ζ)³) ∇²F ∇F
    (docs/momentum_approx.md#regime-a)."""
    zeta, h, problem = 0.9, 0.01, LogCoshQuartic(np.array([0.3, -0.2]))
    model = HeavyBallRegimeA(
        GaussianOracle(problem, np.eye(2)), Schedule("constant"), Schedule("constant", zeta), X0
    )
    x = rng.standard_normal((4, 2))
    grad = -problem.mean_field(x)
    hess_grad = -problem.mean_field_jvp(x, grad)
    expected = -grad / (1 - zeta) - h * (1 + zeta) / (2 * (1 - zeta) ** 3) * hess_grad
    np.testing.assert_allclose(model.drift(0.0, h, x, APPROXIMATIONS["sde2"]), expected, rtol=1e-12)


def test_regime_a_discrete_map_and_initial_shift():
    model, h, t, d = _model_a(), 0.05, 0.4, 2
    Ut, Zt = _diag(model.U(t, d)), _diag(Z(t, d))
    eye, zero = np.eye(d), np.zeros((d, d))
    M = np.block([[eye + Zt - h * Ut @ A, -Zt], [eye, zero]])
    B = np.vstack([h * Ut, zero]) @ model.oracle.noise_factor
    MB, _ = affine_map(lambda yz: model.discrete_step(t, h, yz[:, :4], yz[:, 4:]), 4 + d)
    np.testing.assert_allclose(MB, np.hstack([M, B]), atol=1e-15)
    W0, _ = model.effective_rate(0.0)
    Z0 = Z(0.0, d)
    # docs/momentum_approx.md#initial-layer: z0 + h Z0(1−Z0)⁻¹ W0 A z0
    shifted = X0 + h * Z0 / (1 - Z0) * W0 * (A @ X0)
    np.testing.assert_allclose(model.initial_continuous(h, APPROXIMATIONS["sde2"]), shifted)
    np.testing.assert_array_equal(model.initial_continuous(h, APPROXIMATIONS["sde2_noshift"]), X0)


def test_gaussian_oracle_factor_handles_singular_covariance():
    oracle = GaussianOracle(Quadratic(np.eye(2), [0, 0]), np.array([[1.0, 1.0], [1.0, 1.0]]))
    L = oracle.noise_factor
    np.testing.assert_allclose(L @ L.T, oracle.S, atol=1e-15)
    with pytest.raises(ValueError, match="symmetric"):
        GaussianOracle(Quadratic(np.eye(2), [0, 0]), np.array([[1.0, 0.5], [0.0, 1.0]]))
