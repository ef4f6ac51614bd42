"""Cross-field checks of a validated config, run by the Snakefile before any job.

The JSON schema (``config/config.schema.yaml``, applied with ``snakemake.utils.validate``)
checks keys, types and ranges one value at a time. What it cannot express is checked here:
shapes that must agree, ladders that must be ordered, and the stability conditions of
docs/momentum_approx.md#pitfalls P10 at the coarsest step of the ladder. Each failure names the key.
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


def _check_finite(value, key: str) -> None:
    """Every number finite: a JSON-schema ``minimum`` lets NaN through (NaN compares false)."""
    if isinstance(value, dict):
        for name, item in value.items():
            _check_finite(item, f"{key}.{name}" if key else str(name))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_finite(item, f"{key}[{i}]")
    elif isinstance(value, float) and not np.isfinite(value):
        _fail(key, f"must be a finite number, got {value}")


def _check_ladder(ladder: list[int], key: str, need: int) -> int:
    """``[k_min, k_max]`` strictly increasing with at least ``need`` rungs; returns k_min."""
    low, high = ladder
    if low >= high:
        _fail(key, f"ladder {ladder} must be increasing, [k_min, k_max] with k_min < k_max")
    if high - low + 1 < need:
        _fail(key, f"ladder {ladder} has {high - low + 1} step sizes, needs at least {need}")
    return low


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


def _check_blocks(mc: dict, key: str) -> None:
    """Seed blocks of ``paths_per_block`` paths: ``n_paths`` must fill them exactly."""
    if (n := mc["n_paths"]) % (block := mc["paths_per_block"]):
        _fail(f"{key}.n_paths", f"{n} is not a multiple of paths_per_block = {block}")


def _check_mc(mc: dict, key: str) -> None:
    _check_blocks(mc, key)
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
    for regime, names in (("B", ("U", "V")), ("A", ("Z",))):
        for family in names:
            _check_names(
                [e7["moving_objective"][regime][family]],
                e7[family],
                f"momentum_approx.E7.moving_objective.{regime}.{family}",
            )


def _rate_points(c: dict) -> int:
    """Rungs a rate study needs: ``fit_points`` for the fit, ``slope_pairs + 1`` for the pairs."""
    return max(c["fit_points"], c["slope_pairs"] + 1)


def _check_ladders(ma: dict) -> None:
    """The ladders ``h = T·2^-k`` of E1b–E8: increasing, long enough for their slopes and
    spreads (E2 and E5 compare the 4 smallest h; E2 fits its rate on h ≤ rate_h_max)."""
    key = "momentum_approx"
    _check_ladder(ma["E1b"]["k"], f"{key}.E1b.k", _rate_points(ma["E1b"]))
    for name in ("k_B", "k_A"):
        _check_ladder(ma["E7"][name], f"{key}.E7.{name}", _rate_points(ma["E7"]))
    for name, need in (("E1c", 2), ("E3", 2), ("E5", 4), ("E8", 2)):
        _check_ladder(ma[name]["k"], f"{key}.{name}.k", need)
    e2 = ma["E2"]
    k_min, k_max = e2["k"]
    _check_ladder(e2["k"], f"{key}.E2.k", 4)
    resolved = sum(e2["T"] * 2.0**-k <= e2["rate_h_max"] for k in range(k_min, k_max + 1))
    if resolved < 2:
        _fail(
            f"{key}.E2.rate_h_max",
            f"{resolved} step sizes of the ladder {e2['k']} are "
            f"≤ rate_h_max = {e2['rate_h_max']:g}, the rate fit needs at least 2",
        )


def _check_damping(c: dict, key: str) -> None:
    """E2, E3 (non-quadratic f, no global λ): Regime B's ``hV ≤ 1`` at the coarsest h."""
    h = c["T"] * 2.0 ** -c["k"][0]
    _, v_max = _schedule_range(c["V"], c["T"], 1)
    if h * v_max > 1:
        _fail(f"{key}.V", f"h·V = {h * v_max:.3g} > 1 at the coarsest h = {h:.3g}")


def _check_e1b_stability(ma: dict, seed: int) -> None:
    """E1b: the Regime-B conditions with λ = λ_max of the data Hessian R̄ = mean a_i a_iᵀ."""
    from sgdsde.experiments.momentum_approx.exact_rates import finite_sum_model

    c = ma["E1b"]
    R = finite_sum_model(c, seed).oracle.problem.R.mean(axis=0)
    lam = float(np.linalg.eigvalsh(R).max())
    model = {"regime": "B", "U": c["U"], "V": c["V"]}
    h = c["T"] * 2.0 ** -c["k"][0]
    _check_stability(model, "momentum_approx.E1b", h, c["T"], lam, len(c["x_true"]))


