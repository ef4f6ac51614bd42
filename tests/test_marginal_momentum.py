"""Unit and rate tests of arXiv 2307.15196 (docs/marginal_momentum.md): parametrisations and
their conversions, the averaged learning rate, the warm-up closed forms, SVAG, the test
problems, Theorem 4.5 by exact moments and the slow SDE of the ½(uv−1)² toy."""

import numpy as np
import pandas as pd
import pytest

from sgdsde import momentum_forms as mf
from sgdsde.experiments.marginal_momentum.common import json_records, one_minus_beta
from sgdsde.experiments.marginal_momentum.exact import _thm45_gaps, run_E2, run_E3
from sgdsde.experiments.marginal_momentum.monte_carlo import (
    ToySlowSDE,
    _lam_sq_integral,
    run_E6,
    toy_label_noise_limit,
    toy_slow_sde,
)
from sgdsde.problems import NC2, ManifoldToy
from sgdsde.stats import fit_loglog_slope


def _gradient(x):
    return NC2().gradient(x)


@pytest.mark.parametrize("z0", [0.3, 1.0, 4.0])
def test_lemma_a2_standard_form_equals_paper_form_pathwise(rng, z0):
    K = 40
    gamma, mu, tau = rng.uniform(0.01, 0.1, K), rng.uniform(0, 0.99, K), rng.uniform(0, 0.9, K)
    m_std = rng.standard_normal((5, 2))
    eta, beta, m = mf.standard_to_paper(gamma, mu, tau, m_std, z0)
    x_s = x_p = rng.standard_normal((5, 2))
    for k in range(K):
        noise = rng.standard_normal((5, 2))
        x_s, m_std = mf.standard_step(x_s, m_std, gamma[k], mu[k], tau[k], _gradient(x_s) + noise)
        x_p, m = mf.sgdm_step(x_p, m, eta[k], beta[k], _gradient(x_p) + noise)
        np.testing.assert_allclose(x_p, x_s, rtol=0, atol=1e-12)
    assert np.all((beta >= 0) & (beta < 1))


def test_lemma_a2_needs_tau_below_one():
    with pytest.raises(ValueError, match="τ_k < 1"):
        mf.standard_to_paper([0.1], [0.5], [1.0], np.zeros(2))


def test_heavy_ball_is_form_3_with_rescaled_lr(rng):
    gamma, beta = 0.02, 0.9
    eta, b, m = mf.heavy_ball_to_paper(gamma, beta, m0 := rng.standard_normal(2))
    assert eta == pytest.approx(gamma / (1 - beta)) and b == beta
    x_h = x_p = np.array([1.0, 0.5])
    m_h = m0
    for _ in range(100):
        noise = rng.standard_normal(2)
        x_h, m_h = mf.form1_step(x_h, m_h, gamma, beta, _gradient(x_h) + noise)
        x_p, m = mf.sgdm_step(x_p, m, eta, b, _gradient(x_p) + noise)
    np.testing.assert_allclose(x_p, x_h, atol=1e-12)


def test_sgdm_with_beta_zero_is_sgd(rng):
    x, g = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    np.testing.assert_array_equal(
        mf.sgdm_step(x, g, 0.1, 0.0, g)[0], mf.sgd_gradient_step(x, 0.1, g)
    )


def test_averaged_lr_matches_its_definition(rng):
    """η̄_k = (1−β_k) Σ_{j≥k} η_j β_{k+1:j} (Eq. 8), by brute force over a zero tail."""
    K = 30
    eta, beta = rng.uniform(0.01, 0.1, K), rng.uniform(0, 0.95, K)
    brute = [
        (1 - beta[k]) * sum(eta[j] * np.prod(beta[k + 1 : j + 1]) for j in range(k, K))
        for k in range(K)
    ]
    np.testing.assert_allclose(mf.averaged_lr(eta, beta, tail="zero"), brute, rtol=1e-13)
    offset = [sum(eta[j] * np.prod(beta[k : j + 1]) for j in range(k, K)) for k in range(K)]
    np.testing.assert_allclose(mf.coupled_offset(eta, beta), offset, rtol=1e-13)


