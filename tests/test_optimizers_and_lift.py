"""Pathwise identities between the heavy-ball forms (docs/momentum_approx.md#setting)."""

import numpy as np

from sgdsde.lift import lifted_sgd_step, natural_objective_x_gradient, seed_objective_gradient
from sgdsde.optimizers import heavy_ball_step, heavy_ball_velocity_step, sgd_step
from sgdsde.problems import LogCoshQuartic


def _random_run(rng, n_paths=64, d=3, n_steps=50, h=0.1):
    problem = LogCoshQuartic(rng.standard_normal(d))
    eta = rng.uniform(0.01, 0.1, (n_steps, d))
    zeta = rng.uniform(0.05, 0.95, (n_steps, d))
    noise = 0.3 * rng.standard_normal((n_steps, n_paths, d))
    return problem, eta, zeta, noise, rng.standard_normal((n_paths, d)), h


def test_velocity_form_is_heavy_ball(rng):
    problem, eta, zeta, noise, x0, h = _random_run(rng)
    x, x_prev, xv, p = x0, x0, x0.copy(), np.zeros_like(x0)
    for n in range(len(eta)):
        x, x_prev = heavy_ball_step(x, x_prev, eta[n], zeta[n], problem.mean_field(x) + noise[n]), x
        U, V = eta[n] / h**2, (1 - zeta[n]) / h
        xv, p = heavy_ball_velocity_step(xv, p, h, U, V, problem.mean_field(xv) + noise[n])
    np.testing.assert_allclose(xv, x, rtol=0, atol=1e-12)


def test_lift_sgd_form_and_natural_objective_are_heavy_ball(rng):
    problem, eta, zeta, noise, x0, _ = _random_run(rng)
    x, x_prev = x0, x0
    X = np.hstack([x0, x0])
    for n in range(len(eta)):
        H = problem.mean_field(x) + noise[n]
        x_next = heavy_ball_step(x, x_prev, eta[n], zeta[n], H)
        natural = x - eta[n] * natural_objective_x_gradient(X, eta[n], zeta[n], -H)
        X = lifted_sgd_step(X, eta[n], zeta[n], H)
        np.testing.assert_allclose(natural, x_next, rtol=0, atol=1e-13)
        np.testing.assert_allclose(X, np.hstack([x_next, x]), rtol=0, atol=1e-13)
        x, x_prev = x_next, x


def test_seed_objective_is_not_heavy_ball(rng):
    """The seed's j gives (−η∇f − ζ(x−y), (1−ζ)y + ζx), not (x − η∇f + ζ(x−y), x)
    (docs/momentum_approx.md#lift)."""
    d = 2
    X = rng.standard_normal((10, 2 * d))
    eta, zeta, grad = np.full(d, 0.05), np.full(d, 0.9), rng.standard_normal((10, d))
    seed = X - np.hstack([eta, eta]) * seed_objective_gradient(X, eta, zeta, grad)
    x, y = X[:, :d], X[:, d:]
    np.testing.assert_allclose(seed[:, :d], -eta * grad - zeta * (x - y), atol=1e-12)
    np.testing.assert_allclose(seed[:, d:], (1 - zeta) * y + zeta * x, atol=1e-12)
    hb = heavy_ball_step(x, y, eta, zeta, -grad)
    assert np.abs(seed[:, :d] - hb).max() > 0.5


def test_heavy_ball_with_zero_momentum_is_sgd(rng):
    x, H = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    np.testing.assert_array_equal(heavy_ball_step(x, x + 1, 0.1, 0.0, H), sgd_step(x, 0.1, H))


def test_log_cosh_quartic_jvp_matches_finite_differences(rng):
    problem = LogCoshQuartic(rng.standard_normal(4))
    x, v = rng.standard_normal((6, 4)), rng.standard_normal((6, 4))
    eps = 1e-6
    numeric = (problem.mean_field(x + eps * v) - problem.mean_field(x - eps * v)) / (2 * eps)
    np.testing.assert_allclose(problem.mean_field_jvp(x, v), numeric, rtol=1e-7, atol=1e-8)
    grad_numeric = (problem.value(x + eps * v) - problem.value(x - eps * v)) / (2 * eps)
    # The central difference carries a rounding error ≈ ε_mach·|F|/eps ≈ 1e-10·|F|: an absolute
    # floor is needed where the directional derivative is near 0 (one row here is 3.7e-4).
    roundoff = 1e-9 * np.abs(problem.value(x)).max()
    np.testing.assert_allclose(
        -np.sum(problem.mean_field(x) * v, axis=1), grad_numeric, rtol=1e-7, atol=roundoff
    )