def _check_sweep_stability(ma: dict, T: float, lam: float, d: int) -> None:
    e7 = ma["E7"]
    for u in e7["sweep"]["U"]:
        for v in e7["sweep"]["V"]:
            case = {"regime": "B", "U": e7["U"][u], "V": e7["V"][v]}
            _check_stability(
                case, f"momentum_approx.E7 (U={u}, V={v})", T * 2.0 ** -e7["k_B"][0], T, lam, d
            )
    for z in e7["sweep"]["Z"]:
        case = {"regime": "A", "U": e7["U_A"], "Z": e7["Z"][z]}
        _check_stability(case, f"momentum_approx.E7 (Z={z})", T * 2.0 ** -e7["k_A"][0], T, lam, d)


def check_config(config: dict) -> None:
    """Raise :class:`ConfigError` naming the first inconsistent key of the papers that run
    (``papers``; all four when it is absent)."""
    _check_finite(config, "")
    papers = config.get("papers", list(CHECKS))
    for paper, check in CHECKS.items():
        if paper in papers:
            check(config)


def _check_momentum_approx(config: dict) -> None:
    ma = config["momentum_approx"]
    _check_monte_carlo_and_references(ma)
    _check_ladders(ma)
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
        k_min = _check_ladder(model["k"], f"{key}.k", _rate_points(e1))
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
    _check_e1b_stability(ma, config["seed"])
    for name in ("E2", "E3"):
        _check_damping(ma[name], f"momentum_approx.{name}")


# ---- marginal_momentum


def _check_marginal_momentum(cfg: dict) -> None:
    """Cross-field checks of the marginal_momentum section (docs/marginal_momentum.md)."""
    mm, key = cfg["marginal_momentum"], "marginal_momentum"
    if max(mm["E0"]["step_checkpoints"]) >= mm["E0"]["n_steps"]:
        _fail(f"{key}.E0.step_checkpoints", f"must be < n_steps = {mm['E0']['n_steps']}")
    for name in ("gamma", "mu", "tau"):
        low, high = mm["E1"][name]
        if low > high:
            _fail(f"{key}.E1.{name}", f"range {mm['E1'][name]} is not ordered")
    if mm["E1"]["tau"][1] >= 1 or mm["E1"]["mu"][1] >= 1:
        _fail(f"{key}.E1", "Lemma A.2 needs τ_k < 1 and μ_k < 1")
    if mm["E2"]["beta"][1] >= 1:
        _fail(f"{key}.E2.beta", "β_k must be < 1")
    e4a = mm["E4a"]
    if len(e4a["H"]) != len(e4a["x0"]):
        _fail(f"{key}.E4a.x0", f"has length {len(e4a['x0'])}, H has {len(e4a['H'])}")
    for name, c in (("E4a", e4a), ("E4b", mm["E4b"])):
        if c["j_max"] + 1 < c["fit_points"]:
            _fail(f"{key}.{name}.j_max", f"ladder has {c['j_max'] + 1} < fit_points points")
        if round(c["T"] / c["eta0"]) < 1:
            _fail(
                f"{key}.{name}.eta0",
                f"η0 = {c['eta0']:g} leaves round(T/η0) = 0 steps "
                f"before T = {c['T']:g}; needs η0 < 2T = {2 * c['T']:g}",
            )
    positive = [a for a in e4a["alphas"] + e4a["frozen_alphas"] if a > 0]
    if positive and max(e4a["c"] * e4a["eta0"] ** a for a in positive) >= 1:
        _fail(f"{key}.E4a.c", "1 − β = c·η₀^α must be < 1 at the coarsest η")
    e5 = mm["E5"]
    first = min(e5["checkpoints"])
    for case, spec in e5["cases"].items():
        where = f"cases.{case}.eta0" if "eta0" in spec else "eta0"
        eta0 = spec.get("eta0", e5["eta0"])
        if round(first / eta0**2) < 1:
            _fail(
                f"{key}.E5.{where}",
                f"η0 = {eta0:g} leaves round(t/η0²) = 0 steps before "
                f"the first checkpoint t = {first:g}; needs η0 < √(2t) = {(2 * first) ** 0.5:.3g}",
            )
        need = max([*e5["shrink_pair"], 3])
        if spec["sigma_iso"] == 0 and spec["j_max"] < need:
            _fail(f"{key}.E5.cases.{case}.j_max", f"needs j_max ≥ {need} (shrink_pair, slope)")
        if (
            "schedule" in spec
            and len(spec["schedule"]["values"]) != len(spec["schedule"]["switch"]) + 1
        ):
            _fail(f"{key}.E5.cases.{case}.schedule", "needs one more value than switch times")
    e9 = mm["E9"]
    if e9["ells"][0] != 1:
        _fail(f"{key}.E9.ells", "must start with ℓ = 1 (standard training, the reference)")
    e10 = mm["E10"]
    if e10["enabled"] and not e10["data_dir"]:
        _fail(f"{key}.E10.data_dir", "E10 is enabled but no CIFAR-10 directory is given")
    if (e10["depth"] - 2) % 6:
        _fail(f"{key}.E10.depth", f"a CIFAR ResNet has depth 6n + 2, got {e10['depth']}")


