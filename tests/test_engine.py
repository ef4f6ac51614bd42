"""The Monte-Carlo engine: seed blocks, chunk invariance, Euler–Maruyama's order, divergence."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from sgdsde import least_squares as ls
from sgdsde.bench import OrnsteinUhlenbeck
from sgdsde.checks import DivergenceError
from sgdsde.engine import Paths, euler_maruyama, simulate
from sgdsde.seeding import rng
from sgdsde.stats import fit_loglog_slope


def test_blocks_cover_the_paths_and_the_last_may_be_short():
    assert Paths(10, 4).blocks == [(0, 4), (4, 8), (8, 10)]
    chunks = list(Paths(10, 4, 2).chunks(0, "k"))
    assert [(c.start, c.stop, c.sizes) for c in chunks] == [(0, 8, (4, 4)), (8, 10, (2,))]
    with pytest.raises(ValueError, match="paths_per_block"):
        Paths(10, 0)


def test_a_block_draws_what_one_call_on_its_own_stream_draws():
    """Block b's numbers are one ``standard_normal((*lead, size, *shape))`` on ``rng(seed, *keys,
    b)``, whatever block it shares a chunk with."""
    (chunk,) = Paths(7, 4, 2).chunks(3, "E", 1)
    got = chunk.normals(2, lead=(3,))
    for b, (a, z) in enumerate(((0, 4), (4, 7))):
        expected = rng(3, "E", 1, b).standard_normal((3, z - a, 2))
        np.testing.assert_array_equal(got[:, a:z], expected)
    ints = chunk.draw(lambda gen, size: gen.integers(0, 9, size))
    assert ints.shape == (7,)


def _training_sde() -> ls.TrainingSDE:
    g = np.random.default_rng(0)
    return ls.TrainingSDE(
        ls.TrainingProblem(g.standard_normal((6, 3)), g.standard_normal(6)), 0.3, 1
    )


@pytest.mark.parametrize("model", [OrnsteinUhlenbeck(3), _training_sde()], ids=["rowwise", "blas"])
def test_results_do_not_depend_on_the_chunk_size(model):
    X0 = np.ones(3)
    runs = [
        simulate(model, X0, Paths(300, 64, per), [5, 20], 11, "t", dt=0.05).states
        for per in (1, 2, 5)
    ]
    assert runs[0].shape == (2, 300, 3)
    assert all(np.array_equal(runs[0], r) for r in runs[1:])


def test_euler_maruyama_is_weak_order_one_and_the_engine_simulates_it():
    """OU, ``E X_T²``: Euler's exact second moment ``m ← (1 − θh)² m + σ²h`` has error O(h)
    against the SDE's (slope 1 ± 0.05, closed forms only), and the engine's Monte-Carlo estimate
    matches Euler's own moment within 4 SE."""
    ou, T = OrnsteinUhlenbeck(1, theta=1.0, sigma=0.5, x0=1.0), 1.0
    exact = np.exp(-2 * T) + ou.sigma**2 * (1 - np.exp(-2 * T)) / 2
    hs = 2.0 ** -np.arange(4, 9)
    errors = []
    for h in hs:
        m = 1.0
        for _ in range(round(T / h)):
            m = (1 - h) ** 2 * m + ou.sigma**2 * h
        errors.append(m - exact)
    assert abs(fit_loglog_slope(hs, errors).slope - 1) < 0.05
    h = hs[0]
    x = simulate(ou, np.ones(1), Paths(20_000), [round(T / h)], 2, "ou", dt=h).states[-1, :, 0]
    se = (x**2).std(ddof=1) / np.sqrt(len(x))
    assert abs((x**2).mean() - (exact + errors[0])) < 4 * se


def test_euler_maruyama_evaluates_drift_and_diffusion_at_the_old_state():
    @dataclass(frozen=True)
    class Linear:
        noise_shape = (1,)
        weak_order = 1

        def drift(self, t, X):
            return -X

        def diffusion(self, t, X, dW):
            return X * dW

    X = euler_maruyama(Linear(), np.array([[2.0]]), 0.0, 0.1, [np.array([[0.5]])])
    assert X[0, 0] == 2.0 + 0.1 * -2.0 + 2.0 * 0.5


@dataclass(frozen=True)
class _Doubling:
    """``X ← 2X + z``: paths diverge when they start far out."""

    def draw(self, chunk):
        return chunk.normals(1)

    def step(self, t, X, z):
        return 2 * X + 1e-3 * z


def test_diverging_paths_are_frozen_counted_and_named():
    X0 = np.zeros((6, 1))
    X0[[1, 4], 0] = 1e140
    run = simulate(_Doubling(), X0, Paths(6, 2), [10, 40], 0, "d", per_path=True)
    assert run.n_diverged == 2 and list(np.flatnonzero(run.diverged)) == [1, 4]
    assert np.all(run.states[-1][run.diverged] == 0) and np.all(np.isfinite(run.states))
    assert list(run.diverged_at[run.diverged]) == [1, 1]  # 1e140·2¹⁰ < 1e150 < 1e140·2⁴⁰
    with pytest.raises(DivergenceError, match=r"E9: 2 of 6 paths diverged at h = 1, .* step 40"):
        run.require_converged("E9", "h = 1")
