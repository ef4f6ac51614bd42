"""Unit, closed-form and rate tests of the least-squares SDE library
(docs/least_squares.md#derivations, docs/least_squares.md#derivations)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sgdsde import engine, tails
from sgdsde import least_squares as ls
from sgdsde import wasserstein as wass
from sgdsde.checks import DivergenceError
from sgdsde.experiments.least_squares.common import simulate


@pytest.fixture(scope="module")
def d3():
    """V2-type data of docs/least_squares.md#derivations: d = 3, n = 40, noisy labels."""
    g = np.random.default_rng(1)
    X = g.standard_normal((40, 3)) * np.sqrt([1.0, 0.49, 0.16])
    return ls.TrainingProblem(X, X @ g.standard_normal(3) + 0.5 * g.standard_normal(40))


@pytest.fixture(scope="module")
def d1():
    """D1-type data: n = 20, x ~ N(0, 1), y = 0.7x + 0.5ξ."""
    g = np.random.default_rng(0)
    x = g.standard_normal((20, 1))
    return ls.TrainingProblem(x, 0.7 * x[:, 0] + 0.5 * g.standard_normal(20))


@pytest.mark.parametrize("kappa", [0, 1])
def test_training_factor_has_the_sgd_covariance(d3, kappa, rng):
    """docs/least_squares.md#derivations test 1: σσᵀ = γΣ_κ(θ) for the factor √(γ/n)Xᵀdiag(r)P_κ."""
    for theta in rng.standard_normal((5, 3)):
        s = ls.sigma_factor(d3, theta, 0.3, kappa)
        np.testing.assert_allclose(
            s @ s.T, 0.3 * ls.noise_covariance(d3, theta, kappa), rtol=1e-12, atol=1e-14
        )


def test_population_covariance_is_the_gradient_covariance(rng):
    """Isserlis: Cov(g) = (ηᵀHη + σ²)H + Hηηᵀ H for g = x(xᵀη − ε), x ~ N(0, diag λ)
    (docs/least_squares.md#setting)."""
    lam, eta, sigma = np.array([1.0, 0.5]), np.array([0.7, -1.2]), 0.8
    x = rng.standard_normal((400_000, 2)) * np.sqrt(lam)
    g = x * (x @ eta - sigma * rng.standard_normal(400_000))[:, None]
    np.testing.assert_allclose(np.cov(g.T), ls.population_covariance(lam, eta, sigma, 1), atol=0.02)
    second = g.T @ g / len(g)
    np.testing.assert_allclose(second, ls.population_covariance(lam, eta, sigma, 0), atol=0.02)


def test_sym_operators_match_the_direct_formulas(d3, rng):
    ops = ls.SymOperators(d3)
    A = rng.standard_normal((3, 3))
    M = A + A.T
    np.testing.assert_allclose(ops.unvec(ops.vec(M)), M, atol=1e-14)
    X, n = d3.X, d3.n
    T_direct = (X.T * np.einsum("ni,ij,nj->n", X, M, X)) @ X / n
    np.testing.assert_allclose(ops.unvec(ops.T @ ops.vec(M)), T_direct, atol=1e-12)
    np.testing.assert_allclose(ops.unvec(ops.L @ ops.vec(M)), d3.H @ M + M @ d3.H, atol=1e-12)


@pytest.mark.parametrize("kappa", [0, 1])
def test_stationary_second_moment_solves_the_lyapunov_equation(d3, kappa):
    """docs/least_squares.md#e5: HM + MH − γ(𝒯(M) − κHMH) = γS_0, M ⪰ 0; trace identity
    (docs/least_squares.md#moment-equations)."""
    ops, gamma = ls.SymOperators(d3), 0.2
    M = ls.stationary_second_moment(ops, gamma, kappa)
    H, S0 = d3.H, ops.unvec(ops.S0)
    T = ops.unvec(ops.T @ ops.vec(M))
    np.testing.assert_allclose(
        H @ M + M @ H - gamma * (T - kappa * H @ M @ H), gamma * S0, atol=1e-13
    )
    assert np.linalg.eigvalsh(M).min() > 0


