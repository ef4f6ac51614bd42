"""Coupled Monte-Carlo weak errors of docs/adaptive_sde.md#experiments on the Gaussian-data
quadratic.

One study (:func:`coupled_study`) serves every MC experiment; the config says which
optimiser, regime, problem and models:

* E4: RMSprop, ballistic, Q-main (T1a, T1b, K1b, R1);
* E5: RMSprop, ballistic, Q6 (d = 6): the paper's Table 1 reconstructed ("v1-like");
* E6: RMSprop, batch-equivalent, Q-main (T2a, T2b) with the B2 third-moment diagnostic;
* E7: Adam, ballistic, started at a fixed t0 (T3);
* E8: Adam, batch-equivalent, started at t0 (T4).

Errors are ``E φ(disc) − E φ(model)`` (positive: the discrete value is larger), coupled
(Brownian bridge), antithetic in W2 and, at T, with the χ² control variate
(docs/adaptive_sde.md#coupling).
"""

from __future__ import annotations

import logging
import time

import numpy as np
import pandas as pd

from sgdsde.adaptive import coupled_weak_errors
from sgdsde.engine import Paths
from sgdsde.experiments import ExperimentResult
from sgdsde.experiments.adaptive_sde.common import (
    PAPER,
    build_problem,
    discrete_optimizer,
    effective_equation,
    initial_state,
    ladder,
)
from sgdsde.stats import Estimate, control_variate_estimate, resolved_slope

log = logging.getLogger(__name__)

#: Test functions whose errors are tabulated (the per-time trajectory keeps the first three).
REPORTED = ("theta_sq", "v_sq", "m_sq", "theta_norm", "v_norm", "v1_sq", "theta1_sq_v1")
TRAJECTORY = ("theta_sq", "v_sq", "m_sq")


def _merge(runs):
    """Concatenate the per-path terminal values and the per-block trajectory sums of several
    chunks, then sum the blocks once, in block order (the same totals for any chunking)."""
    first = runs[0]
    terminal = {
        g: {k: np.concatenate([r.terminal[g][k] for r in runs]) for k in vals}
        for g, vals in first.terminal.items()
    }
    sums = {
        g: {k: np.concatenate([r.sums[g][k] for r in runs]).sum(axis=0) for k in vals}
        for g, vals in first.sums.items()
    }
    active = {k: sum(r.active[k] for r in runs) for k in first.active}
    counted = {k: sum(r.counted[k] for r in runs) for k in first.counted}
    return first.times, terminal, np.concatenate([r.cv for r in runs]), sums, active, counted


def _simulate(c, seed, experiment, i, tau, models, independent_v_noise, tag):
    """All chunks of one τ; returns the merged measurements."""
    problem = build_problem(c["problem"])
    opt, mc = c["optimizer"], c["mc"]
    indexing = opt.get("indexing", "natural")
    disc = discrete_optimizer(problem, opt, c["regime"], indexing)
    eqs = {
        name: effective_equation(
            problem, opt, name, tau, c["regime"], indexing, c.get("c_reg_power", 1.0)
        )
        for name in models
    }
    X0 = initial_state(problem, c["problem"], opt["name"])
    K = max(1, round(1 / (mc["em_dt_over_tau2"] * tau)))
    skip = round(c["t0"] / tau)
    paths = Paths(mc["n_paths"], mc["paths_per_block"], mc["blocks_per_chunk"])
    runs = [
        coupled_weak_errors(
            disc,
            eqs,
            X0,
            tau,
            c["T"],
            skip,
            K,
            chunk,
            mc["antithetic"],
            independent_v_noise,
            f"{PAPER}.{experiment}",
        )
        for chunk in paths.chunks(seed, PAPER, experiment, tag, i)
    ]
    return _merge(runs)


def _rows(i, tau, models, merged, use_cv, tag):
    times, terminal, cv, sums, active, counted = merged
    rows, traj = [], []
    for g in REPORTED:
        if g not in terminal:
            continue
        for name in models:
            diff = terminal[g]["disc"] - terminal[g][name]
            err, se = control_variate_estimate(diff, cv if use_cv else None)
            raw, raw_se = control_variate_estimate(diff, None)
            s = sums[g][name]
            N = len(diff)
            mean = s[0] / N
            se_t = np.sqrt(np.maximum(s[1] / N - mean**2, 0.0) / (N - 1))
            rows.append(
                {
                    "run": tag,
                    "i": int(i),
                    "tau": tau,
                    "model": name,
                    "test_function": g,
                    "error": err,
                    "se": se,
                    "error_raw": raw,
                    "se_raw": raw_se,
                    "discrete": float(terminal[g]["disc"].mean()),
                    "continuous": float(terminal[g][name].mean()),
                    "max_traj_error": float(np.abs(mean).max()),
                    "max_traj_se": float(se_t[np.argmax(np.abs(mean))]),
                    "phi_active_fraction": active[name] / counted[name],
                }
            )
            if g in TRAJECTORY:
                for t, m_, e_, dm, cm in zip(times, mean, se_t, s[2] / N, s[3] / N, strict=True):
                    traj.append(
                        {
                            "run": tag,
                            "i": int(i),
                            "tau": tau,
                            "model": name,
                            "test_function": g,
                            "t": t,
                            "error": m_,
                            "se": e_,
                            "discrete": dm,
                            "continuous": cm,
                        }
                    )
    return rows, traj


