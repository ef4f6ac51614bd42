"""The experiment functions the rules call: E0 and E1 of 2504.13992 at small sizes."""

import copy

import numpy as np
import pytest

from sgdsde.checks import DivergenceError, require_finite
from sgdsde.experiments import experiment
from sgdsde.experiments.momentum_approx import run_E0, run_E1


@pytest.fixture
def small(default_config):
    cfg = copy.deepcopy(default_config["momentum_approx"])
    cfg["E0"]["n_steps"] = 200
    return cfg, default_config["seed"]


def test_e0_metrics_meet_the_spec_thresholds(small):
    cfg, seed = small
    m = run_E0(cfg, seed).metrics
    assert m["lift_sgd_form_error_rel"] <= 1e-13
    assert m["velocity_form_error_rel"] <= 1e-10
    assert m["natural_objective_error_rel"] <= 1e-13
    assert m["seed_objective_discrepancy_rel"] > 0.1
    assert m["lift_jacobian_asymmetry"] > 1.0


def test_e0_is_a_deterministic_function_of_the_seed(small):
    cfg, seed = small
    a, b, c = run_E0(cfg, seed), run_E0(cfg, seed), run_E0(cfg, seed + 1)
    assert a.tables["table"].equals(b.tables["table"])
    assert not np.allclose(a.tables["table"]["iterate_norm"], c.tables["table"]["iterate_norm"])


def test_e1_table_columns_and_metrics(small):
    cfg, seed = small
    cfg["E1"]["configs"] = {"B": {**cfg["E1"]["configs"]["B"], "k": [3, 8]}}
    result = run_E1(cfg, seed)
    table = result.tables["table"]
    for column in ("config", "approximation", "test_function", "h", "error", "sup_error"):
        assert column in table
    assert set(table["config"]) == {"B"}
    assert set(table["approximation"]) == {"ode", "sde1", "sde2"}
    assert len(table) == 6 * 3 * 3
    assert len(result.metrics["B/sde2/g1/terminal_tail_slopes"]) == 3
    assert result.metrics["B/ode/g1/phibar"] == pytest.approx(-0.3751, abs=1e-4)
    assert "B/sde1/g2/phibar" not in result.metrics  # cos is not a polynomial


def test_unknown_experiments_are_named():
    with pytest.raises(KeyError, match=r"momentum_approx\.E99"):
        experiment("momentum_approx", "E99")
    with pytest.raises(KeyError, match="unknown paper"):
        experiment("nope", "E1")


def test_divergence_is_an_error_naming_experiment_and_step():
    with pytest.raises(
        DivergenceError, match=r"momentum_approx.E1: 1 non-finite value\(s\) at h=0.25"
    ):
        require_finite(np.array([1.0, np.inf]), "momentum_approx.E1", "h=0.25")


def test_e4_acceleration_and_bounds():
    """docs/momentum_approx.md#e4 at reduced size: GD ~ k^-1, heavy ball and Nesterov ~ k^-2 within
    the bound."""
    from sgdsde.experiments.momentum_approx.convex import run_E4

    c = {
        "log10_lambda": [-6, 0],
        "n_coordinates": 100,
        "iterations": 1000,
        "window": [10, 300],
        "ode_t_range": [0.1, 300.0],
        "stochastic": {"sigma": 0.01, "n_paths": 4},
    }
    m = run_E4({"E4": c}, 1).metrics
    assert m["gd/envelope_slope"] == pytest.approx(-1.0, abs=0.1)
    for method in ("hb", "nag", "ode"):
        assert m[f"{method}/envelope_slope"] == pytest.approx(-2.0, abs=0.15)
    assert m["nag/bound_ratio"] <= 1.0 and m["ode/bound_ratio"] <= 1.0
    assert m["gd/bound_ratio"] > 1.0


def test_e6_residual_is_small_and_needs_the_diffusion_term(small):
    from sgdsde.experiments.momentum_approx.feynman_kac import run_E6

    cfg, seed = small
    cfg["E6"]["n_points"] = 4
    m = run_E6(cfg, seed).metrics
    assert m["relative_residual"] < 1e-6
    assert m["relative_residual_without_diffusion"] > 1e-4


def test_e7_sweep_names_every_combination(small):
    from sgdsde.experiments.momentum_approx.exact_rates import sweep_cases

    cases = sweep_cases(small[0]["E7"])
    assert len(cases) == 5 * 4 + 2 + 2  # the sweep, and one moving-objective case per regime
    assert cases["moving_B"]["moving"]["kind"] == "cosine" and cases["moving_A"]["regime"] == "A"
    assert cases["B_U-diag_V-diag"]["V"]["scale"] == [2.0, 3.0]
    assert cases["A_Z-warmup"]["regime"] == "A"


def test_e8_constant_grows_like_zeta_over_one_minus_zeta(small):
    from sgdsde.experiments.momentum_approx.exact_rates import run_E8

    cfg, seed = small
    cfg["E8"] = {"zeta": [0.5, 0.9], "W": {"kind": "inverse"}, "k": [8, 12]}
    m = run_E8(cfg, seed).metrics
    assert m["zeta=0.5/g1/last_pair_slope"] == pytest.approx(1.0, abs=0.05)
    # docs/momentum_approx.md#e8: e/h ≈ −0.104 ζ/(1 − ζ) for g1
    assert m["zeta=0.9/g1/error_over_h"] == pytest.approx(-0.104 * 9, rel=0.05)