def test_sgd_stationary_moment_equals_v0_and_em_v1_with_step_gamma_is_sgd(d3):
    """docs/least_squares.md#discrete-recursions (spec V3): SGD's stationary M equals V0's M_∞ for
    every γ; and Euler–Maruyama of the V1 SDE with Δ = γ has exactly SGD's moment recursion (𝒮_1 = 𝒯
    − H·H cancels the Δ²HMH)."""
    ops = ls.SymOperators(d3)
    for gamma in (0.05, 0.2):
        np.testing.assert_allclose(
            ls.sgd_stationary_second_moment(ops, gamma),
            ls.stationary_second_moment(ops, gamma, 0),
            rtol=1e-10,
        )
        np.testing.assert_allclose(
            ls.em_moment_step_matrix(ops, gamma, 1, gamma),
            ls.sgd_moment_step_matrix(ops, gamma),
            atol=1e-14,
        )


@pytest.mark.parametrize("kappa", [0, 1])
def test_one_dimensional_closed_forms(d1, kappa):
    """docs/least_squares.md#pearson-iv: m_2 = γc/(2h − γA) = the Lyapunov solution; γ_2 = 2h/A;
    Pearson IV normalised, with variance m_2, mean 0 and cdf∘ppf = id; α = 1 + 2h/(γA)."""
    gamma = 0.25
    model = ls.ScalarTraining.from_problem(d1, gamma, kappa)
    ops = ls.SymOperators(d1)
    m2 = gamma * model.c / (2 * model.h - gamma * model.A)
    assert model.moments(2)[2] == pytest.approx(m2, rel=1e-12)
    assert ls.stationary_second_moment(ops, gamma, kappa)[0, 0] == pytest.approx(m2, rel=1e-12)
    assert ls.critical_gamma(ops, kappa) == pytest.approx(2 * model.h / model.A, rel=1e-12)
    law = ls.PearsonIV(model)
    grid = np.linspace(-60, 60, 600_001)
    p = law.pdf(grid)
    assert np.trapezoid(p, grid) == pytest.approx(1, abs=1e-6)
    assert np.trapezoid(grid * p, grid) == pytest.approx(0, abs=1e-6)
    assert np.trapezoid(grid**2 * p, grid) == pytest.approx(m2, rel=1e-3)
    q = np.linspace(0.01, 0.99, 9)
    np.testing.assert_allclose(law.cdf(law.ppf(q)), q, atol=1e-8)
    assert model.alpha == pytest.approx(1 + 2 * model.h / (gamma * model.A))
    if kappa == 0:  # docs/least_squares.md#derivations V1 (same construction, seed 0)
        assert model.alpha == pytest.approx(4.019, abs=1e-3)


def test_pearson_tail_slope(d1):
    """docs/least_squares.md#derivations test 3: the survival function decays like r^−α."""
    law = ls.PearsonIV(ls.ScalarTraining.from_problem(d1, 0.25, 0))
    r = np.array([30.0, 60.0])
    slope = np.diff(np.log(law.survival(r))) / np.diff(np.log(r))
    assert slope[0] == pytest.approx(-law.model.alpha, abs=0.05)


def test_exponential_rate_of_the_exact_second_moment(d3):
    """E1: with noiseless labels, log tr M_t decays at the rate ρ_2 = −s(𝒜_γ) (exact)."""
    noiseless = ls.TrainingProblem(d3.X, d3.X @ np.array([1.0, -1.0, 0.5]))
    ops = ls.SymOperators(noiseless)
    gamma = 0.3 * noiseless.gamma_max
    rho2 = ls.l2_rate(ops, gamma, 0)
    eta0 = -noiseless.theta_hat
    t = np.array([60.0, 80.0]) / rho2 / 10
    _, M = ls.moment_flow(ops, gamma, 0, eta0, np.outer(eta0, eta0), t)
    rate = -np.diff(np.log(np.trace(M, axis1=1, axis2=2)))[0] / np.diff(t)[0]
    assert rate == pytest.approx(rho2, rel=1e-3)
    assert rho2 >= (2 - gamma * noiseless.K_opt) * noiseless.mu  # proposed Thm 4.3 bound


