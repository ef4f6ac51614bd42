"""Cross-field checks of a validated config, run by the Snakefile before any job.

The JSON schema (``config/config.schema.yaml``, applied with ``snakemake.utils.validate``)
checks keys, types and ranges one value at a time. What it cannot express is checked here:
shapes that must agree, ladders that must be ordered, and the stability conditions of
2504.13992 §6 (pitfall 10) at the coarsest step of the ladder. Each failure names the key.
"""

from __future__ import annotations

import numpy as np

from sgdsde.schedules import Schedule


class ConfigError(ValueError):
    """The config is well-typed but inconsistent; the message names the key."""


def _fail(key: str, message: str):
    raise ConfigError(f"config key {key}: {message}")


def _schedule_range(spec: dict, T: float, d: int) -> tuple[float, float]:
    values = Schedule.from_config(spec)(np.linspace(0.0, T, 201), d)
    return float(values.min()), float(values.max())


def _check_problem(p: dict, key: str) -> int:
    A = np.array(p["A"], dtype=float)
    d = len(p["x0"])
    if A.shape != (d, d) or not np.allclose(A, A.T) or np.linalg.eigvalsh(A).min() <= 0:
        _fail(f"{key}.A", f"must be a symmetric positive definite {d}×{d} matrix")
    S = np.array(p["S"], dtype=float)
    if S.shape != (d, d) or not np.allclose(S, S.T) or np.linalg.eigvalsh(S).min() < -1e-12:
        _fail(f"{key}.S", f"must be a symmetric positive semi-definite {d}×{d} matrix")
    for name in ("x_star", "p0"):
        if len(p[name]) != d:
            _fail(f"{key}.{name}", f"has length {len(p[name])}, x0 has {d}")
    return d


def _check_stability(model: dict, key: str, h: float, T: float, lam: float, d: int) -> None:
    """Regime B: ``hV ≤ 1`` and ``h²Uλ < 2(2 − hV)``; Regime A: ``0 ≤ Z < 1``, ``hUλ < 2(1+Z)``."""
    _, u_max = _schedule_range(model["U"], T, d)
    if model["regime"] == "B":
        v_min, v_max = _schedule_range(model["V"], T, d)
        if h * v_max > 1:
            _fail(f"{key}.V", f"h·V = {h * v_max:.3g} > 1 at the coarsest h = {h:.3g}")
        if h**2 * u_max * lam >= 2 * (2 - h * v_min):
            _fail(f"{key}.U", f"unstable at the coarsest h = {h:.3g}: h²Uλ_max ≥ 2(2 − hV)")
    else:
        z_min, z_max = _schedule_range(model["Z"], T, d)
        if z_min < 0 or z_max >= 1:
            _fail(f"{key}.Z", f"momentum must lie in [0, 1), got range [{z_min:.3g}, {z_max:.3g}]")
        if h * u_max * lam >= 2 * (1 + z_min):
            _fail(f"{key}.U", f"unstable at the coarsest h = {h:.3g}: hUλ_max ≥ 2(1 + Z)")


def _check_mc(mc: dict, key: str) -> None:
    if mc["n_paths"] % mc["paths_per_block"]:
        _fail(f"{key}.n_paths", f"{mc['n_paths']} is not a multiple of paths_per_block "
                                f"= {mc['paths_per_block']}")  # fmt: skip
    if mc["fine_steps"] % 2:
        _fail(f"{key}.fine_steps", f"must be even (grids δ and 2δ), got {mc['fine_steps']}")


def _check_names(names: list[str], defined: dict, key: str) -> None:
    if missing := sorted(set(names) - set(defined)):
        _fail(key, f"names {missing} are not defined; known: {sorted(defined)}")


def _check_monte_carlo_and_references(ma: dict) -> None:
    for name in ("E1c", "E2", "E3"):
        _check_mc(ma[name]["mc"], f"momentum_approx.{name}.mc")
    _check_mc(ma["E3"]["divergence_mc"], "momentum_approx.E3.divergence_mc")
    for name in ("E1c", "E5", "E6"):
        _check_names([ma[name]["config"]], ma["E1"]["configs"], f"momentum_approx.{name}.config")
    e7 = ma["E7"]
    for family in ("U", "V", "Z"):
        _check_names(e7["sweep"][family], e7[family], f"momentum_approx.E7.sweep.{family}")


def _check_sweep_stability(ma: dict, T: float, lam: float, d: int) -> None:
    e7 = ma["E7"]
    for u in e7["sweep"]["U"]:
        for v in e7["sweep"]["V"]:
            case = {"regime": "B", "U": e7["U"][u], "V": e7["V"][v]}
            _check_stability(case, f"momentum_approx.E7 (U={u}, V={v})",
                             T * 2.0 ** -e7["k_B"][0], T, lam, d)  # fmt: skip
    for z in e7["sweep"]["Z"]:
        case = {"regime": "A", "U": e7["U_A"], "Z": e7["Z"][z]}
        _check_stability(case, f"momentum_approx.E7 (Z={z})", T * 2.0 ** -e7["k_A"][0], T, lam, d)