def test_averaged_lr_of_a_constant_schedule_is_the_lr():
    np.testing.assert_allclose(mf.averaged_lr(np.full(50, 0.05), np.full(50, 0.9)), 0.05)
    with pytest.raises(ValueError, match="tail"):
        mf.averaged_lr(np.ones(3), np.zeros(3), tail="linear")


def test_averaged_lr_smooths_a_step_decay():
    eta = np.r_[np.full(50, 0.1), np.full(50, 0.01)]
    bar = mf.averaged_lr(eta, np.full(100, 0.9))
    assert bar[0] == pytest.approx(0.1 - 0.09 * 0.9**50) and bar[-1] == pytest.approx(0.01)
    assert np.all(np.diff(bar) <= 1e-15) and 0.01 < bar[49] < 0.1


def test_coupled_trajectory_identity_is_exact():
    metrics = run_E2(
        {
            "E2": {
                "n_steps": 80,
                "n_paths": 4,
                "sigma": 1.0,
                "x0": [1.0, 0.5],
                "eta": [0.01, 0.1],
                "beta": [0.0, 0.99],
                "constant": {"eta": 0.05, "beta": 0.9},
            }
        },
        3,
    ).metrics
    assert metrics["identity_max_error"] < 1e-12
    assert metrics["constant_eta_bar_error"] < 1e-12


def test_warmup_closed_forms_match_direct_sums():
    eta, sigma, beta, n = 0.1, 1.3, 0.8, 37
    S = sum((1 - beta**i) ** 2 for i in range(1, n + 1))
    assert mf.warmup_endpoint_variance_sgdm(eta, sigma, beta, n) == pytest.approx(
        eta**2 * sigma**2 * S
    )
    # step variance: Var(η m_{k+1}) with m_{k+1} = β^{k+1}c + (1−β)Σ_{s≤k} β^{k−s} g_s
    k = 5
    direct = eta**2 * sigma**2 * (1 - beta) ** 2 * sum(beta ** (2 * s) for s in range(k + 1))
    assert mf.warmup_step_variance_sgdm(eta, sigma, beta, k) == pytest.approx(direct)
    assert mf.warmup_step_variance_sgdm(eta, sigma, beta, 10**6) == pytest.approx(
        eta**2 * sigma**2 * (1 - beta) / (1 + beta)
    )


@pytest.mark.parametrize("ell", [1.0, 1.5, 2.0, 8.0, 100.0])
def test_svag_coefficients(ell):
    r1, r2 = mf.svag_coefficients(ell)
    assert r1 + r2 == pytest.approx(1.0) and r1**2 + r2**2 == pytest.approx(ell)
    if ell == 1.0:
        assert r2 == 0.0


def test_svag_rejects_ell_below_one():
    with pytest.raises(ValueError):
        mf.svag_coefficients(0.5)


def test_svag_scales_gaussian_noise_by_sqrt_ell(rng):
    g1, g2 = rng.standard_normal((2, 400_000, 1)) + 3.0
    g = mf.svag_combine(g1, g2, 8.0)
    assert g.mean() == pytest.approx(3.0, abs=0.03)
    assert g.var() == pytest.approx(8.0, rel=0.02)


def test_svag_oracle_moments_and_lemma_34_scaling():
    cfg = {
        "E6": {
            "ells": [1, 2, 8],
            "moment_ells": [2],
            "n_data": 60,
            "dim": 3,
            "batch": 5,
            "label_noise": 0.5,
            "n_draws": 60000,
            "chunk": 20000,
            "eta": 0.05,
        }
    }
    metrics = run_E6(cfg, 1).metrics
    assert metrics["ell=2/mean_error_over_se"] < 4
    assert metrics["ell=2/cov_rel_error"] < 0.03
    for term in ("descent", "noise", "curvature"):
        assert metrics[f"lemma34_{term}_deviation"] < 1e-12


