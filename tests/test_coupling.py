"""The coupled Monte-Carlo engine (docs/momentum_approx.md#pitfalls, E1c)."""

import numpy as np
import pytest

from sgdsde.checks import DivergenceError
from sgdsde.coupling import MonteCarlo, coupled_simulation
from sgdsde.experiments.momentum_approx.monte_carlo import _simulate
from sgdsde.moments import continuous_moments, discrete_moments
from sgdsde.observables import SquaredNorm, canonical_test_functions
from sgdsde.oracles import GaussianOracle
from sgdsde.problems import Quartic
from sgdsde.schedules import Schedule
from sgdsde.sde import APPROXIMATIONS, HeavyBallRegimeB, coupled_models
from sgdsde.stats import fit_loglog_slope, weak_error

G = canonical_test_functions(2)
SDES = ("ode", "sde1", "sde2")


def _run(model, h, n_paths=2048, blocks_per_chunk=2, keys=("test",), **kw):
    mc = MonteCarlo(n_paths=n_paths, paths_per_block=256, blocks_per_chunk=blocks_per_chunk, **kw)
    return coupled_simulation(*coupled_models(model, h, SDES), 2.0, G, mc, 7, *keys)


def test_results_do_not_depend_on_the_chunking(cfg_b):
    one, many = _run(cfg_b, 0.125, blocks_per_chunk=1), _run(cfg_b, 0.125, blocks_per_chunk=8)
    for g in G:
        np.testing.assert_array_equal(one.discrete[g], many.discrete[g])
        for a in ("ode", "sde1", "sde2"):
            np.testing.assert_array_equal(one.reference(a, g), many.reference(a, g))


def test_streams_are_keyed(cfg_b):
    a, b = _run(cfg_b, 0.125, keys=("x", 1)), _run(cfg_b, 0.125, keys=("x", 2))
    assert not np.allclose(a.discrete["g1"], b.discrete["g1"])


def test_estimates_match_the_exact_weak_errors(cfg_b):
    """E1c in small: the coupled estimate is within 4 SE (+1 %) of the exact error."""
    h = 0.125
    sample = _run(cfg_b, h, n_paths=4096)
    disc = discrete_moments(cfg_b, h, 2.0)
    for a in SDES:
        cont = continuous_moments(cfg_b, h, 2.0, APPROXIMATIONS[a])
        for name, g in G.items():
            exact = disc.expectation(g, 2)[-1] - cont.expectation(g, 2)[-1]
            est = weak_error(sample.discrete[name], sample.reference(a, name), coupled=True)
            assert abs(est.mean - exact) <= 4 * est.se + 0.01 * abs(exact), (a, name)


def test_coupling_reduces_the_standard_error_like_h_to_the_1_5(cfg_b):
    hs = 2.0 * 2.0 ** -np.arange(4, 8)
    coupled, independent = [], []
    for h in hs:
        sample = _run(cfg_b, h)
        d, ref = sample.discrete["g1"], sample.reference("sde1", "g1")
        coupled.append(weak_error(d, ref, coupled=True).se)
        independent.append(weak_error(d, np.roll(ref, 1), coupled=False).se)
    assert fit_loglog_slope(hs, coupled).slope == pytest.approx(1.5, abs=0.15)
    assert coupled[-1] < independent[-1] / 20


def test_noise_free_ode_is_one_deterministic_path(cfg_b):
    sample = _run(cfg_b, 0.25, n_paths=512)
    assert np.ptp(sample.reference("ode", "g1")) == 0.0
    assert np.ptp(sample.reference("sde1", "g1")) > 0.0


def test_diverging_paths_are_flagged_and_never_averaged():
    model = HeavyBallRegimeB(
        GaussianOracle(Quartic(1), np.eye(1)),
        Schedule("constant"),
        Schedule("constant", 2.0),
        np.array([32.0]),
        np.zeros(1),
    )
    mc = MonteCarlo(n_paths=256, paths_per_block=128, fine_steps=4)
    with np.errstate(all="raise"):  # no overflow or NaN escapes the engine
        optimiser, sdes = coupled_models(model, 0.25, ["sde1"])
        sample = coupled_simulation(optimiser, sdes, 2.0, {"x2": SquaredNorm(1)}, mc, 1, "d")
    assert sample.n_diverged == 256
    assert np.all(np.isfinite(sample.discrete["x2"]))
    cfg = {"n_paths": 256, "paths_per_block": 128, "fine_steps": 4, "blocks_per_chunk": 1}
    with pytest.raises(DivergenceError, match=r"E3.*256 of 256 paths diverged at h=0.25"):
        _simulate(model, 0.25, 2.0, ["sde1"], {"x2": SquaredNorm(1)}, cfg, 1, "E3", 3)


def test_invalid_sizes_are_rejected():
    with pytest.raises(ValueError, match="multiple of paths_per_block"):
        MonteCarlo(n_paths=1000, paths_per_block=256)
    with pytest.raises(ValueError, match="even"):
        MonteCarlo(n_paths=256, paths_per_block=256, fine_steps=3)