def test_euler_maruyama_stationary_bias_is_first_order(d3):
    """Rate test: |tr M_EM(Δ) − tr M_∞| ∝ Δ (slope 1 ± 0.02 over Δ = 0.02 … 0.0025)."""
    ops = ls.SymOperators(d3)
    exact = np.trace(ls.stationary_second_moment(ops, 0.2, 0))
    dts = 0.02 * 2.0 ** -np.arange(4)
    err = [abs(np.trace(ls.em_stationary_second_moment(ops, 0.2, 0, dt)) - exact) for dt in dts]
    slope = np.polyfit(np.log(dts), np.log(err), 1)[0]
    assert slope == pytest.approx(1.0, abs=0.02)


def test_nonparametric_coupling_rate():
    """E4(b): E‖H^{1/2}Δ_t‖² ≍ t^{−(β−1)/β} for λ_k = k^−β (β = 3, exact; spec V11)."""
    lam = np.arange(1, 801, dtype=float) ** -3.0
    gamma = 0.5 * ls.population_gamma2(lam, 0)
    m_inf, _ = ls.population_stationary(lam, 0.5, gamma, 0)
    t = np.geomspace(1e2, 1e4, 20)
    slope = np.polyfit(np.log(t), np.log(ls.risk_flow(lam, gamma, 0, m_inf, t) @ lam), 1)[0]
    assert slope == pytest.approx(-2 / 3, abs=0.01)


def test_population_stationary_risk_and_gamma2():
    """docs/least_squares.md#population: m^∞ is the fixed point of the diagonal ODE; γ_2 S(γ_2) = 1;
    d = 1: γ_2 = 2/((1+c')λ)."""
    lam = np.arange(1, 51, dtype=float) ** -2.0
    for kappa in (0, 1):
        gamma = 0.5 * ls.population_gamma2(lam, kappa)
        m_inf, R = ls.population_stationary(lam, 0.5, gamma, kappa)
        B = ls.risk_generator(lam, gamma, kappa)
        np.testing.assert_allclose(B @ m_inf + gamma * 0.25 * lam, 0, atol=1e-14)
        assert pytest.approx(lam @ m_inf, rel=1e-12) == R
        g2 = ls.population_gamma2(lam, kappa)
        assert g2 * ls.S_gamma(lam, g2, kappa) == pytest.approx(1, abs=1e-10)
        assert ls.population_gamma2(np.array([2.0]), kappa) == pytest.approx(
            2 / ((1 + ls.c_prime(kappa)) * 2.0)
        )


def test_isotropic_alpha_reduces_to_one_dimension():
    """docs/least_squares.md#population/5.4: d = 1: α = 1 + 2/(3γλ) (V0), 1 + 1/(γλ) (V1); spec V10
    values."""
    for g in (0.05, 0.1, 0.3):
        assert ls.isotropic_alpha(1.0, g, 1, 0) == pytest.approx(1 + 2 / (3 * g))
        assert ls.isotropic_alpha(1.0, g, 1, 1) == pytest.approx(1 + 1 / g)
    assert ls.isotropic_alpha(1.0, 0.1, 1, 0) == pytest.approx(7.6667, abs=1e-4)


def test_kesten_indices():
    """docs/least_squares.md#discrete-recursions, spec V10: online Gaussian χ(γλ = 0.1) = 17.29,
    χ(0.3) = 5.31; training SGD with γ max x_i² ≤ 2 has no Kesten index (compactly supported
    law)."""
    assert ls.kesten_index_gaussian(1.0, 0.1) == pytest.approx(17.29, abs=0.02)
    assert ls.kesten_index_gaussian(1.0, 0.3) == pytest.approx(5.31, abs=0.02)
    assert ls.kesten_index_training(np.array([0.5, 1.0, 1.3]), 1.0) == np.inf
    x = np.array([0.5, 1.0, 2.0])
    chi = ls.kesten_index_training(x, 1.0)
    assert np.mean(np.abs(1 - x**2) ** chi) == pytest.approx(1, abs=1e-9)


def test_hill_on_pareto_has_exact_coverage():
    """The Gamma(k) interval is exact for a Pareto tail: coverage ≈ 95 % over 400 replicates."""
    g = np.random.default_rng(7)
    hits = []
    for _ in range(400):
        est = tails.hill(g.pareto(3.0, 2000) + 1, 200)
        hits.append(est.ci_low <= 3.0 <= est.ci_high)
    assert 0.92 <= np.mean(hits) <= 0.98


