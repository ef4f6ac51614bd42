"""Builders shared by the experiments of arXiv 2504.13992 (docs/momentum_approx.md)."""

from __future__ import annotations

import numpy as np

from sgdsde.oracles import GaussianOracle
from sgdsde.problems import Quadratic
from sgdsde.schedules import Schedule
from sgdsde.sde import HeavyBallRegimeA, HeavyBallRegimeB

PAPER = "momentum_approx"


def gaussian_quadratic(problem_cfg: dict) -> GaussianOracle:
    """CFG-B/CFG-A's objective ``½(x−x*)ᵀA(x−x*)`` with additive noise ``N(0, S)``."""
    problem = Quadratic(np.array(problem_cfg["A"]), np.array(problem_cfg["x_star"]))
    return GaussianOracle(problem, np.array(problem_cfg["S"]))


def heavy_ball(oracle, model_cfg: dict, x0, p0=None):
    """Heavy ball in Regime B (``U``, ``V``) or Regime A (``U``, ``Z``) from a config mapping,
    on an objective that moves by ``moving`` if given (docs/momentum_approx.md#moving-objective)."""
    x0 = np.array(x0, dtype=float)
    U = Schedule.from_config(model_cfg["U"])
    moving = Schedule.from_config(model_cfg["moving"]) if "moving" in model_cfg else None
    if model_cfg["regime"] == "B":
        p0 = np.zeros_like(x0) if p0 is None else np.array(p0, dtype=float)
        V = Schedule.from_config(model_cfg["V"])
        return HeavyBallRegimeB(oracle, U, V, x0, p0, moving)
    return HeavyBallRegimeA(oracle, U, Schedule.from_config(model_cfg["Z"]), x0, moving)


def build_model(problem_cfg: dict, model_cfg: dict):
    """The heavy-ball model of one configuration of the canonical problem (CFG-B, CFG-A)."""
    return heavy_ball(
        gaussian_quadratic(problem_cfg), model_cfg, problem_cfg["x0"], problem_cfg["p0"]
    )


def cross_checked_model(cfg: dict, experiment: str):
    """The model of the E1 configuration that ``experiment`` (E1c, E5, E6) names, and T."""
    name = cfg[experiment]["config"]
    return build_model(cfg["problem"], cfg["E1"]["configs"][name]), cfg["problem"]["T"]


def step_ladder(T: float, k_range: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """``k`` and ``h = T·2^{−k}`` for ``k = k_min..k_max`` (docs/momentum_approx.md#scalings), so
    ``T/h = 2^k``."""
    k = np.arange(k_range[0], k_range[1] + 1)
    return k, T * 2.0 ** (-k)
