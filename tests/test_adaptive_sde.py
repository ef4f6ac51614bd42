"""Unit and rate tests of sgdsde.adaptive and its experiments (docs/adaptive_sde.md)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sgdsde.adaptive import (
    MODELS,
    Adam,
    GaussianDataQuadratic,
    Preconditioner,
    RMSprop,
    adam_equation,
    bridge_increments,
    coupled_weak_errors,
    evaluate_test_functions,
    rk4_drift,
    rmsprop_equation,
    stack,
)
from sgdsde.checks import DivergenceError
from sgdsde.engine import Paths, euler_maruyama, simulate
from sgdsde.experiments.adaptive_sde.common import hessian, resolve_problems
from sgdsde.experiments.adaptive_sde.deterministic import (
    _deterministic_error,
    run_E3,
    v_only_discrete,
    v_only_sde,
)
from sgdsde.experiments.adaptive_sde.scaling import srsr_identity_deviation
from sgdsde.stats import control_variate_estimate, fit_loglog_slope

A = np.array([[1.0, 0.5], [0.5, 1.0]])
THETA0 = np.array([1.0, 0.5])


@pytest.fixture
def problem():
    return GaussianDataQuadratic(A, 1.0)


def test_problem_noise_moments(problem, rng):
    assert np.allclose(problem.Sigma, A @ A)
    assert np.allclose(problem.sqrt_M @ problem.sqrt_M, 2 * (A @ A) ** 2)
    xi = problem.noise(rng.standard_normal((200_000, 2)))
    assert np.allclose(np.cov(xi, rowvar=False), problem.Sigma, atol=0.02)
    assert np.allclose(np.cov(xi**2, rowvar=False), problem.M, rtol=0.05, atol=0.05)


def test_preconditioner_variants():
    v = np.array([-1.0, 0.05, 0.1, 0.5])
    relu = Preconditioner(eps=0.0, c_reg=0.1)
    assert np.allclose(relu.phi(v), [0.1, 0.1, 0.1, 0.5])
    assert np.allclose(relu.dphi(v), [0, 0, 0, 1])
    assert relu.active(v).tolist() == [True, True, False, False]
    smooth = Preconditioner(eps=0.0, c_reg=0.1, kind="exp")
    assert np.all(smooth.phi(v) > 0) and smooth.phi(v)[-1] == 0.5
    assert np.isclose(smooth.phi(np.array([0.1 - 1e-9]))[0], 0.1, atol=1e-8)  # continuous
    assert np.allclose(Preconditioner(1e-6, 0.0, "none").phi(v), v)
    assert np.allclose(relu.D(np.array([0.25])), 2.0)


def test_rmsprop_step_both_regimes(problem):
    X = stack(THETA0, [2.0, 3.0])
    xi = np.array([[0.3, -0.2]])
    tau, c, eps = 0.25, 0.5, 1e-6
    g = A @ THETA0 + xi[0]
    out = RMSprop(problem, c, eps, "ballistic").step(X, 0, xi, tau)
    assert np.allclose(out[0, 0], THETA0 - tau * g / (np.sqrt([2.0, 3.0]) + eps))
    assert np.allclose(out[0, 1], (1 - c * tau) * np.array([2.0, 3.0]) + c * tau * g**2)
    gb = A @ THETA0 + xi[0] / np.sqrt(tau)
    out = RMSprop(problem, c, eps, "batch_equivalent").step(X, 0, xi, tau)
    assert np.allclose(out[0, 1], (1 - c * tau) * np.array([2.0, 3.0]) + c * tau**2 * gb**2)
    with pytest.raises(ValueError, match="regime"):
        RMSprop(problem, c, eps, "other")


def test_adam_bias_correction_indexing(problem):
    X = stack(THETA0, [0.0, 0.0], [0.5, 0.5])
    xi = np.zeros((1, 2))
    natural = Adam(problem, 1.0, 0.5, 1e-6, indexing="natural").step(X, 0, xi, 0.25)
    assert np.allclose(natural[0, 0], THETA0)  # γ2_0 = 0: Γ_0 = 0
    code = Adam(problem, 1.0, 0.5, 1e-6, indexing="code").step(X, 0, xi, 0.25)
    g1, g2 = 1 - 0.75**2, 1 - 0.875
    m1 = 0.25 * (A @ THETA0)
    expected = THETA0 - 0.25 * np.sqrt(g2) / g1 * m1 / (np.sqrt(0.5) + 1e-6 * np.sqrt(g2))
    assert np.allclose(code[0, 0], expected)


def test_adam_sde_gamma_matches_discrete_indexing(problem):
    tau = 0.125
    for indexing in ("natural", "code"):
        model = adam_equation(problem, "sde2", tau, 1.0, 0.5, 1e-6, indexing=indexing)
        a1, a2 = {"natural": (1, 0), "code": (2, 1)}[indexing]
        for n in (1, 5, 20):
            g1, g2, _, _ = model.gammas(n * tau)
            assert np.isclose(g1, 1 - (1 - tau) ** (n + a1))
            assert np.isclose(g2, 1 - (1 - 0.5 * tau) ** (n + a2))


def test_adam_code_variant_takes_the_authors_five_term_rate(problem):
    """The code variant's S = Σ_{k≤5} c^k τ^{k−1}/k! (the authors'); the derived model's exact
    S = −ln(1−cτ)/τ. They differ by −c³τ²/6 + O(τ³): at τ → τ/2 the gap falls by 4."""
    c, gaps = 0.5, []
    for tau in (0.1, 0.05, 0.025):
        exact = adam_equation(problem, "sde2", tau, 1.0, c, 1e-6)._rate(c)
        series = adam_equation(problem, "sde2_code", tau, 1.0, c, 1e-6)._rate(c)
        assert series == sum(c**k * tau ** (k - 1) / math.factorial(k) for k in range(1, 6))
        assert exact == -np.log1p(-c * tau) / tau
        gaps.append((series - exact) / (-(c**3) * tau**2 / 6))
    assert np.allclose(gaps, 1.0, atol=0.1) and abs(gaps[-1] - 1) < abs(gaps[0] - 1)


def test_bridge_increments_sum_and_variance(rng):
    z = rng.standard_normal((20_000, 2))
    inc = bridge_increments(z, 0.25, rng.standard_normal((8, *z.shape)))
    assert np.allclose(inc.sum(axis=0), 0.5 * z)
    # each increment is N(0, τ/K) and independent of the others
    assert np.isclose(inc[3].var(), 0.25 / 8, rtol=0.03)
    assert abs(np.corrcoef(inc[0, :, 0], inc[1, :, 0])[0, 1]) < 0.03


def test_order1_sde_runs_on_the_engine_with_theta_noise_only(problem):
    sde = rmsprop_equation(problem, "sde1", 0.125, 0.5, 1e-6)
    assert sde.noise_shape == (1, 2) and sde.weak_order == 1
    X0 = stack(THETA0, [1.0, 1.0])[0]
    X = simulate(sde, X0, Paths(64, 16), [64], 7, "t", dt=0.125**2).states[-1]
    assert X.shape == (64, 2, 2) and np.all(np.isfinite(X))
    assert np.ptp(X[:, 0, 0]) > 0
    noise = sde.diffusion(0.0, X, np.ones((64, 1, 2)))
    assert np.all(noise[:, 0] != 0) and np.all(noise[:, 1] == 0)  # order-1 SDE: noise in θ only


def test_weak_orders_are_data(problem):
    order = {
        m: rmsprop_equation(problem, m, 0.125, 0.5, 1e-6).weak_order
        for m in MODELS
        if m != "sde1_code"  # batch-equivalent only
    }
    assert order["ode"] == order["sde1"] == 1 and order["sde2"] == 2
    assert order["sde2_no_w2"] is order["sde2_code"] is None
    batch = {
        m: rmsprop_equation(problem, m, 0.125, 0.5, 1e-6, regime="batch_equivalent").weak_order
        for m in ("ode", "sde1_code")
    }
    assert batch["ode"] is None  # O(1) noise: the ODE approximates nothing
    assert batch["sde1_code"] is None  # a code variant: its order is what E6 and E8 measure


def test_w2_switches(problem):
    X = stack(THETA0, [1.0, 1.0])
    dW = np.array([[[0.0, 0.0], [0.1, -0.1]]])  # (dW1, dW2) = (0, ·)
    with_w2 = rmsprop_equation(problem, "sde2", 0.25, 0.5, 1e-6).diffusion(0, X, dW)
    no_w2 = rmsprop_equation(problem, "sde2_no_w2", 0.25, 0.5, 1e-6).diffusion(0, X, dW[:, :1])
    code = rmsprop_equation(problem, "sde2_code", 0.25, 0.5, 1e-6).diffusion(0, X, dW)
    assert np.abs(with_w2[0, 1]).max() > 0 and np.all(no_w2 == 0) and np.all(code == 0)
    assert set(MODELS) >= {"ode", "sde1", "sde2", "sde2_no_w2", "sde2_code"}


def _det_slopes(disc, problem, name, taus, T, skip_of, **kw):
    X0 = (
        stack(THETA0, (A @ THETA0) ** 2)
        if isinstance(disc, RMSprop)
        else stack(THETA0, [0.0, 0.0], [0.5, 0.5])
    )
    errs = []
    for tau in taus:
        if isinstance(disc, RMSprop):
            model = rmsprop_equation(problem, name, tau, disc.c, disc.eps)
        else:
            model = adam_equation(problem, name, tau, disc.c1, disc.c2, disc.eps, **kw)
        errs.append(_deterministic_error(disc, model, X0, tau, T, skip_of(tau), 4).max())
    return fit_loglog_slope(taus, errs).slope


def test_rmsprop_deterministic_orders():
    """Rate test (docs/adaptive_sde.md#experiments V1): σ = 0, exact errors; slopes 1 and 2 over τ =
    2^-4…2^-6."""
    problem = GaussianDataQuadratic(A, 0.0)
    disc, taus = RMSprop(problem, 0.5, 1e-6), 2.0 ** -np.arange(4, 7)
    assert abs(_det_slopes(disc, problem, "ode", taus, 1.0, lambda t: 0) - 1) < 0.05
    assert abs(_det_slopes(disc, problem, "sde2", taus, 1.0, lambda t: 0) - 2) < 0.05


def test_adam_deterministic_orders_and_code_variant():
    """Rate test (docs/adaptive_sde.md#experiments A1): from t0 = 0.25, ODE order 1 and order-2
    drift order 2; the code's drift is order 1; from 2τ the order-2 drift gives only ≈1.5."""
    problem = GaussianDataQuadratic(A, 0.0)
    disc, taus = Adam(problem, 1.0, 0.5, 1e-6), 2.0 ** -np.arange(4, 7)
    t0 = lambda tau: round(0.25 / tau)  # noqa: E731
    assert abs(_det_slopes(disc, problem, "ode", taus, 2.0, t0) - 1) < 0.1
    assert abs(_det_slopes(disc, problem, "sde2", taus, 2.0, t0) - 2) < 0.15
    assert _det_slopes(disc, problem, "sde2_code_drift", taus, 2.0, t0) < 1.2
    assert abs(_det_slopes(disc, problem, "sde2", taus, 2.0, lambda t: 2) - 1.5) < 0.15


def test_v_only_closed_form():
    """V2: the discrete moments match a simulation, the SDE mean is the exact exponential, and
    the exact errors have slope 2 with W2 and 1 without (K1a)."""
    problem = GaussianDataQuadratic(A, 1.0)
    s, M, v0, c = problem.diag_Sigma, problem.M, np.full(2, 0.5), 0.5
    gen = np.random.default_rng(1)
    v = np.repeat(v0[None], 100_000, axis=0)
    for _ in range(4):
        v = 0.875 * v + 0.125 * problem.noise(gen.standard_normal(v.shape)) ** 2
    m, Q = v_only_discrete(s, M, c, v0, 0.25, 1.0)
    assert np.allclose(v.mean(0), m, rtol=0.01) and np.allclose(
        (v**2).mean(0), np.diag(Q), rtol=0.02
    )
    m_sde, _ = v_only_sde(s, M, c, v0, 0.25, 1.0, order=1, w2=False)
    assert np.allclose(m_sde, s + (v0 - s) * np.exp(-c))
    taus = 2.0 ** -np.arange(5, 9)
    err = {
        w2: [
            np.trace(
                v_only_discrete(s, M, c, v0, t, 1.0)[1] - v_only_sde(s, M, c, v0, t, 1.0, 2, w2)[1]
            )
            for t in taus
        ]
        for w2 in (True, False)
    }
    assert abs(fit_loglog_slope(taus, err[True]).slope - 2) < 0.05
    assert abs(fit_loglog_slope(taus, err[False]).slope - 1) < 0.05


def test_one_step_covariances_k2():
    problem = {"A": A.tolist(), "sigma": 1.0, "theta0": THETA0.tolist(), "v0": "warm"}
    opts = {"rmsprop": {"c": 0.5, "eps": 1e-6}, "adam": {"c1": 1.0, "c2": 0.5, "eps": 1e-6}}
    cfg = {"E3": {"problem": problem, "tau": 0.125, "n_draws": 400_000, **opts}}
    m = run_E3(cfg, 7).metrics
    assert m["rmsprop_ballistic/max_normalised_deviation"] < 0.02
    assert m["adam_ballistic/max_normalised_deviation"] < 0.02
    assert m["rmsprop_ballistic_code/max_normalised_deviation"] > 0.1  # no W2
    assert m["adam_ballistic_code/max_normalised_deviation"] > 0.1  # flipped m-v sign
    assert m["cross_covariance_max_correlation"] < 0.01


def test_srsr_identity(problem, rng):
    X0 = np.repeat(stack(THETA0, [2.0, 2.0]), 16, axis=0)
    assert srsr_identity_deviation(problem, 0.5, 1e-6, 0.0625, X0, 16, rng) < 1e-12


def test_control_variate_estimate_is_unbiased_and_reduces_se(rng):
    cv = rng.standard_normal((50_000, 2))  # exact mean 0
    diff = 0.1 + cv @ np.array([1.0, -2.0]) + 0.1 * rng.standard_normal(50_000)
    est, se = control_variate_estimate(diff, cv)
    _, raw_se = control_variate_estimate(diff, None)
    assert abs(est - 0.1) < 4 * se and se < raw_se / 10


def _coupled(problem, models, tau=0.125, n=2000, seed=3, **kw):
    disc = RMSprop(problem, 0.5, 1e-6)
    eqs = {m: rmsprop_equation(problem, m, tau, 0.5, 1e-6) for m in models}
    X0 = stack(THETA0, (A @ THETA0) ** 2 + problem.diag_Sigma)
    chunk = next(Paths(n, n // 2, 2).chunks(seed, "coupled"))
    return coupled_weak_errors(disc, eqs, X0, tau, 1.0, 0, 8, chunk, **kw)


def test_coupled_engine_deterministic_limit():
    """σ = 0: the coupled engine's ODE error equals the direct computation up to EM bias."""
    problem = GaussianDataQuadratic(A, 0.0)
    run = _coupled(problem, ["ode"], n=4)
    err = run.terminal["theta_sq"]["disc"] - run.terminal["theta_sq"]["ode"]
    model = rmsprop_equation(problem, "ode", 0.125, 0.5, 1e-6)
    X0 = stack(THETA0, (A @ THETA0) ** 2)
    Y = euler_maruyama(model, X0, 0.0, 0.125 / 8, [None] * 64)
    disc = RMSprop(problem, 0.5, 1e-6)
    X = X0
    for n in range(8):
        X = disc.step(X, n, np.zeros((1, 2)), 0.125)
    exact = evaluate_test_functions(X)["theta_sq"] - evaluate_test_functions(Y)["theta_sq"]
    assert np.ptp(err) == 0 and abs(err[0] - exact[0]) < 1e-12
    # and the Euler drift is close to RK4 (EM bias O(dt) = O(τ/8) of an O(τ) error)
    Y4 = rk4_drift(model, X0, 0.0, 1.0, 0.125 / 8)
    rk4 = evaluate_test_functions(X)["theta_sq"] - evaluate_test_functions(Y4)["theta_sq"]
    assert abs(rk4[0] - exact[0]) < 0.25 * abs(rk4[0])


def test_coupled_order2_beats_order1_and_is_reproducible(problem):
    run = _coupled(problem, ["ode", "sde2"])
    diff = {
        m: run.terminal["theta_sq"]["disc"] - run.terminal["theta_sq"][m] for m in ("ode", "sde2")
    }
    e_ode, se_ode = control_variate_estimate(diff["ode"], run.cv)
    e2, se2 = control_variate_estimate(diff["sde2"], run.cv)
    assert abs(e2) + 3 * se2 < abs(e_ode) - 3 * se_ode
    again = _coupled(problem, ["ode", "sde2"])
    assert np.array_equal(again.terminal["theta_sq"]["sde2"], run.terminal["theta_sq"]["sde2"])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_divergence_names_experiment_and_step():
    problem = GaussianDataQuadratic(np.eye(2), 3.0)
    disc = RMSprop(problem, 0.5, 1e-6)
    bad = {"sde2": rmsprop_equation(problem, "sde2", 0.5, 0.5, 1e-6, c_reg=0.0, regulariser="none")}
    with pytest.raises(DivergenceError, match=r"adaptive_sde.E4: .*τ = 0.5"):
        coupled_weak_errors(
            disc,
            bad,
            stack(np.ones(2), np.full(2, 1e-3)),
            0.5,
            4.0,
            0,
            2,
            next(Paths(200, 200).chunks(0)),
            label="adaptive_sde.E4",
        )


def test_hessian_from_eigenvalues_and_problem_resolution():
    A6 = hessian({"eigenvalues": [0.5, 1.0, 2.0], "rotation_seed": 0})
    assert np.allclose(np.linalg.eigvalsh(A6), [0.5, 1.0, 2.0]) and np.allclose(A6, A6.T)
    problems = {"main": {"A": A.tolist()}}
    out = resolve_problems({"problem": "main", "adam": {"problem": "main"}, "T": 1}, problems)
    assert out["problem"] == problems["main"] and out["adam"]["problem"] == problems["main"]


def test_each_t3_row_reads_its_own_code_variant_against_the_same_start():
    from sgdsde.adaptive import MODELS
    from sgdsde.experiments.adaptive_sde.tables import DISCREPANCIES

    rows = {row: (derived, code) for row, _, derived, code, _ in DISCREPANCIES}
    terms = {"3": "hv", "4": "dt"}  # b1_v's H(∇f ⊙ D) and the dropped time derivative
    for row, term in terms.items():
        derived, code = rows[row]
        variant = code.split("/")[2]
        assert MODELS[variant].code_terms == {term}, row
        assert derived.split("/")[:2] == code.split("/")[:2], row
