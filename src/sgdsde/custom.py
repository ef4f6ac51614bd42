"""Weak-error studies of a user's own optimiser and its continuous models (docs/custom.md).

A user's module defines two functions of ``(oracle, h, x0)``: ``optimizer`` returns the discrete
optimiser at step h and ``models`` a dict of candidate continuous models, in the protocols of
:func:`sgdsde.coupling.coupled_simulation` (optimiser: ``noise_shape``, ``initial_state()``,
``step(t, X, z)``, ``position(X)``; model: the same plus ``drift(t, X)``, ``diffusion(t, X, dW)``
and the ``weak_order`` it claims). :func:`weak_error_study` runs the coupled Monte Carlo of the
engine on a ladder ``h = 2^-k``: the optimiser's noise is the sum of K fine Brownian increments
that also drive every model, whose reference value is the Talay–Tubaro extrapolation of its
Euler–Maruyama on the grids h/K and 2h/K. It fits each model's order on the resolved step sizes,
with a confidence interval, and decides the claimed order as the ledger does: ``pass`` when the
interval lies within ``weak_order ± tolerance``, ``fail`` when it lies outside, ``unresolved``
otherwise.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from sgdsde.claims import decide
from sgdsde.coupling import MonteCarlo, coupled_simulation
from sgdsde.oracles import GaussianOracle
from sgdsde.problems import DoubleWell, Quadratic, Quartic
from sgdsde.stats import Estimate, resolved_slope, weak_error

PROBLEMS: dict[str, Callable] = {
    "double_well": lambda p: DoubleWell(p.get("dim", 1)),
    "quartic": lambda p: Quartic(p.get("dim", 1)),
    "quadratic": lambda p: Quadratic(np.asarray(p["A"], dtype=float)),
}
"""The project's problems a study can name (docs/custom.md#problems)."""

TEST_FUNCTIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "x1": lambda x: x[:, 0],
    "sq_norm": lambda x: np.sum(x * x, axis=1),
    "cos_x1": lambda x: np.cos(x[:, 0]),
}
"""Test functions g(x) of a study, on the models' positions ``(n, d)``."""

_OPTIMIZER = ("noise_shape", "initial_state", "step", "position")
_MODEL = (*_OPTIMIZER[:2], "drift", "diffusion", "position", "weak_order")


class CustomModuleError(ValueError):
    """A user's module does not follow the protocol: the message names the module and method."""