def test_descent_lemma_is_exact_for_a_quadratic(rng):
    """For L = ½xᵀHx and g = Hx + σΣ^{1/2}ξ: E L(x−ηg) − L(x) = the three terms exactly."""
    H = np.array([[2.0, 0.3], [0.3, 1.0]])
    S = np.array([[1.0, 0.2], [0.2, 0.5]])
    x, eta, sigma = np.array([1.0, -0.5]), 0.1, 2.0
    y = x - eta * H @ x  # mean of x − ηg; the noise adds (η²σ²/2) tr(H S)
    exact = 0.5 * y @ H @ y + 0.5 * eta**2 * sigma**2 * np.trace(H @ S) - 0.5 * x @ H @ x
    assert sum(mf.descent_terms(eta, sigma, H @ x, H, S).values()) == pytest.approx(exact)


def test_descent_lemma_quadrature_orders():
    cfg = {
        "E3": {
            "points": [[1.0, 0.5]],
            "eta0": 0.2,
            "n_eta": 9,
            "fit_points": 5,
            "quadrature_nodes": 40,
        }
    }
    metrics = run_E3(cfg, 0).metrics
    assert metrics["p1/unit/residual3_slope"] == pytest.approx(3.0, abs=0.2)
    assert metrics["p1/inverse_sqrt/residual3_slope"] == pytest.approx(2.0, abs=0.2)


def test_nc2_derivatives_match_finite_differences(rng):
    p, x, h = NC2(), rng.standard_normal(2), 1e-6
    fd = [(p.value(x + h * e) - p.value(x - h * e)) / (2 * h) for e in np.eye(2)]
    np.testing.assert_allclose(p.gradient(x), fd, atol=1e-8)
    fd_hess = [(p.gradient(x + h * e) - p.gradient(x - h * e)) / (2 * h) for e in np.eye(2)]
    np.testing.assert_allclose(p.hessian(x), np.array(fd_hess).T, atol=1e-6)
    xi = rng.standard_normal(2)
    np.testing.assert_allclose(
        p.sample_gradient(x, 0.7, xi), p.gradient(x) + 0.7 * p.noise_sqrt_diag(x) * xi
    )


def test_manifold_toy_label_noise_sgd_identity(rng):
    """docs/marginal_momentum.md#e5: with σ_I = 0, one SGD step maps D to D(1 − η²R²) exactly."""
    toy, x, eta = ManifoldToy(1.0), rng.standard_normal((6, 2)), 0.05
    noise = rng.standard_normal((6, 3))
    R = x[:, 0] * x[:, 1] - 1 + noise[:, 0]
    D_next = toy.invariant(mf.sgd_gradient_step(x, eta, toy.sample_gradient(x, noise)))
    np.testing.assert_allclose(D_next, toy.invariant(x) * (1 - eta**2 * R**2), rtol=1e-12)


def test_slow_sde_closed_form_with_a_step_schedule():
    spec = {"switch": [0.75], "values": [1.0, 0.5]}
    assert _lam_sq_integral(spec, 1.5) == pytest.approx(0.75 + 0.25 * 0.75)
    assert toy_label_noise_limit(3.75, 1.0, _lam_sq_integral(spec, 1.5)) == pytest.approx(
        1.468, abs=1e-3
    )
    samples = toy_slow_sde(
        3.75, ToySlowSDE(1.0, 0.0, lambda t: 1.0), 1e-3, 3, 0, ("t", "E5"), [1.0]
    )
    np.testing.assert_allclose(samples[1.0], 3.75 * np.exp(-1.0), rtol=1e-3)


def test_linear_gaussian_moments_of_sgd_in_one_dimension():
    """E x_k² = a^{2k} x0² + η²σ² (1 − a^{2k})/(1 − a²), a = 1 − ηh."""
    h, eta, sigma, x0, K = 2.0, 0.1, 1.5, 1.0, 25
    got = mf.linear_gaussian_moments(
        np.array([[h]]), np.array([x0]), None, np.full(K, eta), 0.0, sigma, momentum=False
    )
    a, k = 1 - eta * h, np.arange(K + 1)
    np.testing.assert_allclose(
        got, a ** (2 * k) * x0**2 + (eta * sigma) ** 2 * (1 - a ** (2 * k)) / (1 - a**2)
    )


