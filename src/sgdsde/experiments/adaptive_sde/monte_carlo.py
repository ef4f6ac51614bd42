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
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sgdsde.adaptive import coupled_weak_errors
from sgdsde.checks import DivergenceError
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


def _simulate(c, seed, experiment, i, tau, run):
    """All chunks of one τ of one run; returns the merged measurements."""
    problem = build_problem(c["problem"])
    opt, mc = c["optimizer"], c["mc"]
    indexing = opt.get("indexing", "natural")
    disc = discrete_optimizer(problem, opt, c["regime"], indexing)
    phi = {"c_reg_power": c.get("c_reg_power", 1.0), **run.regularisation}
    eqs = {
        name: effective_equation(
            problem,
            opt,
            name,
            tau,
            c["regime"],
            indexing,
            phi["c_reg_power"],
            phi.get("regulariser", "relu"),
        )
        for name in run.models
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
            run.independent_v_noise,
            f"{PAPER}.{experiment}",
        )
        for chunk in paths.chunks(seed, PAPER, experiment, run.seed_tag, i)
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


def _order2_gain(table: pd.DataFrame, prefix: str) -> dict:
    """Per test function: the smallest, over the ladder, of ``(|e_sde1| − |e_sde2|)/SE`` with
    ``SE = hypot(se1, se2)`` (conservative: the coupled errors are positively correlated); ≥ 2
    says the order-2 error is resolved smaller at every τ (docs/adaptive_sde.md#e6)."""
    if not {"sde1", "sde2"} <= set(table["model"]):
        return {}
    pivot = table[table["model"].isin(["sde1", "sde2"])].pivot_table(
        index=["test_function", "tau"], columns="model", values=["error", "se"]
    )
    gain = (pivot["error"]["sde1"].abs() - pivot["error"]["sde2"].abs()) / np.hypot(
        pivot["se"]["sde1"], pivot["se"]["sde2"]
    )
    return {
        f"{prefix}sde2/{g}/min_gain_over_sde1_in_se": float(z.min())
        for g, z in gain.groupby(level="test_function")
    }


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
    metrics |= _order2_gain(table, prefix)
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


@dataclass(frozen=True)
class Run:
    """One simulation of an experiment's ladder: its models, the B2 noise copy, the regulariser
    φ, and the tag its seed blocks are keyed by (an R1 rerun shares the main run's paths, so its
    difference from the main run is paired)."""

    tag: str
    models: list
    independent_v_noise: bool = False
    regularisation: dict = field(default_factory=dict)
    seed_tag: str = ""

    def __post_init__(self):
        object.__setattr__(self, "seed_tag", self.seed_tag or self.tag)


def _runs(c: dict) -> list[Run]:
    """The main run, the B2 diagnostic (``diagnostic``) and the R1 reruns (``r1``)."""
    runs = [Run("main", c["models"])]
    if c.get("diagnostic"):
        runs.append(Run("b2", c["diagnostic"]["models"], independent_v_noise=True))
    r1 = c.get("r1", {})
    for name, phi in r1.get("variants", {}).items():
        runs.append(Run(f"r1_{name}", r1["models"], regularisation=phi, seed_tag="main"))
    return runs


def _ratio_to_main_sde2(table: pd.DataFrame, main: pd.DataFrame, tag: str, tau_min) -> dict:
    """The B2 diagnostic's errors at τ_min relative to the main run's order-2 error."""
    metrics = {}
    last = main[(main["tau"] == tau_min) & (main["model"] == "sde2")]
    for _, row in table[table["tau"] == tau_min].iterrows():
        ref = last[last["test_function"] == row["test_function"]]["error"]
        if len(ref):
            metrics[f"{tag}/{row['model']}/{row['test_function']}/ratio_to_main_sde2"] = abs(
                row["error"]
            ) / abs(float(ref.iloc[0]))
    return metrics


def _r1_shifts(table: pd.DataFrame, main: pd.DataFrame, tag: str) -> dict:
    """R1 (docs/adaptive_sde.md#e4): the largest change of each error over the ladder when only φ
    changes, in units of the main run's SE (the paths are the same, so any change is φ's)."""
    key = ["tau", "model", "test_function"]
    both = table.merge(main, on=key, suffixes=("", "_main"))
    metrics = {}
    for (name, g), group in both.groupby(["model", "test_function"]):
        shift = (group["error"] - group["error_main"]).abs() / group["se_main"]
        metrics[f"{tag}/{name}/{g}/max_shift_over_se"] = float(shift.max())
    metrics[f"{tag}/max_shift_over_se"] = max(metrics.values())
    return metrics


def coupled_study(cfg: dict, seed: int, experiment: str) -> ExperimentResult:
    """The coupled weak errors of one MC experiment on its τ-ladder (see the module docstring);
    with ``diagnostic`` (E6) a second run with independent discrete v-noise (B2), with ``r1``
    reruns of the same paths under other regularisers φ (R1, docs/adaptive_sde.md#experiments)."""
    c = cfg[experiment]
    idx, taus = ladder(c["ladder"])
    rows, traj, metrics = [], [], {"taus": taus.tolist()}
    runs = _runs(c)
    reruns = {run.tag for run in runs if run.regularisation}
    shifts, n_diverged = [], 0
    for run in runs:
        diverged = []
        for i, tau in zip(idx, taus, strict=True):
            start = time.perf_counter()
            try:
                merged = _simulate(c, seed, experiment, i, tau, run)
            except DivergenceError as err:
                if run.tag == "main":
                    raise
                # an R1 regulariser under which the SDE diverges: counted, reported, not averaged
                log.warning("%s (%s)", err, run.tag)
                diverged.append(float(tau))
                continue
            found, found_traj = _rows(
                i, tau, run.models, merged, c["mc"]["control_variate"], run.tag
            )
            rows += found
            traj += found_traj
            log.info("%s %s τ=2^-%d: %.1f s", experiment, run.tag, i, time.perf_counter() - start)
        table = pd.DataFrame([r for r in rows if r["run"] == run.tag])
        main = pd.DataFrame([r for r in rows if r["run"] == "main"])
        if run.tag in reruns:
            metrics[f"{run.tag}/diverged_taus"] = diverged
            n_diverged += len(diverged)
            if table.empty:
                continue
            metrics |= _r1_shifts(table, main, run.tag)
            shifts.append(metrics[f"{run.tag}/max_shift_over_se"])
        metrics |= slope_metrics(table, "" if run.tag == "main" else f"{run.tag}/")
        if run.independent_v_noise:
            metrics |= _ratio_to_main_sde2(table, main, run.tag, taus[-1])
    if reruns:
        metrics["r1/max_shift_over_se"] = max(shifts, default=None)
        metrics["r1/diverged_runs"] = n_diverged
    metrics["phi_active_fraction_max"] = float(
        max(r["phi_active_fraction"] for r in rows if r["run"] not in reruns)
    )
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
