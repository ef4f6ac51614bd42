"""State-dependent noise (docs/momentum_approx.md#e1, docs/momentum_approx.md#exact-moments): the
moment closure against Monte Carlo."""

import numpy as np

from sgdsde.experiments.momentum_approx.exact_rates import finite_sum_model
from sgdsde.moments import continuous_moments, continuous_moments_ladder, discrete_moments
from sgdsde.observables import SquaredNorm
from sgdsde.sde import APPROXIMATIONS
from sgdsde.stats import mean_with_se

CFG = {
    "n_data": 8,
    "x_true": [1.0, -0.5],
    "label_noise": 0.5,
    "x0": [0.0, 0.0],
    "p0": [0.0, 0.0],
    "U": {"kind": "inverse", "scale": 0.5},
    "V": {"kind": "constant", "scale": 2.0},
}


def test_noise_covariance_and_its_expectation_match_sampling(rng):
    oracle = finite_sum_model(CFG, 3).oracle
    x = rng.standard_normal((3, 2))
    idx = np.arange(8)
    for row, cov in zip(x, oracle.covariance(x), strict=True):
        directions = oracle.sample(np.tile(row, (8, 1)), idx)
        np.testing.assert_allclose(np.cov(directions.T, bias=True), cov, atol=1e-12)
    m, P = np.array([0.3, -0.2]), np.array([[0.5, 0.1], [0.1, 0.2]])
    draws = rng.multivariate_normal(m, P, size=200_000)
    np.testing.assert_allclose(
        oracle.covariance(draws).mean(axis=0),
        oracle.expected_covariance(m, P),
        rtol=0.02,
        atol=2e-3,
    )


def test_second_moment_recursion_matches_minibatch_monte_carlo():
    model = finite_sum_model(CFG, 3)
    h, T, g = 0.125, 2.0, SquaredNorm(2, (1.0, -0.5))
    exact = discrete_moments(model, h, T).expectation(g, 2)[-1]
    gen = np.random.default_rng(11)
    Y = np.tile(model.initial_discrete(h), (50_000, 1))
    for n in range(16):
        Y = model.discrete_step(n * h, h, Y, model.oracle.draw(gen, len(Y)))
    mc = mean_with_se(g(Y[:, :2]))
    assert abs(mc.mean - exact) <= 4 * mc.se


def test_ladder_solve_equals_separate_solves():
    model = finite_sum_model(CFG, 3)
    hs = [0.25, 0.125, 0.0625]
    for a in ("sde1", "sde2"):
        joint = continuous_moments_ladder(model, hs, 2.0, APPROXIMATIONS[a])
        for h, path in zip(hs, joint, strict=True):
            alone = continuous_moments(model, h, 2.0, APPROXIMATIONS[a])
            np.testing.assert_allclose(path.cov[-1], alone.cov[-1], rtol=1e-10, atol=1e-14)
            np.testing.assert_allclose(path.mean[-1], alone.mean[-1], rtol=1e-11)
