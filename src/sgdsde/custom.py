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

When the optimiser's step is affine in the state and the noise, every model's drift affine and
its diffusion additive (a quadratic problem with Gaussian noise and linear models), both laws are
Gaussian and :mod:`sgdsde.moments` computes them exactly: the errors are then numbers, not
estimates, and the order is the Richardson extrapolation of the last two local orders, its
interval the span between it and the last local order (docs/custom.md#exact). ``method="auto"``
takes this path whenever it applies.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from sgdsde.claims import decide
from sgdsde.coupling import MonteCarlo, coupled_simulation
from sgdsde.engine import replicate
from sgdsde.moments import NotLinearGaussianError, model_law, optimizer_law
from sgdsde.observables import CosineProjection, LinearProjection, SquaredNorm
from sgdsde.oracles import GaussianMinibatchOracle, GaussianOracle
from sgdsde.problems import DoubleWell, FiniteSumLeastSquares, Quadratic, Quartic
from sgdsde.stats import Estimate, exact_order, resolved_slope, weak_error

PROBLEMS: dict[str, Callable] = {
    "double_well": lambda p: DoubleWell(p.get("dim", 1)),
    "quartic": lambda p: Quartic(p.get("dim", 1)),
    "quadratic": lambda p: Quadratic(np.asarray(p["A"], dtype=float), p.get("x_star", 0.0)),
}
"""The project's problems a study can name (docs/custom.md#problems)."""

TEST_FUNCTIONS: dict[str, Callable[[int], object]] = {
    "x1": lambda d: LinearProjection(tuple(np.eye(d)[0])),
    "sq_norm": SquaredNorm,
    "cos_x1": lambda d: CosineProjection(tuple(np.eye(d)[0])),
}
"""Test functions g(x) of a study in dimension d, on the models' positions ``(n, d)``, with their
Gaussian expectations (:mod:`sgdsde.observables`)."""

METHODS = ("auto", "exact", "monte_carlo")
EXACT_ZERO = 1e-12
"""An exact error below this fraction of ``max(1, |E g|)`` is round-off and is left out of fits."""

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


def build_oracle(problem: dict, noise=None, module=None):
    """The problem named by ``problem["kind"]`` and its gradient noise (docs/custom.md#problems).

    Additive Gaussian noise: ``noise`` is σ (covariance σ²I) or the covariance matrix S itself.
    Kind ``module`` is the objective that the user's module returns from ``problem()``. Kind
    ``least_squares`` is the finite sum over the rows ``a``, ``b`` with the Gaussian surrogate of
    its single-sample minibatch noise, whose covariance Σ(x) is the data's: it takes no ``noise``.
    """
    kinds = sorted([*PROBLEMS, "module", "least_squares"])
    kind = problem.get("kind")
    if kind not in kinds:
        raise CustomModuleError(f"problem.kind must be one of {kinds}, got {problem}")
    needs = {"quadratic": ("A",), "least_squares": ("a", "b")}.get(kind, ())
    if missing := [key for key in needs if key not in problem]:
        raise CustomModuleError(f"problem.kind {kind} needs {', '.join(missing)}, got {problem}")
    if kind == "least_squares":
        if noise is not None:
            raise CustomModuleError(
                "noise: least_squares has the minibatch noise of its data; give no noise"
            )
        a, b = np.asarray(problem["a"], dtype=float), np.asarray(problem["b"], dtype=float)
        if a.ndim != 2 or b.shape != (len(a),):
            raise CustomModuleError(
                f"problem.a must be N×d and problem.b of length N, got {a.shape} and {b.shape}"
            )
        return GaussianMinibatchOracle(FiniteSumLeastSquares(a, b))
    if noise is None:
        raise CustomModuleError(f"noise: problem.kind {kind} needs the noise σ or its covariance")
    objective = _own_problem(module) if kind == "module" else PROBLEMS[kind](problem)
    d = objective.dim
    S = noise**2 * np.eye(d) if np.ndim(noise) == 0 else np.asarray(noise, dtype=float)
    if S.shape != (d, d) or not np.allclose(S, S.T) or np.linalg.eigvalsh(S).min() < -1e-12:
        raise CustomModuleError(
            f"noise: a covariance must be a symmetric positive semidefinite "
            f"{d}×{d} matrix, got shape {S.shape}"
        )
    return GaussianOracle(objective, S)


def _own_problem(module):
    label = getattr(module, "__file__", "the module")
    if module is None or not callable(getattr(module, "problem", None)):
        raise CustomModuleError(f"{label}: problem.kind module needs a function problem()")
    objective = module.problem()
    _require(f"{label}: problem()", objective, ("dim", "mean_field", "mean_field_jvp"))
    x = np.zeros((2, objective.dim))
    _finite(f"{label}: problem()", "mean_field", objective.mean_field, x, shape=x.shape)
    jvp = objective.mean_field_jvp
    _finite(f"{label}: problem()", "mean_field_jvp", jvp, x, x + 1, shape=x.shape)
    return objective


def _require(label: str, obj, methods: tuple[str, ...]) -> None:
    missing = [m for m in methods if not hasattr(obj, m)]
    if missing:
        raise CustomModuleError(f"{label}: {type(obj).__name__} has no {', '.join(missing)}")


def _finite(label: str, method: str, function: Callable, *args, shape) -> None:
    """``function(*args)`` must return finite values of ``shape``; whatever it raises is
    reported as the method's error."""
    try:
        value = np.asarray(function(*args))
    except Exception as error:
        raise CustomModuleError(f"{label}.{method} raised {error!r}") from error
    if value.shape != shape:
        raise CustomModuleError(f"{label}.{method} returned shape {value.shape}, expected {shape}")
    if not np.all(np.isfinite(value)):
        raise CustomModuleError(f"{label}.{method} returned non-finite values")


def check_protocol(name: str, optimizer, models: dict) -> None:
    """One step of every method on two paths, before any study runs: each must exist, return
    the state's shape and finite values, and every model must take the optimiser's noise."""
    _require(f"{name}: optimizer", optimizer, _OPTIMIZER)
    if not isinstance(models, dict) or not models:
        raise CustomModuleError(f"{name}: models(oracle, h, x0) must return a non-empty dict")
    Y = replicate(optimizer.initial_state(), 2)
    z = np.zeros((2, *optimizer.noise_shape))
    _finite(f"{name}: optimizer", "step", optimizer.step, 0.0, Y.copy(), z, shape=Y.shape)
    x_shape = np.shape(optimizer.position(Y))
    for model_name, model in models.items():
        label = f"{name}: models()[{model_name!r}]"
        _require(label, model, _MODEL)
        if model.noise_shape not in (None, tuple(optimizer.noise_shape)):
            raise CustomModuleError(
                f"{label}.noise_shape {model.noise_shape} is not the "
                f"optimizer's {tuple(optimizer.noise_shape)}"
            )
        X = replicate(model.initial_state(), 2)
        _finite(label, "drift", model.drift, 0.0, X.copy(), shape=X.shape)
        if model.noise_shape is not None:
            _finite(label, "diffusion", model.diffusion, 0.0, X.copy(), z + 0.1, shape=X.shape)
        _finite(label, "position", model.position, X, shape=x_shape)


def exact_laws(opt, sdes: dict, h: float, T: float) -> dict:
    """The Gaussian laws ``(mean, cov)`` of the positions at T of the optimiser (key ``None``) and
    of every model; :class:`NotLinearGaussianError` if one of them is not linear-Gaussian."""
    return {None: optimizer_law(opt, h, T)} | {m: model_law(sde, T) for m, sde in sdes.items()}


def choose_method(method: str, opt, sdes: dict, h: float, T: float, test_functions, label):
    """``exact`` or ``monte_carlo`` for the optimiser and models at step h: ``auto`` is exact when
    every map is linear-Gaussian and every test function has a Gaussian expectation; ``exact``
    when it does not apply is an error."""
    if method not in METHODS:
        raise CustomModuleError(f"{label}: method must be one of {METHODS}, got {method!r}")
    if method == "monte_carlo":
        return method
    reason = next(
        (
            f"test function {g!r} has no gaussian_mean"
            for g, f in test_functions.items()
            if not hasattr(f, "gaussian_mean")
        ),
        None,
    )
    if reason is None:
        try:
            exact_laws(opt, sdes, h, min(T, h))
        except NotLinearGaussianError as error:
            reason = str(error)
    if reason and method == "exact":
        raise CustomModuleError(f"{label}: method exact does not apply: {reason}")
    return "monte_carlo" if reason else "exact"


def _prepare(optimizer, models, oracle, x0, h, T, test_functions, method, label):
    """The checks before a study, at its largest step h: every method once
    (:func:`check_protocol`), then the method; returns it and the models at h."""
    opt, sdes = optimizer(oracle, h, x0), models(oracle, h, x0)
    check_protocol(label, opt, sdes)
    return choose_method(method, opt, sdes, h, T, test_functions, label), sdes


def weak_error_study(
    optimizer: Callable,
    models: Callable,
    oracle,
    x0,
    ladder,
    T: float,
    mc: MonteCarlo,
    test_functions: dict,
    seed: int,
    name: str = "custom",
    tolerance: float = 0.25,
    method: str = "auto",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The weak errors ``E g(x_N) − E g(X_T)`` with their SE at ``h = 2^-k`` for k in ``ladder``
    (table), and per model and test function the fitted order with its 95 % CI and the status of
    the model's claimed ``weak_order`` (fits). Exact errors have SE 0 (docs/custom.md#exact)."""
    x0 = np.asarray(x0, dtype=float)
    ladder = list(ladder)
    method, _ = _prepare(
        optimizer, models, oracle, x0, 2.0 ** -ladder[0], T, test_functions, method, name
    )
    rows, claimed = [], {}
    for k in ladder:
        h = 2.0**-k
        opt, sdes = optimizer(oracle, h, x0), models(oracle, h, x0)
        claimed |= {m: sde.weak_order for m, sde in sdes.items()}
        for m, g, est, n_diverged in _errors(
            method, opt, sdes, h, T, mc, test_functions, (seed, "custom", name, k)
        ):
            rows.append(
                {
                    "study": name,
                    "k": k,
                    "h": h,
                    "model": m,
                    "test_function": g,
                    "error": est.mean,
                    "se": est.se,
                    "n_diverged": n_diverged,
                    "method": method,
                }
            )
    table = pd.DataFrame(rows)
    return table, _fits(table, claimed, tolerance)


def _errors(method, opt, sdes, h, T, mc, test_functions, keys):
    if method == "exact":
        laws = exact_laws(opt, sdes, h, T)
        expect = {
            a: {g: float(f.gaussian_mean(*law)) for g, f in test_functions.items()}
            for a, law in laws.items()
        }
        for m in sdes:
            for g in test_functions:
                yield m, g, Estimate(expect[None][g] - expect[m][g], 0.0), 0
        return
    sample = coupled_simulation(opt, sdes, T, test_functions, mc, *keys)
    keep = ~sample.diverged
    for m in sdes:
        for g in test_functions:
            est = weak_error(sample.discrete[g][keep], sample.reference(m, g)[keep], True)
            yield m, g, est, sample.n_diverged


def _order(group: pd.DataFrame) -> tuple[float, tuple[float, float], float | None] | None:
    """The fitted order, its interval and (exact errors) the last local order.

    Monte Carlo: the SE-weighted slope over the resolved step sizes with its 95 % CI. Exact
    errors: the Richardson extrapolation of the last two local orders, the interval spanning it
    and the last local order (:func:`sgdsde.stats.exact_order`, docs/custom.md#exact)."""
    if group["method"].iloc[0] == "exact":
        keep = group["error"].abs() > EXACT_ZERO
        if keep.sum() < 3:
            return None
        fit = exact_order(group["h"][keep].to_numpy(), group["error"][keep].to_numpy())
        return fit.order, (fit.ci_low, fit.ci_high), fit.last
    estimates = [Estimate(e, s) for e, s in zip(group["error"], group["se"], strict=True)]
    fit = resolved_slope(group["h"].to_numpy(), estimates)
    return None if fit is None else (fit.slope, (fit.ci_low, fit.ci_high), None)


def _status(claimed: float | None, order: float, ci, last_local: float | None, tolerance) -> str:
    """The ledger's decision on the interval. Exact errors refute a claimed order only once the
    local orders have settled (the last change ≤ tolerance/4) or move away from it: local orders
    still moving towards the claim mean the ladder has not reached the asymptotic regime."""
    if claimed is None:
        return "no claim"
    _, status, _ = decide("within", order, claimed, tolerance, ci)
    if status == "fail" and last_local is not None:
        change = order - last_local  # = p_last − p_prev
        if abs(change) > tolerance / 4 and abs(order - claimed) < abs(last_local - claimed):
            return "unresolved"
    return status


def _fits(table: pd.DataFrame, claimed: dict, tolerance: float) -> pd.DataFrame:
    fits = []
    for (m, g), group in table.groupby(["model", "test_function"], sort=False):
        order, ci, last_local = _order(group) or (np.nan, (np.nan, np.nan), None)
        fits.append(
            {
                "study": group["study"].iloc[0],
                "model": m,
                "test_function": g,
                "claimed_order": claimed[m],
                "order": order,
                "ci_low": ci[0],
                "ci_high": ci[1],
                "status": _status(claimed[m], order, ci, last_local, tolerance),
                "method": group["method"].iloc[0],
            }
        )
    return pd.DataFrame(fits)


_NOTES = {
    "exact": "exact Gaussian moments; the interval spans the last local order and its "
    "Richardson extrapolation",
    "monte_carlo": "coupled Monte Carlo; the interval is from the standard errors",
}


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
        rows.append(
            {
                "claim_id": f"custom.{f.study}.{f.model}.{f.test_function}.order",
                "paper": "custom",
                "reference": cfg["module"],
                "anchor": "docs/custom.md#ledger",
                "statement": f"{f.study}: the study refutes that {claim}"
                if control
                else f"{f.study}: {claim}",
                "provenance": "proposed",
                "kind": "negative_control" if control else "claim",
                "experiment": f.study,
                "metric": "order",
                "check": "within",
                "measured": f.order,
                "ci_low": f.ci_low,
                "ci_high": f.ci_high,
                "expected": float(f.claimed_order),
                "tolerance": cfg.get("tolerance", 0.25),
                "status": status,
                "note": _NOTES[f.method],
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS)


def check_study(cfg: dict, name: str):
    """Everything a study needs, before any job runs: the module, its two functions, one step of
    every method at the largest step of the ladder, and the method (errors name the module and
    the method). Returns the module and the oracle."""
    module = load_module(cfg["module"])
    unknown = set(cfg["test_functions"]) - set(TEST_FUNCTIONS)
    if unknown:
        raise CustomModuleError(
            f"custom.{name}.test_functions: unknown {sorted(unknown)}; "
            f"known: {sorted(TEST_FUNCTIONS)}"
        )
    oracle = build_oracle(cfg["problem"], cfg.get("noise"), module)
    _, sdes = _prepare(
        module.optimizer,
        module.models,
        oracle,
        np.asarray(cfg["x0"], float),
        2.0 ** -cfg["ladder"][0],
        cfg["T"],
        _test_functions(cfg, oracle),
        cfg.get("method", "auto"),
        cfg["module"],
    )
    controls = set(cfg.get("negative_controls", [])) - set(sdes)
    if controls:
        raise CustomModuleError(
            f"custom.{name}.negative_controls: {sorted(controls)} are not models of {cfg['module']}"
        )
    return module, oracle


def _test_functions(cfg: dict, oracle) -> dict:
    return {g: TEST_FUNCTIONS[g](oracle.problem.dim) for g in cfg["test_functions"]}


def run_study(cfg: dict, seed: int, name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The study ``name`` of a ``custom:`` config entry (docs/custom.md#config)."""
    module, oracle = check_study(cfg, name)
    k = range(cfg["ladder"][0], cfg["ladder"][1] + 1)
    return weak_error_study(
        module.optimizer,
        module.models,
        oracle,
        cfg["x0"],
        k,
        cfg["T"],
        MonteCarlo(**cfg["mc"]),
        _test_functions(cfg, oracle),
        seed,
        name,
        cfg.get("tolerance", 0.25),
        cfg.get("method", "auto"),
    )
