"""The SGD calibration E0, the authors' batch-equivalent order-1 classes and the R1 reruns of
docs/adaptive_sde.md (#e0, #code-variants, #r1)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.linalg import expm

from sgdsde.adaptive import (
    SGD,
    GaussianDataQuadratic,
    LiTaiE,
    adam_equation,
    rmsprop_equation,
    stack,
)
from sgdsde.config import check_config
from sgdsde.config_files import load_config_file
from sgdsde.experiments.adaptive_sde.deterministic import run_E0
from sgdsde.experiments.adaptive_sde.monte_carlo import _order2_gain, coupled_study
from sgdsde.moments import model_law, optimizer_law
from sgdsde.stats import fit_loglog_slope

A = np.array([[1.0, 0.5], [0.5, 1.0]])
THETA0 = np.array([1.0, 0.5])
MAIN = {"A": A.tolist(), "sigma": 1.0, "theta0": THETA0.tolist(), "v0": "warm"}


@pytest.fixture
def problem():
    return GaussianDataQuadratic(A, 1.0)


def _sme_law_van_loan(tau, order, T=1.0):
    """``N(m_T, P_T)`` of ``dθ = −Bθ dt + √τ Σ^{1/2} dW`` by Van Loan's block exponential (an
    independent route to the Lyapunov ODE that sgdsde.moments integrates)."""
    B = A + (0.5 * tau * A @ A if order == 2 else 0.0)
    E = expm(T * np.block([[B, tau * A @ A], [np.zeros((2, 2)), -B.T]]))
    Phi = E[2:, 2:].T
    return Phi @ THETA0, Phi @ E[:2, 2:]


@pytest.mark.parametrize("order", [1, 2])
def test_li_tai_e_law_matches_van_loan(problem, order):
    tau = 2.0**-4
    mean, cov = model_law(LiTaiE(problem, tau, THETA0, order), 1.0)
    ref_mean, ref_cov = _sme_law_van_loan(tau, order)
    assert np.allclose(mean, ref_mean, rtol=1e-11, atol=0)
    assert np.allclose(cov, ref_cov, rtol=1e-10, atol=1e-14)


def test_sgd_law_is_the_recursion(problem):
    tau = 0.125
    mean, cov = optimizer_law(SGD(problem, tau, THETA0), tau, 1.0)
    M, m, P = np.eye(2) - tau * A, THETA0.copy(), np.zeros((2, 2))
    for _ in range(8):
        m, P = M @ m, M @ P @ M.T + tau**2 * A @ A
    assert np.allclose(mean, m, rtol=1e-14) and np.allclose(cov, P, rtol=1e-13)


def test_e0_rates_and_reference_errors():
    """Rate test: slopes 1 and 2 of the exact weak errors; the errors equal an independent
    closed-form evaluation at every τ."""
    cfg = {"E0": {"problem": MAIN, "T": 1.0, "ladder": [2, 8], "fit_last": {"sde1": 4, "sde2": 6}}}
    result = run_E0(cfg, seed=0)
    table, metrics = result.tables["table"], result.metrics
    assert abs(metrics["sde1/fit_slope"] - 1.0) < 0.1
    assert abs(metrics["sde2/fit_slope"] - 2.0) < 0.05
    for row in table.itertuples():
        mean, cov = _sme_law_van_loan(row.tau, int(row.model[-1]))
        assert row.discrete - (mean @ mean + np.trace(cov)) / 2 == pytest.approx(
            row.error, rel=1e-8
        )
    last = table[table["tau"] <= 2.0**-6]
    for name, order in (("sde1", 1), ("sde2", 2)):
        g = last[last["model"] == name]
        assert fit_loglog_slope(g["tau"].to_numpy(), g["error"].to_numpy()).slope == pytest.approx(
            order, abs=0.06
        )


def test_malladi_gammas_and_their_order_tau_gap(problem):
    """``sde1_code``'s γ_i = 1 − e^{−c_i t}; its θ-drift differs from sde1's by O(τ)."""
    X = stack(THETA0, [0.3, 0.3], [0.5, 0.5])
    gaps = []
    for tau in (2.0**-5, 2.0**-6, 2.0**-7):
        code = adam_equation(problem, "sde1_code", tau, 1.0, 0.5, 1e-6, "batch_equivalent")
        g1, g2, dg1, dg2 = code.gammas(0.5)
        assert np.allclose(
            [g1, g2, dg1, dg2],
            [1 - np.exp(-0.5), 1 - np.exp(-0.25), np.exp(-0.5), 0.5 * np.exp(-0.25)],
        )
        ours = adam_equation(problem, "sde1", tau, 1.0, 0.5, 1e-6, "batch_equivalent")
        gaps.append(np.abs(code.drift(0.5, X) - ours.drift(0.5, X))[0, 0].max())
    assert np.allclose(np.array(gaps[:-1]) / np.array(gaps[1:]), 2.0, rtol=0.05)


def test_rmsprop_code_order1_is_sqrt_v(problem):
    X = stack(THETA0, [0.01, 0.5])  # v_1 below c_reg = τ
    tau = 0.125
    code = rmsprop_equation(problem, "sde1_code", tau, 0.5, 1e-6, "batch_equivalent")
    ours = rmsprop_equation(problem, "sde1", tau, 0.5, 1e-6, "batch_equivalent")
    assert np.allclose(
        code.drift(0, X)[0, 0], -problem.grad(X[:, 0])[0] / (np.sqrt([0.01, 0.5]) + 1e-6)
    )
    assert not np.allclose(code.drift(0, X), ours.drift(0, X))
    X[:, 1] = 0.5  # above c_reg: identical
    assert np.array_equal(code.drift(0, X), ours.drift(0, X))


def test_code_order1_class_is_batch_equivalent_only(problem, tmp_path):
    with pytest.raises(ValueError, match="batch-equivalent order-1"):
        rmsprop_equation(problem, "sde1_code", 0.125, 0.5, 1e-6, "ballistic")
    config = load_config_file("config/config.yaml")
    config["adaptive_sde"]["E4"]["models"].append("sde1_code")
    with pytest.raises(ValueError, match=r"adaptive_sde\.E4\.models.*sde1_code"):
        check_config(config)


def _mc_config(regime, r1):
    return {
        "E": {
            "problem": MAIN,
            "optimizer": {"name": "rmsprop", "c": 0.5, "eps": 1e-6},
            "regime": regime,
            "T": 1.0,
            "t0": 0.0,
            "ladder": [2, 4],
            "models": ["sde1", "sde2"],
            "r1": r1,
            "mc": {
                "n_paths": 200,
                "paths_per_block": 100,
                "blocks_per_chunk": 1,
                "em_dt_over_tau2": 1.0,
                "antithetic": True,
                "control_variate": True,
            },
        }
    }


def test_r1_reruns_share_the_main_paths():
    """Where φ is inactive an R1 rerun is bitwise the main run: its shift is exactly 0."""
    r1 = {
        "models": ["sde2"],
        "variants": {"tau_sq": {"c_reg_power": 2}, "smooth": {"regulariser": "exp"}},
    }
    result = coupled_study(_mc_config("ballistic", r1), seed=3, experiment="E")
    table, metrics = result.tables["table"], result.metrics
    assert metrics["phi_active_fraction_max"] == 0.0
    assert metrics["r1/max_shift_over_se"] == 0.0 and metrics["r1/diverged_runs"] == 0
    main = table[(table["run"] == "main") & (table["model"] == "sde2")].reset_index(drop=True)
    rerun = table[table["run"] == "r1_tau_sq"].reset_index(drop=True)
    assert np.array_equal(main["error"], rerun["error"])


def test_order2_gain_is_the_smallest_resolved_margin():
    table = pd.DataFrame(
        {
            "model": ["sde1", "sde2"] * 2,
            "test_function": "theta_sq",
            "tau": [0.5, 0.5, 0.25, 0.25],
            "error": [0.4, -0.1, 0.2, 0.05],
            "se": [0.03, 0.04, 0.03, 0.04],
        }
    )
    gain = _order2_gain(table, "")["sde2/theta_sq/min_gain_over_sde1_in_se"]
    assert gain == pytest.approx(0.15 / 0.05)
    assert _order2_gain(table[table["model"] == "sde1"], "") == {}
