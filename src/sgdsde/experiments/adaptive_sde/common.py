"""Shared pieces of the adaptive_sde experiments (docs/adaptive_sde.md): the problems
of docs/adaptive_sde.md#problems built from config, the optimisers and their effective equations by
name, the τ-ladder and slope metrics."""

from __future__ import annotations

import numpy as np

from sgdsde.adaptive import (
    Adam,
    GaussianDataQuadratic,
    RMSprop,
    adam_equation,
    rmsprop_equation,
    stack,
)
from sgdsde.stats import fit_loglog_slope, pairwise_slopes

PAPER = "adaptive_sde"


def hessian(problem_cfg: dict) -> np.ndarray:
    """``A`` as given, or ``Q diag(eigenvalues) Qᵀ`` with Q from the QR decomposition of an
    ``N(0,1)^{d×d}`` matrix drawn with ``numpy.random.default_rng(rotation_seed)`` (Q6,
    docs/adaptive_sde.md#problems)."""
    if "A" in problem_cfg:
        return np.array(problem_cfg["A"], dtype=float)
    lam = np.array(problem_cfg["eigenvalues"], dtype=float)
    gen = np.random.default_rng(problem_cfg["rotation_seed"])
    Q, _ = np.linalg.qr(gen.standard_normal((len(lam), len(lam))))
    A = (Q * lam) @ Q.T
    return (A + A.T) / 2


def build_problem(problem_cfg: dict, sigma: float | None = None) -> GaussianDataQuadratic:
    s = problem_cfg["sigma"] if sigma is None else sigma
    return GaussianDataQuadratic(hessian(problem_cfg), s)


def initial_state(problem: GaussianDataQuadratic, problem_cfg: dict, optimizer: str) -> np.ndarray:
    """``(θ0, v0)`` or ``(θ0, m0, v0)``; ``v0: warm`` is ``(Aθ0)² + diagΣ``
    (docs/adaptive_sde.md#problems, Q-main)."""
    theta0 = np.array(problem_cfg["theta0"], dtype=float)
    if problem_cfg["v0"] == "warm":
        v0 = problem.grad(theta0) ** 2 + problem.diag_Sigma
    else:
        v0 = np.full(problem.d, float(problem_cfg["v0"]))
    if optimizer == "adam":
        return stack(theta0, np.full(problem.d, float(problem_cfg.get("m0", 0.0))), v0)
    return stack(theta0, v0)


def discrete_optimizer(problem, opt: dict, regime: str, indexing: str = "natural"):
    if opt["name"] == "rmsprop":
        return RMSprop(problem, opt["c"], opt["eps"], regime)
    return Adam(problem, opt["c1"], opt["c2"], opt["eps"], regime, indexing)


def effective_equation(
    problem,
    opt: dict,
    name: str,
    tau: float,
    regime: str,
    indexing: str = "natural",
    c_reg_power: float = 1.0,
    regulariser: str = "relu",
):
    """The named model of :data:`sgdsde.adaptive.MODELS`, ``c_reg = τ^{c_reg_power}`` (0: none)
    with the regulariser φ of docs/adaptive_sde.md#preconditioner."""
    c_reg = tau**c_reg_power if c_reg_power > 0 else 0.0
    if opt["name"] == "rmsprop":
        return rmsprop_equation(
            problem, name, tau, opt["c"], opt["eps"], regime, c_reg, regulariser
        )
    return adam_equation(
        problem, name, tau, opt["c1"], opt["c2"], opt["eps"], regime, indexing, c_reg, regulariser
    )


def ladder(exponents: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """``(i, τ = 2^-i)`` for ``i`` in ``[i_min, i_max]``."""
    i = np.arange(exponents[0], exponents[1] + 1)
    return i, 2.0 ** -i.astype(float)


def exact_slope_metrics(taus: np.ndarray, errors: np.ndarray, fit_last: int) -> dict:
    """Pairwise slopes and the least-squares slope over the ``fit_last`` smallest τ."""
    fit = fit_loglog_slope(taus[-fit_last:], errors[-fit_last:])
    slopes = pairwise_slopes(taus, errors).tolist()
    return {
        "errors": np.abs(errors).tolist(),
        "pairwise_slopes": slopes,
        "fit_slope": fit.slope,
        "fit_ci": [fit.ci_low, fit.ci_high],
    }


def resolve_problems(section: dict, problems: dict) -> dict:
    """The experiment's config with every ``problem: <name>`` (at the top or one level down,
    e.g. ``E1.adam.problem``) replaced by the mapping ``problems[<name>]``: a job's params then
    hold exactly the problem it reads, so editing that problem reruns exactly its jobs."""
    out = {}
    for key, value in section.items():
        if key == "problem" and isinstance(value, str):
            value = problems[value]
        elif isinstance(value, dict) and isinstance(value.get("problem"), str):
            value = {**value, "problem": problems[value["problem"]]}
        out[key] = value
    return out