def slope_metrics(table: pd.DataFrame, prefix: str, n_tail: int = 3) -> dict:
    """Per (model, test function): errors and SEs on the ladder, the SE-weighted slope over the
    resolved τ (SE ≤ |error|/4; None if fewer than 3), the same over the ``n_tail`` smallest τ,
    and the error ratio to ``sde2`` at the smallest τ."""
    metrics = {}
    for (name, g), group in table.groupby(["model", "test_function"]):
        group = group.sort_values("tau", ascending=False)
        est = [Estimate(e, s) for e, s in zip(group["error"], group["se"], strict=True)]
        key = f"{prefix}{name}/{g}"
        fit = resolved_slope(group["tau"].to_numpy(), est)
        tail = resolved_slope(group["tau"].to_numpy()[-n_tail:], est[-n_tail:])
        metrics |= {
            f"{key}/errors": group["error"].tolist(),
            f"{key}/se": group["se"].tolist(),
            f"{key}/abs_error_over_se": (group["error"].abs() / group["se"]).tolist(),
            f"{key}/abs_error_over_se_at_tau_min": float(abs(est[-1].mean) / est[-1].se),
            f"{key}/resolved_slope": fit.slope if fit else None,
            f"{key}/resolved_slope_ci": [fit.ci_low, fit.ci_high] if fit else None,
            f"{key}/tail_slope": tail.slope if tail else None,
            f"{key}/tail_slope_ci": [tail.ci_low, tail.ci_high] if tail else None,
            f"{key}/max_traj_errors": group["max_traj_error"].tolist(),
            f"{key}/phi_active_fraction": float(group["phi_active_fraction"].max()),
        }
    smallest = table[table["tau"] == table["tau"].min()].set_index(["model", "test_function"])
    for (name, g), row in smallest.iterrows():
        if ("sde2", g) in smallest.index and name != "sde2":
            ref = smallest.loc[("sde2", g)]
            metrics[f"{prefix}{name}/{g}/ratio_to_sde2_at_tau_min"] = float(
                abs(row["error"]) / abs(ref["error"])
            )
            metrics[f"{prefix}{name}/{g}/excess_over_sde2_in_se_at_tau_min"] = float(
                (abs(row["error"]) - abs(ref["error"])) / np.hypot(row["se"], ref["se"])
            )
    return metrics


def coupled_study(cfg: dict, seed: int, experiment: str) -> ExperimentResult:
    """The coupled weak errors of one MC experiment on its τ-ladder (see the module docstring);
    with ``diagnostic`` (E6) a second run with independent discrete v-noise (B2,
    docs/adaptive_sde.md#experiments)."""
    c = cfg[experiment]
    idx, taus = ladder(c["ladder"])
    runs = [("main", c["models"], False)]
    if c.get("diagnostic"):
        runs.append(("b2", c["diagnostic"]["models"], True))
    rows, traj, metrics = [], [], {"taus": taus.tolist()}
    for tag, models, independent in runs:
        for i, tau in zip(idx, taus, strict=True):
            start = time.perf_counter()
            merged = _simulate(c, seed, experiment, i, tau, models, independent, tag)
            found, found_traj = _rows(i, tau, models, merged, c["mc"]["control_variate"], tag)
            rows += found
            traj += found_traj
            log.info("%s %s τ=2^-%d: %.1f s", experiment, tag, i, time.perf_counter() - start)
        table = pd.DataFrame([r for r in rows if r["run"] == tag])
        metrics |= slope_metrics(table, "" if tag == "main" else f"{tag}/")
        if tag != "main":  # the diagnostic's errors relative to the main run's order-2 error
            main = pd.DataFrame([r for r in rows if r["run"] == "main"])
            last = main[(main["tau"] == taus[-1]) & (main["model"] == "sde2")]
            for _, row in table[table["tau"] == taus[-1]].iterrows():
                ref = last[last["test_function"] == row["test_function"]]["error"]
                if len(ref):
                    metrics[f"{tag}/{row['model']}/{row['test_function']}/ratio_to_main_sde2"] = (
                        abs(row["error"]) / abs(float(ref.iloc[0]))
                    )
    metrics["phi_active_fraction_max"] = float(max(r["phi_active_fraction"] for r in rows))
    return ExperimentResult(
        {"table": pd.DataFrame(rows), "trajectory": pd.DataFrame(traj)}, metrics
    )


def run_E4(cfg, seed):
    """RMSprop ballistic, Q-main (T1a/T1b/K1b/R1)."""
    return coupled_study(cfg, seed, "E4")


def run_E5(cfg, seed):
    """RMSprop ballistic, Q6 (d = 6): Table 1 reconstructed."""
    return coupled_study(cfg, seed, "E5")


def run_E6(cfg, seed):
    """RMSprop batch-equivalent, Q-main (T2a/T2b) and the B2 diagnostic."""
    return coupled_study(cfg, seed, "E6")


def run_E7(cfg, seed):
    """Adam ballistic from t0 (T3)."""
    return coupled_study(cfg, seed, "E7")


def run_E8(cfg, seed):
    """Adam batch-equivalent from t0 (T4)."""
    return coupled_study(cfg, seed, "E8")