def test_hill_on_student_t():
    """Spec V7: Student t(3.3), N = 10⁶, k = 1000 gives α̂ ≈ 3.27 (known tail α = 3.3)."""
    est = tails.hill(np.random.default_rng(0).standard_t(3.3, 10**6), 1000)
    assert abs(est.alpha - 3.3) < 3 * est.se
    assert est.se == pytest.approx(est.alpha / np.sqrt(1000))


def test_wasserstein_estimators_agree():
    g = np.random.default_rng(3)
    a, b = g.standard_normal(500), 1 + 2 * g.standard_normal(500)
    assert wass.emd_wasserstein(a, b, 1) == pytest.approx(wass.scipy_w1(a, b), rel=1e-10)
    assert wass.wasserstein_1d(a, b, 1) == pytest.approx(wass.scipy_w1(a, b), rel=1e-10)
    # Bures in 1-D: √((m1 − m2)² + (s1 − s2)²)
    assert wass.gaussian_w2(0.0, 1.0, 1.0, 4.0) == pytest.approx(np.sqrt(2.0))
    # quantile formula against the exact N(0,1) law: a small, positive MC floor
    w = wass.quantile_wasserstein(g.standard_normal(20_000), stats.norm.ppf, 2)
    assert 0 < w < 0.05
    # the cap is honoured: only the first `cap` points enter the solve
    big = g.standard_normal((5000, 2))
    assert wass.emd_wasserstein(big, big[::-1], 2, cap=100) > 0


def test_simulations_raise_on_divergence(d3):
    cfg = {"monte_carlo": {"paths_per_block": 2, "blocks_per_chunk": 1}}
    sde = ls.TrainingSDE(d3, 0.1, 0)
    with pytest.raises(DivergenceError, match=r"least_squares.E0: 4 of 4 paths .*γ = 0\.1, Δ = 5"):
        simulate(cfg, sde, np.ones(3), 4, [2000], 0, "E0", dt=5.0)


def test_dataset_files_are_versioned(tmp_path):
    cfg = {
        "kind": "training",
        "n": 10,
        "spectrum": {"power": 1.0, "d": 4},
        "theta_true": "gaussian",
        "noise": 0.0,
    }
    arrays = ls.make_training_set(cfg, np.random.default_rng(0))
    assert arrays["X"].shape == (10, 4)
    np.testing.assert_allclose(arrays["X"] @ arrays["theta_true"], arrays["y"])  # noiseless
    meta = {"version": ls.DATA_VERSION, "config_hash": ls.config_hash(cfg)}
    ls.write_dataset(tmp_path / "a.npz", arrays, meta)
    back, _ = ls.read_dataset(tmp_path / "a.npz", ls.config_hash(cfg))
    np.testing.assert_array_equal(back["X"], arrays["X"])
    with pytest.raises(ValueError, match="config hash"):
        ls.read_dataset(tmp_path / "a.npz", "0" * 16)
    ls.write_dataset(tmp_path / "b.npz", arrays, {**meta, "version": 0})
    with pytest.raises(ValueError, match="data version"):
        ls.read_dataset(tmp_path / "b.npz")


def test_kernel_component_is_frozen_and_limit_is_closest_interpolator():
    """docs/least_squares.md#setting/docs/least_squares.md#setting: n < d, noiseless SDE: P_Ker(θ_t
    − θ_0) = 0 and θ_t → θ_0 − X⁺(Xθ_0 − y)."""
    g = np.random.default_rng(5)
    X = g.standard_normal((4, 8))
    problem = ls.TrainingProblem(X, g.standard_normal(4))
    theta0 = np.tile(g.standard_normal(8), (3, 1))
    sde = ls.TrainingSDE(problem, 0.2 * problem.gamma_max, 1)
    out = engine.simulate(sde, theta0[0], engine.Paths(3), [4000], 5, "t", dt=0.05).states[-1]
    kernel = np.eye(8) - problem.range_basis @ problem.range_basis.T
    np.testing.assert_allclose((out - theta0) @ kernel, 0, atol=1e-12)
    target = theta0[0] - np.linalg.pinv(X) @ (X @ theta0[0] - problem.y)
    np.testing.assert_allclose(out, np.tile(target, (3, 1)), atol=1e-8)