def test_linear_gaussian_moments_of_sgdm_against_monte_carlo(rng):
    H, x0, eta, beta, sigma, K = np.diag([1.0, 3.0]), np.array([1.0, 1.0]), 0.1, 0.8, 2.0, 30
    exact = mf.linear_gaussian_moments(H, x0, H @ x0, np.full(K, eta), beta, sigma)[-1]
    x, m = np.tile(x0, (200_000, 1)), np.tile(H @ x0, (200_000, 1))
    for _ in range(K):
        x, m = mf.sgdm_step(x, m, eta, beta, x @ H + sigma * rng.standard_normal(x.shape))
    sq = (x**2).sum(axis=1)
    assert abs(sq.mean() - exact) < 4 * sq.std() / np.sqrt(len(sq))


THM45 = {"H": [1.0, 3.0], "x0": [1.0, 1.0], "T": 1.0, "c0": 0.1, "c": 1.0}


@pytest.mark.parametrize("alpha", [0.0, 0.25, 0.5])
def test_theorem_45_weak_order_exact(alpha):
    """Thm 4.5: the exact gap decays at least at the proven order (1−α)/2; the measured order
    is 1−α (docs/marginal_momentum.md#exact-moments empirical note)."""
    eta = 0.1 * 2.0 ** -np.arange(3, 8)
    gaps = [_thm45_gaps(THM45, e, alpha)["eta_bar"][0] for e in eta]
    slope = fit_loglog_slope(eta, gaps).slope
    assert slope >= (1 - alpha) / 2
    assert slope == pytest.approx(1 - alpha, abs=0.1)


def test_theorem_45_fails_at_alpha_one_and_with_the_wrong_lr():
    eta = 0.1 * 2.0 ** -np.array([0, 6])
    gaps = [_thm45_gaps(THM45, e, 1.0) for e in eta]
    assert gaps[1]["eta_bar"][0] >= 0.8 * gaps[0]["eta_bar"][0]
    assert gaps[1]["wrong_lr"][0] > 0.5


def test_one_minus_beta_scaling():
    assert one_minus_beta(THM45, 0.01, 0.0) == 0.1
    assert one_minus_beta(THM45, 0.01, 0.5) == pytest.approx(0.1)


def test_json_records_turn_non_finite_into_none():
    rows = json_records(pd.DataFrame({"a": [1.0, np.nan, np.inf], "b": ["x", "y", "z"]}))
    assert rows == [{"a": 1.0, "b": "x"}, {"a": None, "b": "y"}, {"a": None, "b": "z"}]


def test_monte_carlo_results_do_not_depend_on_the_chunk_size():
    from sgdsde.experiments.marginal_momentum.monte_carlo import run_E0

    base = {
        "eta": 0.1,
        "beta": 0.9,
        "sigma": 1.0,
        "c": 1.0,
        "n_steps": 20,
        "n_paths": 25_000,
        "step_checkpoints": [0, 19],
        "gap_horizon": 100,
    }
    one, two = (run_E0({"E0": {**base, "chunk": chunk}}, 7).metrics for chunk in (10_000, 30_000))
    assert one["rows"] == two["rows"]


def test_gap_shrinkage_starts_at_the_first_finite_gap():
    from sgdsde.experiments.marginal_momentum.analogues import gap_shrinkage

    shrinking = gap_shrinkage(np.array([1.2, 0.6, 0.3]))
    assert shrinking["abs_log_R_max_increase"] == pytest.approx(-0.3)
    assert shrinking["abs_log_R_ratio_last_first"] == 0.25
    # SGD diverged at ℓ = 1: the ratio is measured from ℓ = 2, not against a stand-in for ∞
    assert gap_shrinkage(np.array([np.inf, 0.8, 0.4]))["abs_log_R_ratio_last_first"] == 0.5
    assert set(gap_shrinkage(np.array([np.inf, 0.4])).values()) == {None}
    assert set(gap_shrinkage(np.array([0.4, np.inf])).values()) == {None}
