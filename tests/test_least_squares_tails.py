"""Tail index in d ≥ 2 (docs/least_squares.md#lyapunov-exponent) and SGD's Kesten index
(docs/least_squares.md#kesten): closed forms, published reference values and the grid's order."""

from __future__ import annotations

import numpy as np
import pytest

from sgdsde import least_squares as ls
from sgdsde import tails


@pytest.fixture(scope="module")
def plane():
    """The d = 2 construction of docs/least_squares.md#e6c drawn by ``default_rng(3)``: n = 30,
    x ~ N(0, diag(1, 0.25)), y = ⟨(1, −1), x⟩ + 0.3ξ (K_R2 = 8.259, K_opt = 4.800)."""
    g = np.random.default_rng(3)
    X = g.standard_normal((30, 2)) * np.sqrt([1.0, 0.25])
    problem = ls.TrainingProblem(X, X @ [1.0, -1.0] + 0.3 * g.standard_normal(30))
    assert (problem.K_R2, problem.K_opt) == pytest.approx((8.259, 4.800), abs=1e-3)
    return problem


@pytest.fixture(scope="module")
def space():
    """d = 3 training data with an anisotropic design (n = 40, noisy labels)."""
    g = np.random.default_rng(1)
    X = g.standard_normal((40, 3)) * np.sqrt([1.0, 0.49, 0.16])
    return ls.TrainingProblem(X, X @ g.standard_normal(3) + 0.5 * g.standard_normal(40))


@pytest.mark.parametrize(
    ("kappa", "gamma", "alpha"),
    [(0, 0.1, 7.3333), (0, 0.3, 2.8889), (1, 0.1, 10.5), (1, 0.3, 3.8333)],
)
def test_isotropic_alpha_and_bracket_are_the_closed_form(kappa, gamma, alpha):
    """H = I, d = 2: eigen-solver and bracket give 2 + (2/(γλ) − d − c')/(1 + c')."""
    noise = ls.population_homogeneous_noise(np.ones(2), kappa)
    exact = ls.isotropic_alpha(1.0, gamma, 2, kappa)
    assert exact == pytest.approx(alpha, abs=1e-4)
    assert tails.lyapunov_tail_index(np.eye(2), noise, gamma, 64) == pytest.approx(exact, abs=1e-8)
    low, high = tails.alpha_bracket(np.eye(2), noise, gamma, tails.circle(50)[1])
    assert (low, high) == pytest.approx((exact, exact), abs=1e-8)


def test_bracket_in_three_dimensions(space):
    """Any d: isotropic d = 3 bracket collapses to the closed form; for anisotropic training data
    the bracket lies inside its crude form 1 + 2/(γK_opt) ≤ α_low ≤ α_up ≤ crude upper end."""
    g = np.random.default_rng(0)
    S = g.standard_normal((4000, 3))
    S /= np.linalg.norm(S, axis=1, keepdims=True)
    iso = ls.population_homogeneous_noise(np.ones(3), 0)
    exact = ls.isotropic_alpha(1.0, 0.05, 3, 0)
    assert tails.alpha_bracket(np.eye(3), iso, 0.05, S) == pytest.approx((exact, exact), abs=1e-8)
    for kappa in (0, 1):
        noise = ls.homogeneous_noise(space, kappa)
        low, high = tails.alpha_bracket(space.H, noise, 0.1, S)
        assert 1 + 2 / (0.1 * space.K_opt) <= low < high
        assert high <= tails.crude_alpha_upper(space.H, noise, 0.1, S)


@pytest.mark.parametrize(
    ("kappa", "gamma", "alpha", "low", "high"),
    [
        (0, 0.05, 10.179, 10.103, 52.53),
        (0, 0.2, 3.286, 3.211, 12.54),
        (1, 0.05, 12.900, 12.80, 100.3),
        (1, 0.2, 3.962, 3.865, 23.29),
    ],
)
def test_published_d2_tail_indices_and_brackets(plane, kappa, gamma, alpha, low, high):
    """Reference values for this draw: α from the angular eigenproblem and the bracket."""
    noise = ls.homogeneous_noise(plane, kappa)
    assert tails.lyapunov_tail_index(plane.H, noise, gamma, 256) == pytest.approx(alpha, abs=1e-3)
    bracket = tails.alpha_bracket(plane.H, noise, gamma, tails.circle(2000)[1])
    assert bracket == pytest.approx((low, high), abs=0.01)