def load_module(path: str | Path):
    """Import the user's file; it must define ``optimizer`` and ``models``."""
    path = Path(path)
    if not path.is_file():
        raise CustomModuleError(f"{path}: no such file")
    spec = importlib.util.spec_from_file_location(f"sgdsde_custom_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        raise CustomModuleError(f"{path}: importing it raised {error!r}") from error
    for name in ("optimizer", "models"):
        if not callable(getattr(module, name, None)):
            raise CustomModuleError(f"{path}: defines no function {name}(oracle, h, x0)")
    return module


def build_oracle(problem: dict, noise: float) -> GaussianOracle:
    """The problem named by ``problem["kind"]`` with additive Gaussian noise ``σ = noise``."""
    if problem.get("kind") not in PROBLEMS:
        raise CustomModuleError(f"problem.kind must be one of {sorted(PROBLEMS)}, got {problem}")
    objective = PROBLEMS[problem["kind"]](problem)
    return GaussianOracle(objective, noise**2 * np.eye(objective.dim))


def _require(label: str, obj, methods: tuple[str, ...]) -> None:
    missing = [m for m in methods if not hasattr(obj, m)]
    if missing:
        raise CustomModuleError(f"{label}: {type(obj).__name__} has no {', '.join(missing)}")


def _finite(label: str, method: str, value, shape) -> None:
    value = np.asarray(value)
    if value.shape != shape:
        raise CustomModuleError(f"{label}.{method} returned shape {value.shape}, expected {shape}")
    if not np.all(np.isfinite(value)):
        raise CustomModuleError(f"{label}.{method} returned non-finite values")


def _two_paths(state) -> np.ndarray:
    return np.array(np.broadcast_to(state, (2, *np.shape(state))), dtype=float)


def check_protocol(name: str, optimizer, models: dict) -> None:
    """One step of every method on two paths, before any study runs: each must exist, return
    the state's shape and finite values, and every model must take the optimiser's noise."""
    _require(f"{name}: optimizer", optimizer, _OPTIMIZER)
    if not isinstance(models, dict) or not models:
        raise CustomModuleError(f"{name}: models(oracle, h, x0) must return a non-empty dict")
    Y = _two_paths(optimizer.initial_state())
    z = np.zeros((2, *optimizer.noise_shape))
    _finite(f"{name}: optimizer", "step", optimizer.step(0.0, Y.copy(), z), Y.shape)
    x_shape = np.shape(optimizer.position(Y))
    for model_name, model in models.items():
        label = f"{name}: models()[{model_name!r}]"
        _require(label, model, _MODEL)
        if model.noise_shape not in (None, tuple(optimizer.noise_shape)):
            raise CustomModuleError(f"{label}.noise_shape {model.noise_shape} is not the "
                                    f"optimizer's {tuple(optimizer.noise_shape)}")  # fmt: skip
        X = _two_paths(model.initial_state())
        _finite(label, "drift", model.drift(0.0, X.copy()), X.shape)
        if model.noise_shape is not None:
            _finite(label, "diffusion", model.diffusion(0.0, X.copy(), z + 0.1), X.shape)
        _finite(label, "position", model.position(X), x_shape)


def weak_error_study(optimizer: Callable, models: Callable, oracle, x0, ladder, T: float,
                     mc: MonteCarlo, test_functions: dict, seed: int, name: str = "custom",
                     tolerance: float = 0.25) -> tuple[pd.DataFrame, pd.DataFrame]:  # fmt: skip
    """The weak errors ``E g(x_N) − E g(X_T)`` with their SE at ``h = 2^-k`` for k in ``ladder``
    (table), and per model and test function the fitted order with its 95 % CI over the resolved
    step sizes and the status of the model's claimed ``weak_order`` (fits)."""
    rows = []
    claimed = {}
    for k in ladder:
        h = 2.0**-k
        opt, sdes = optimizer(oracle, h, x0), models(oracle, h, x0)
        check_protocol(name, opt, sdes)
        claimed |= {m: sde.weak_order for m, sde in sdes.items()}
        sample = coupled_simulation(opt, sdes, T, test_functions, mc, seed, "custom", name, k)
        keep = ~sample.diverged
        for m in sdes:
            for g in test_functions:
                est = weak_error(sample.discrete[g][keep], sample.reference(m, g)[keep], True)
                rows.append({"study": name, "k": k, "h": h, "model": m, "test_function": g,
                             "error": est.mean, "se": est.se,
                             "n_diverged": sample.n_diverged})  # fmt: skip
    table = pd.DataFrame(rows)
    return table, _fits(table, claimed, tolerance)


def _fits(table: pd.DataFrame, claimed: dict, tolerance: float) -> pd.DataFrame:
    fits = []
    for (m, g), group in table.groupby(["model", "test_function"], sort=False):
        estimates = [Estimate(e, s) for e, s in zip(group["error"], group["se"], strict=True)]
        fit = resolved_slope(group["h"].to_numpy(), estimates)
        order, ci = (fit.slope, (fit.ci_low, fit.ci_high)) if fit else (np.nan, (np.nan, np.nan))
        status = "no claim"
        if claimed[m] is not None:
            _, status, _ = decide("within", order, claimed[m], tolerance, ci)
        fits.append({"study": group["study"].iloc[0], "model": m, "test_function": g,
                     "claimed_order": claimed[m], "order": order, "ci_low": ci[0],
                     "ci_high": ci[1], "status": status})  # fmt: skip
    return pd.DataFrame(fits)


def ledger_rows(fits: pd.DataFrame, cfg: dict) -> pd.DataFrame:
    """The ledger rows of a study: "model M has weak order p for g", judged on the fitted order's
    confidence interval; a model listed in ``negative_controls`` is expected to be refuted, so
    its row passes when the claimed order fails (docs/custom.md#ledger)."""
    from sgdsde.claims import COLUMNS

    controls = set(cfg.get("negative_controls", []))
    rows = []
    for f in fits[fits["claimed_order"].notna()].itertuples():
        control = f.model in controls
        status = {"fail": "pass", "pass": "fail"}.get(f.status, f.status) if control else f.status
        claim = f"model {f.model} has weak order {f.claimed_order:g} for {f.test_function}"
        rows.append({
            "claim_id": f"custom.{f.study}.{f.model}.{f.test_function}.order", "paper": "custom",
            "reference": cfg["module"], "anchor": "docs/custom.md#ledger",
            "statement": f"{f.study}: the study refutes that {claim}" if control else
            f"{f.study}: {claim}", "provenance": "proposed",
            "kind": "negative_control" if control else "claim", "experiment": f.study,
            "metric": "order", "check": "within", "measured": f.order, "ci_low": f.ci_low,
            "ci_high": f.ci_high, "expected": float(f.claimed_order),
            "tolerance": cfg.get("tolerance", 0.25), "status": status, "note": "",
        })  # fmt: skip
    return pd.DataFrame(rows, columns=COLUMNS)


def check_study(cfg: dict, name: str) -> None:
    """Everything a study needs, before any job runs: the module, its two functions and one step
    of every method at the largest step of the ladder (errors name the module and the method)."""
    module = load_module(cfg["module"])
    unknown = set(cfg["test_functions"]) - set(TEST_FUNCTIONS)
    if unknown:
        raise CustomModuleError(f"custom.{name}.test_functions: unknown {sorted(unknown)}; "
                                f"known: {sorted(TEST_FUNCTIONS)}")  # fmt: skip
    oracle, x0 = build_oracle(cfg["problem"], cfg["noise"]), np.asarray(cfg["x0"], float)
    h = 2.0 ** -cfg["ladder"][0]
    check_protocol(cfg["module"], module.optimizer(oracle, h, x0), module.models(oracle, h, x0))
    controls = set(cfg.get("negative_controls", [])) - set(module.models(oracle, h, x0))
    if controls:
        raise CustomModuleError(f"custom.{name}.negative_controls: {sorted(controls)} are not "
                                f"models of {cfg['module']}")  # fmt: skip


def run_study(cfg: dict, seed: int, name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The study ``name`` of a ``custom:`` config entry (docs/custom.md#config)."""
    check_study(cfg, name)
    module = load_module(cfg["module"])
    oracle = build_oracle(cfg["problem"], cfg["noise"])
    tests = {g: TEST_FUNCTIONS[g] for g in cfg["test_functions"]}
    k = range(cfg["ladder"][0], cfg["ladder"][1] + 1)
    return weak_error_study(module.optimizer, module.models, oracle, np.asarray(cfg["x0"], float),
                            k, cfg["T"], MonteCarlo(**cfg["mc"]), tests, seed, name,
                            cfg.get("tolerance", 0.25))  # fmt: skip