def check_config(config: dict) -> None:
    """Raise :class:`ConfigError` naming the first inconsistent key."""
    ma = config["momentum_approx"]
    _check_monte_carlo_and_references(ma)
    d = _check_problem(ma["problem"], "momentum_approx.problem")
    T = ma["problem"]["T"]
    lam = float(np.linalg.eigvalsh(np.array(ma["problem"]["A"], dtype=float)).max())
    e0, e1 = ma["E0"], ma["E1"]
    for name in ("eta", "zeta"):
        if e0[name][0] > e0[name][1]:
            _fail(f"momentum_approx.E0.{name}", f"range {e0[name]} is not ordered")
    if any(g in e1["test_functions"] for g in ("g1", "g2", "g3")) and d != 2:
        _fail("momentum_approx.E1.test_functions", "g1..g3 are defined for d = 2 only")
    for name, model in e1["configs"].items():
        key = f"momentum_approx.E1.configs.{name}"
        k_min, k_max = model["k"]
        if k_max - k_min + 1 < max(e1["fit_points"], e1["slope_pairs"] + 1):
            _fail(f"{key}.k", f"ladder {model['k']} is shorter than fit_points / slope_pairs")
        for sched in ("U", "V", "Z"):
            scale = model.get(sched, {}).get("scale", 1.0)
            if isinstance(scale, list) and len(scale) != d:
                _fail(f"{key}.{sched}.scale", f"has {len(scale)} entries, the problem has d = {d}")
        _check_stability(model, key, T * 2.0**-k_min, T, lam, d)
    _check_sweep_stability(ma, T, lam, d)
    e1b = ma["E1b"]
    for name in ("x0", "p0"):
        if len(e1b[name]) != len(e1b["x_true"]):
            _fail(f"momentum_approx.E1b.{name}", "must have the length of x_true")
    if "least_squares" in config:
        _check_least_squares(config)


# ---- least_squares
def _check_least_squares(cfg: dict) -> None:
    """2407.02322: dataset references, dataset shapes, ordered horizons (spec §2–3)."""
    ls = cfg["least_squares"]
    datasets = ls["datasets"]
    for name, d in datasets.items():
        key = f"least_squares.datasets.{name}"
        spec = d["spectrum"]
        if ("values" in spec) == ("power" in spec or "d" in spec):
            _fail(f"{key}.spectrum", "give either values, or power and d")
        dim = len(spec["values"]) if "values" in spec else spec.get("d", 0)
        if d["kind"] == "training":
            for field in ("n", "theta_true", "noise"):
                if field not in d:
                    _fail(f"{key}.{field}", "is required for a training dataset")
            if isinstance(d["theta_true"], list) and len(d["theta_true"]) != dim:
                _fail(f"{key}.theta_true", f"has length {len(d['theta_true'])}, spectrum d = {dim}")
        elif "sigma" not in d or "stream_samples" not in d:
            _fail(key, "a population dataset needs sigma and stream_samples")
    kinds = {"E1": "training", "E3": "training", "E5": "training", "E6": "training",
             "E7": "training", "E9": "training"}  # fmt: skip
    for exp in ("E1", "E2", "E3", "E4", "E5", "E6", "E7", "E9", "E10"):
        section = ls[exp]
        refs = [(f, v) for f, v in section.items() if f.endswith(("dataset", "datasets"))
                or f in ("population", "training", "tail_dataset")]  # fmt: skip
        refs += [("isotropic.datasets", section["isotropic"]["datasets"])] if exp == "E6" else []
        for field, value in refs:
            _check_names(value if isinstance(value, list) else [value], datasets,
                         f"least_squares.{exp}.{field}")  # fmt: skip
        if (
            exp in kinds
            and "dataset" in section
            and datasets[section["dataset"]]["kind"] != kinds[exp]
        ):
            _fail(f"least_squares.{exp}.dataset", f"must be a {kinds[exp]} dataset")
    if ls["E3"]["final_horizon"] <= ls["E3"]["horizon"]:
        _fail("least_squares.E3.final_horizon", "must exceed least_squares.E3.horizon")
    for exp in ("E4",):
        t0, t1 = ls[exp]["nonparametric"]["t_range"]
        if t0 >= t1:
            _fail(f"least_squares.{exp}.nonparametric.t_range", "must be increasing")
    if ls["E8"]["t_fit"][0] >= ls["E8"]["t_fit"][1]:
        _fail("least_squares.E8.t_fit", "must be increasing")
    if datasets[ls["E3"]["dataset"]]["spectrum"].get("values", [0, 0]).__len__() != 1:
        _fail("least_squares.E3.dataset", "E3 (Pearson IV law) needs a d = 1 dataset")
