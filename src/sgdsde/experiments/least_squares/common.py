"""Dataset access and shared helpers of arXiv 2407.02322 (docs/least_squares.md).

Experiments read the versioned dataset files that the ``least_squares_data`` rules write
(``results/least_squares/data/<name>.npz``); the config passes their paths (``data``) and the
dataset sections (``datasets``), whose hash each file must carry.
"""

from __future__ import annotations

import numpy as np

from sgdsde import engine
from sgdsde.engine import Paths
from sgdsde.least_squares import (
    DATA_VERSION,
    NOISE_VARIANTS,
    TrainingProblem,
    config_hash,
    make_population,
    make_training_set,
    read_dataset,
    write_dataset,
)
from sgdsde.seeding import rng

PAPER = "least_squares"


def dataset_hash(section: dict, seed: int) -> str:
    return config_hash({"seed": seed, **section})


def generate(name: str, cfg: dict, seed: int, out: str) -> None:
    """Write dataset ``name`` (its section ``cfg``) to ``out`` with version and config hash;
    ``generator_seed`` draws it as a published dataset was drawn, from ``default_rng`` of that
    seed, instead of the project's stream."""
    if "generator_seed" in cfg:
        stream = np.random.default_rng(cfg["generator_seed"])
    else:
        stream = rng(seed, PAPER, "data", name)
    make = make_training_set if cfg["kind"] == "training" else make_population
    arrays = make(cfg, stream)
    meta = {
        "version": DATA_VERSION,
        "name": name,
        "seed": seed,
        "kind": cfg["kind"],
        "config_hash": dataset_hash(cfg, seed),
        "config": cfg,
    }
    write_dataset(out, arrays, meta)


def load(cfg: dict, seed: int, name: str) -> dict:
    """The arrays of dataset ``name``, checked against its config section."""
    arrays, _ = read_dataset(cfg["data"][name], dataset_hash(cfg["datasets"][name], seed))
    return arrays


def training(cfg: dict, seed: int, name: str) -> TrainingProblem:
    arrays = load(cfg, seed, name)
    return TrainingProblem(arrays["X"], arrays["y"])


def population(cfg: dict, seed: int, name: str) -> tuple[np.ndarray, float]:
    """``(λ, σ)`` of a population dataset (H = diag λ in its eigenbasis, θ* = 0)."""
    arrays = load(cfg, seed, name)
    return arrays["lam"], float(arrays["sigma"])


def variants(cfg: dict) -> dict[str, int]:
    """``{"V0": 0, "V1": 1}`` restricted to the configured ``noise_variants``."""
    return {v: NOISE_VARIANTS[v] for v in cfg["noise_variants"]}


def simulate(
    cfg: dict,
    model,
    X0: np.ndarray,
    n_paths: int,
    record_steps,
    seed: int,
    *keys: str | int,
    dt: float = 1.0,
    per_path: bool = False,
) -> np.ndarray:
    """The states ``(len(record_steps), n_paths, …)`` of ``model`` from ``X0`` on the engine, in
    the paper's seed blocks (``cfg["monte_carlo"]``), streams keyed ``(seed, paper, *keys,
    block)``; a diverging path is an error naming the experiment (``keys[0]``), γ and Δ."""
    paths = Paths(n_paths, **cfg["monte_carlo"])
    run = engine.simulate(
        model, X0, paths, record_steps, seed, PAPER, *keys, dt=dt, per_path=per_path
    )
    gamma = getattr(model, "gamma", getattr(getattr(model, "model", None), "gamma", None))
    return run.require_converged(f"{PAPER}.{keys[0]}", f"γ = {gamma:.4g}, Δ = {dt:.3g}")


def steps_for(times: np.ndarray, dt: float) -> np.ndarray:
    """Distinct step counts ``round(t/Δ) ≥ 1`` of the requested times."""
    return np.unique(np.maximum(np.round(np.asarray(times) / dt).astype(int), 1))


def loglog_slope(t: np.ndarray, y: np.ndarray) -> float:
    """Least-squares slope of ``log y`` against ``log t``."""
    return float(np.polyfit(np.log(t), np.log(y), 1)[0])


def log_slope(t: np.ndarray, y: np.ndarray) -> float:
    """Least-squares slope of ``log y`` against ``t`` (an exponential rate)."""
    return float(np.polyfit(t, np.log(y), 1)[0])