# ---- adaptive_sde (arXiv 2509.21614)
_ADAM_ONLY_MODELS = {"sde2_code_hv", "sde2_code_dt", "sde2_code_drift"}


def _check_adaptive_problem(p: dict, key: str) -> int:
    if "A" in p:
        A = np.array(p["A"], dtype=float)
        if A.ndim != 2 or A.shape[0] != A.shape[1] or not np.allclose(A, A.T):
            _fail(f"{key}.A", "must be a symmetric square matrix")
        if np.linalg.eigvalsh(A).min() <= 0:
            _fail(f"{key}.A", "must be positive definite")
        d = A.shape[0]
    else:
        d = len(p["eigenvalues"])
    if len(p["theta0"]) != d:
        _fail(f"{key}.theta0", f"has {len(p['theta0'])} entries, the problem has d = {d}")
    return d


def _check_adaptive_ladder(c: dict, key: str, horizon: float, t0: float = 0.0) -> np.ndarray:
    i_min, i_max = c["ladder"]
    if i_min >= i_max:
        _fail(
            f"{key}.ladder",
            f"ladder {c['ladder']} must be increasing, [i_min, i_max] with i_min < i_max",
        )
    if i_max - i_min + 1 < 3:
        _fail(f"{key}.ladder", f"{c['ladder']} has fewer than 3 step sizes (no slope)")
    taus = 2.0 ** -np.arange(i_min, i_max + 1, dtype=float)
    for name, value in (("T", horizon), ("t0", t0)):
        n = value / taus
        if not np.allclose(n, np.round(n), rtol=0, atol=1e-9):
            _fail(f"{key}.{name}", f"{name} = {value} is not a multiple of every τ = 2^-i")
    if t0 >= horizon:
        _fail(f"{key}.t0", f"t0 = {t0} must be smaller than T = {horizon}")
    return taus


def _check_adaptive_rates(opt: dict, key: str, tau_max: float) -> None:
    rates = ("c",) if opt.get("name", "rmsprop") == "rmsprop" else ("c1", "c2")
    for rate in rates:
        if rate not in opt:
            _fail(f"{key}.{rate}", f"is required for {opt.get('name', 'rmsprop')}")
        if opt[rate] * tau_max >= 1:
            _fail(
                f"{key}.{rate}",
                f"{rate}·τ = {opt[rate] * tau_max:g} ≥ 1 at the coarsest "
                f"τ = {tau_max:g}: β not in (0, 1), v could turn negative",
            )


