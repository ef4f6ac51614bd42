"""Tables T1–T3 of docs/momentum_approx.md#figures, assembled from the experiments' metrics (no new
runs).

* T1: fitted weak-error slopes with 95 % intervals, every experiment × approximation × g
      (exact errors: least squares over the 5 smallest h; Monte Carlo: SE-weighted over the
      step sizes with SE ≤ |error|/4, blank where fewer than 3 are resolved);
* T2: the schedule sweep E7, slopes and φ̄;
* T3: E4's rates and bound ratios, and the stochastic addendum.
"""

from __future__ import annotations

import re

import pandas as pd

_KEY = re.compile(r"^(?P<config>[^/]+)/(?P<approximation>[^/]+)/(?P<g>[^/]+)/terminal_fit_slope$")
_E2_SLOPE = r"^(?P<g>[a-z_]+)/(?P<approximation>[a-z0-9]+)/resolved_slope$"
_E3_SLOPE = r"^(?P<setting>x0=[0-9.]+)/(?P<approximation>[a-z0-9]+)/resolved_slope$"


def _exact_slopes(experiment: str, metrics: dict) -> list[dict]:
    rows = []
    for key, slope in metrics.items():
        if m := _KEY.match(key):
            low, high = metrics[key.replace("_slope", "_ci")]
            rows.append(
                {
                    "experiment": experiment,
                    "setting": m["config"],
                    "method": "exact",
                    "approximation": m["approximation"],
                    "test_function": m["g"],
                    "slope": slope,
                    "ci_low": low,
                    "ci_high": high,
                }
            )
    return rows


def _monte_carlo_slopes(experiment: str, metrics: dict, pattern: str, **fixed) -> list[dict]:
    """Rows for the keys ``pattern`` matches; named groups and ``fixed`` give the labels."""
    rows = []
    for key, slope in metrics.items():
        if m := re.match(pattern, key):
            ci = metrics.get(f"{key}_ci") or [None, None]
            labels = fixed | m.groupdict()
            rows.append(
                {
                    "experiment": experiment,
                    "setting": labels["setting"],
                    "method": "Monte Carlo",
                    "approximation": labels["approximation"],
                    "test_function": labels["g"],
                    "slope": slope,
                    "ci_low": ci[0],
                    "ci_high": ci[1],
                }
            )
    return rows


def table_T1(metrics: dict[str, dict]) -> pd.DataFrame:
    """Fitted slopes of E1, E1b (exact) and E2, E3 (Monte Carlo)."""
    rows = _exact_slopes("E1", metrics["E1"]) + _exact_slopes("E1b", metrics["E1b"])
    rows += _monte_carlo_slopes("E2", metrics["E2"], _E2_SLOPE, setting="double well")
    rows += _monte_carlo_slopes("E3", metrics["E3"], _E3_SLOPE, g="x²")
    return pd.DataFrame(rows).sort_values(
        ["experiment", "setting", "approximation", "test_function"]
    )


def table_T2(metrics: dict) -> pd.DataFrame:
    """E7: per schedule combination, the fitted slope for g1, the worst tail-slope deviation over
    g1–g3, and φ̄ of ODE and SDE1 for g1 (Regime B)."""
    cases = sorted({key.split("/")[0] for key in metrics if key.startswith(("A_", "B_"))})
    rows = []
    for case in cases:
        row, deviations = {"case": case}, []
        for a, order in (("ode", 1), ("sde1", 1), ("sde2", 2)):
            row[f"{a}_slope_g1"] = metrics[f"{case}/{a}/g1/terminal_fit_slope"]
            deviations += [
                abs(s - order)
                for g in ("g1", "g2", "g3")
                for s in metrics[f"{case}/{a}/{g}/terminal_tail_slopes"]
            ]
        row["max_tail_deviation"] = max(deviations)
        for a in ("ode", "sde1"):
            row[f"phibar_{a}_g1"] = metrics.get(f"{case}/{a}/g1/phibar")
        rows.append(row)
    return pd.DataFrame(rows)


def table_T3(metrics: dict) -> pd.DataFrame:
    """E4: envelope slopes and bound ratios; the noise plateau of the stochastic addendum."""
    columns = (
        "envelope_slope",
        "bound_ratio",
        "late_slope",
        "plateau_over_eta_sigma2",
        "plateau_ratio_2sigma",
    )

    rows = [
        {"method": method} | {c: metrics.get(f"{method}/{c}") for c in columns}
        for method in ("gd", "hb", "nag", "ode")
    ]
    return pd.DataFrame(rows)


TABLES = {
    "T1": (table_T1, ("E1", "E1b", "E2", "E3")),
    "T2": (lambda m: table_T2(m["E7"]), ("E7",)),
    "T3": (lambda m: table_T3(m["E4"]), ("E4",)),
}
LATEX_HEADERS = {
    "T1": {
        "experiment": "exp.",
        "approximation": "approx.",
        "test_function": "g",
        "ci_low": "95% CI low",
        "ci_high": "high",
    },
    "T2": {
        "ode_slope_g1": "ODE",
        "sde1_slope_g1": "SDE1",
        "sde2_slope_g1": "SDE2",
        "max_tail_deviation": "max |dev.|",
        "phibar_ode_g1": "φ̄ ODE",
        "phibar_sde1_g1": "φ̄ SDE1",
    },
    "T3": {
        "envelope_slope": "envelope slope",
        "bound_ratio": "bound ratio",
        "late_slope": "noisy: late slope",
        "plateau_over_eta_sigma2": "level/(ησ²)",
        "plateau_ratio_2sigma": "level 2σ / σ",
    },
}
CAPTIONS = {
    "T1": "fitted weak-error slopes with 95% intervals (exact: 5 smallest h; Monte Carlo: "
    "SE-weighted over the step sizes with SE <= |error|/4, n/a where fewer than 3 are resolved)",
    "T2": "schedule sweep E7: fitted slopes for g1 (5 smallest h), the worst deviation of any "
    "tail slope from the theoretical order over ODE/SDE1/SDE2 and g1-g3, and the leading "
    "coefficient φ̄ of ODE and SDE1 for g1 (Regime B)",
    "T3": "E4: envelope slopes on k in [10, 3000], bound ratios (<= 1 is the guarantee), and "
    "the noise plateau of the stochastic addendum",
}