def test_lyapunov_exponents_against_moment_operators(plane):
    """Λ(2) = s(𝒜_γ) (published −0.60062, −0.54045 at γ = 0.05, 0.2, V0); Λ(4), Λ(6) at γ = 0.2
    (1.2373, 7.0824) equal the generator's abscissa on homogeneous polynomials."""
    ops, noise = ls.SymOperators(plane), ls.homogeneous_noise(plane, 0)
    for gamma, published in ((0.05, -0.60062), (0.2, -0.54045)):
        lam2 = tails.moment_lyapunov_exponent(plane.H, noise, gamma, 2, 512)
        assert lam2 == pytest.approx(ls.spectral_abscissa(ops.A(gamma, 0)), abs=1e-5)
        assert lam2 == pytest.approx(published, abs=2e-5)
        poly = tails.polynomial_generator(plane.H, noise, gamma, 2)
        assert ls.spectral_abscissa(poly) == pytest.approx(ls.spectral_abscissa(ops.A(gamma, 0)))
    for p, published in ((4, 1.2373), (6, 7.0824)):
        lam = tails.moment_lyapunov_exponent(plane.H, noise, 0.2, p, 512)
        assert lam == pytest.approx(published, abs=2e-4)
        exact = ls.spectral_abscissa(tails.polynomial_generator(plane.H, noise, 0.2, p))
        assert lam == pytest.approx(exact, abs=1e-4)


def test_angular_grid_is_second_order(plane):
    """Central differences: halving π/N_φ divides the error of α by 4."""
    noise = ls.homogeneous_noise(plane, 0)
    alpha = {n: tails.lyapunov_tail_index(plane.H, noise, 0.2, n) for n in (32, 64, 128, 1024)}
    errors = [abs(alpha[n] - alpha[1024]) for n in (32, 64, 128)]
    orders = np.log2(np.array(errors[:-1]) / errors[1:])
    assert np.all((orders > 1.8) & (orders < 2.2)), orders


def test_vectorised_covariances_match_row_by_row(space, rng):
    S = rng.standard_normal((7, 3))
    for kappa in (0, 1):
        rows = np.array([ls.noise_covariance(space, s, kappa) for s in S])
        np.testing.assert_allclose(ls.noise_covariance(space, S, kappa), rows, rtol=1e-13)
        lam = np.array([1.0, 0.5, 0.2])
        rows = np.array([ls.population_covariance(lam, s, 0.3, kappa) for s in S])
        np.testing.assert_allclose(ls.population_covariance(lam, S, 0.3, kappa), rows, rtol=1e-13)


def test_online_kesten_index_against_published_values_and_sde():
    """Online Gaussian SGD, λ = 1: χ = 35.24, 17.29, 8.30, 5.31, 2.90 at γ = 0.05 … 0.5, above
    V0's α = 1 + 2/(3γ) everywhere; above V1's α = 1 + 1/γ except at γ = 0.5 (2.90 < 3)."""
    gammas = (0.05, 0.1, 0.2, 0.3, 0.5)
    chi = np.array([ls.kesten_index_gaussian(1.0, g) for g in gammas])
    np.testing.assert_allclose(chi, [35.24, 17.29, 8.30, 5.31, 2.90], atol=0.01)
    v0 = np.array([ls.isotropic_alpha(1.0, g, 1, 0) for g in gammas])
    v1 = np.array([ls.isotropic_alpha(1.0, g, 1, 1) for g in gammas])
    np.testing.assert_allclose(v0, [14.33, 7.67, 4.33, 3.22, 2.33], atol=0.01)
    np.testing.assert_allclose(v1, [21, 11, 6, 4.33, 3], atol=0.01)
    assert np.all(chi > v0)
    assert list(chi > v1) == [True, True, True, True, False]


def test_generator_seed_draws_the_published_dataset(tmp_path, plane):
    """``generator_seed`` reproduces a dataset drawn by ``default_rng(seed)``: D2 as published."""
    from sgdsde.experiments.least_squares.common import generate

    section = {"kind": "training", "n": 30, "spectrum": {"values": [1.0, 0.25]}}
    section |= {"theta_true": [1.0, -1.0], "noise": 0.3, "generator_seed": 3}
    generate("D2", section, seed=12345, out=tmp_path / "D2.npz")
    arrays, _ = ls.read_dataset(tmp_path / "D2.npz")
    assert np.array_equal(arrays["X"], plane.X) and np.array_equal(arrays["y"], plane.y)