def _check_adaptive_sde(a: dict) -> None:
    """Cross-field checks of the adaptive_sde section (docs/adaptive_sde.md): problem names, shapes,
    ladders (T and t0 multiples of τ), ``cτ < 1`` at the coarsest τ, models per optimiser."""
    problems = a["problems"]
    for name, p in problems.items():
        _check_adaptive_problem(p, f"adaptive_sde.problems.{name}")

    def problem_of(section: dict, key: str) -> dict:
        if section["problem"] not in problems:
            _fail(
                f"{key}.problem",
                f"unknown problem {section['problem']!r}; known: {', '.join(problems)}",
            )
        return problems[section["problem"]]

    e1 = a["E1"]
    for opt_name in ("rmsprop", "adam"):
        key = f"adaptive_sde.E1.{opt_name}"
        problem_of(e1[opt_name], key)
        t0 = e1[opt_name].get("t0", 0.0)
        taus = _check_adaptive_ladder(
            {"ladder": e1["ladder"]}, "adaptive_sde.E1", e1[opt_name]["T"], t0
        )
        _check_adaptive_rates({"name": opt_name, **e1[opt_name]}, key, taus[0])
    if e1["fit_last"] > e1["ladder"][1] - e1["ladder"][0] + 1:
        _fail("adaptive_sde.E1.fit_last", "is longer than the ladder")
    e2 = a["E2"]
    problem_of(e2, "adaptive_sde.E2")
    taus = _check_adaptive_ladder(e2, "adaptive_sde.E2", e2["T"])
    _check_adaptive_rates(e2, "adaptive_sde.E2", taus[0])
    if e2["fit_last"] > len(taus):
        _fail("adaptive_sde.E2.fit_last", "is longer than the ladder")
    e0 = a["E0"]
    problem_of(e0, "adaptive_sde.E0")
    taus = _check_adaptive_ladder(e0, "adaptive_sde.E0", e0["T"])
    for name, n in e0["fit_last"].items():
        if n > len(taus):
            _fail(f"adaptive_sde.E0.fit_last.{name}", "is longer than the ladder")
    problem_of(a["E3"], "adaptive_sde.E3")
    for exp in ("E4", "E5", "E6", "E7", "E8"):
        c, key = a[exp], f"adaptive_sde.{exp}"
        problem = problem_of(c, key)
        taus = _check_adaptive_ladder(c, key, c["T"], c["t0"])
        _check_adaptive_rates(c["optimizer"], f"{key}.optimizer", taus[0])
        _check_blocks(c["mc"], f"{key}.mc")
        models = c["models"] + c.get("diagnostic", {}).get("models", [])
        if c["optimizer"]["name"] == "rmsprop" and (bad := _ADAM_ONLY_MODELS & set(models)):
            _fail(
                f"{key}.models",
                f"{sorted(bad)} are Adam code variants (docs/adaptive_sde.md#code-variants)",
            )
        models += c.get("r1", {}).get("models", [])
        if c["regime"] == "ballistic" and "sde1_code" in models:
            _fail(
                f"{key}.models",
                "sde1_code is the authors' batch-equivalent order-1 class "
                "(docs/adaptive_sde.md#code-variants); the regime is ballistic",
            )
        if c["optimizer"]["name"] == "adam" and c["t0"] == 0 and problem.get("m0", 0.0) == 0:
            _fail(f"{key}.t0", "Adam needs t0 > 0 (Γ(0) = 0/0 in the effective equation)")
        if not c["ladder"][0] <= a["trajectory_tau"] <= c["ladder"][1]:
            _fail(
                "adaptive_sde.trajectory_tau",
                f"τ = 2^-{a['trajectory_tau']} is not on the ladder of {key} ({c['ladder']})",
            )
    e9 = a["E9"]
    problem_of(e9, "adaptive_sde.E9")
    taus = _check_adaptive_ladder(e9, "adaptive_sde.E9", e9["T"])
    _check_adaptive_rates(e9, "adaptive_sde.E9", taus[0])
    kappas = np.array(e9["srsr"]["kappas"], dtype=float)
    if not np.allclose(kappas[1:] / kappas[:-1], 2.0):
        _fail("adaptive_sde.E9.srsr.kappas", "each κ must be twice the previous (paired chains)")
    if e9["c"] * kappas.max() * 2.0 ** -e9["srsr"]["tau0_exponent"] >= 1:
        _fail("adaptive_sde.E9.srsr.kappas", "c·κ·η0² ≥ 1 at the largest κ")


# ---- least_squares
def _check_least_squares(cfg: dict) -> None:
    """2407.02322: dataset references, dataset shapes, ordered horizons
    (docs/least_squares.md#setting)."""
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
    kinds = {
        "E1": "training",
        "E3": "training",
        "E5": "training",
        "E6": "training",
        "E7": "training",
        "E9": "training",
    }
    for exp in ("E1", "E2", "E3", "E4", "E5", "E6", "E7", "E9", "E10"):
        section = ls[exp]
        refs = [
            (f, v)
            for f, v in section.items()
            if f.endswith(("dataset", "datasets"))
            or f in ("population", "training", "tail_dataset")
        ]
        if exp == "E6":
            refs += [
                ("isotropic.datasets", section["isotropic"]["datasets"]),
                ("angular.dataset", section["angular"]["dataset"]),
            ]
        for field, value in refs:
            _check_names(
                value if isinstance(value, list) else [value],
                datasets,
                f"least_squares.{exp}.{field}",
            )
        if (
            exp in kinds
            and "dataset" in section
            and datasets[section["dataset"]]["kind"] != kinds[exp]
        ):
            _fail(f"least_squares.{exp}.dataset", f"must be a {kinds[exp]} dataset")
    e3 = ls["E3"]
    if not any(alpha >= e3["light_tail_alpha"] for alpha in e3["alphas"]):
        _fail(
            "least_squares.E3.alphas",
            f"{e3['alphas']} has no α ≥ light_tail_alpha = "
            f"{e3['light_tail_alpha']:g}: the W₂ bound and rate claims have no case",
        )
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
    angular = datasets[ls["E6"]["angular"]["dataset"]]
    if angular["kind"] != "training" or len(angular["spectrum"].get("values", [])) != 2:
        _fail(
            "least_squares.E6.angular.dataset",
            "the angular eigenproblem needs a d = 2 training set",
        )


CHECKS = {
    "momentum_approx": _check_momentum_approx,
    "marginal_momentum": _check_marginal_momentum,
    "adaptive_sde": lambda config: _check_adaptive_sde(config["adaptive_sde"]),
    "least_squares": _check_least_squares,
}
