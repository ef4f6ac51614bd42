"""Benchmark suite (issue 7): ``python -m sgdsde bench`` or ``snakemake bench``.

Four measurements, side by side in one run on one machine, each written to
``<out>/<name>.csv`` with the machine's load (``os.getloadavg``) at the time:

* ``engine``: throughput of the Monte-Carlo engine in path-steps per second, for every case of
  :data:`ENGINE_CASES` at d ∈ {1, 10, 100}, against the machine's own bound, the rate at which
  NumPy fills the same number of standard normals from the same generator (PCG64). The figure of
  merit is ``ratio = engine rate / bound rate`` (1 would be "free arithmetic").
* ``peers``: the Ornstein–Uhlenbeck SDE ``dX = −θX dt + σ dW`` solved by
  :func:`sgdsde.engine.simulate`, by ``sdeint.itoEuler`` and by ``torchsde.sdeint``
  (Euler, CPU, one thread) with equal paths and steps: throughputs, ratios, and the means of
  ``X_T`` with standard errors against each other and Euler's exact mean ``x0 (1 − θh)^N``
  (the SDE's mean ``x0 e^{−θT}`` is listed too; it differs by O(h)).
* ``variance_reduction``: the number of paths needed to resolve the O(h²) weak error of SDE2
  for CFG-B's ``g1 = |x|²`` at ``h = 2^-6`` (SE ≤ |error|/4, the ledger's criterion), with the
  coupled engine (pathwise differences) and without (independent samples):
  ``M = 16 Var / error²``; their ratio is the variance-reduction factor.
* ``walltime``: wall time of workflow runs from Snakemake's ``benchmark:`` files: the sum of
  the job times and the span ``max(end) − min(end − s)`` (a benchmark file is written when its
  job ends), per run label; the suite's own file (``bench/bench.tsv``) is left out.

Timings on a shared machine are noisy: every row records the 1-minute load average.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sgdsde.checks import require_finite
from sgdsde.coupling import MonteCarlo, coupled_simulation
from sgdsde.engine import Paths, simulate
from sgdsde.observables import SquaredNorm
from sgdsde.oracles import GaussianOracle
from sgdsde.problems import Quadratic
from sgdsde.schedules import Schedule
from sgdsde.sde import APPROXIMATIONS, Continuous, HeavyBallRegimeB, coupled_models
from sgdsde.seeding import rng
from sgdsde.stats import mean_with_se, weak_error

DIMENSIONS = (1, 10, 100)
SEED = 20250418

# Sizes: "toy" for the tests (seconds), "full" for `snakemake bench` (a few minutes).
SIZES = {
    "toy": {
        "engine_paths": 512,
        "engine_steps": 16,
        "repeats": 1,
        "peer_paths": 16,
        "peer_steps": 16,
        "vr_paths": 1024,
    },
    "full": {
        "engine_paths": 8192,
        "engine_steps": 128,
        "repeats": 3,
        "peer_paths": 1024,
        "peer_steps": 256,
        "vr_paths": 16384,
    },
}


def single_threaded_blas() -> bool:
    """Limit NumPy's OpenBLAS to one thread, as Snakemake does for a ``threads: 1`` job
    (``OPENBLAS_NUM_THREADS=1``) and as torch is limited here: on a loaded machine idle BLAS
    threads spinning on small products cost more than the products. True if it took effect."""
    import ctypes
    from glob import glob

    libs = Path(np.__file__).parent.parent / "numpy.libs"
    for path in sorted(glob(str(libs / "*openblas*"))):
        lib = ctypes.CDLL(path)
        for name in (
            "scipy_openblas_set_num_threads64_",
            "openblas_set_num_threads64_",
            "openblas_set_num_threads",
        ):
            if hasattr(lib, name):
                getattr(lib, name)(1)
                return True
    return False


def load() -> float:
    """The 1-minute load average (recorded with every timing)."""
    return float(os.getloadavg()[0])


def best_times(runs: dict[str, Callable[[], object]], repeats: int):
    """Each run's smallest wall time over ``repeats`` rounds, and its last result. The runs
    alternate within each round, so a load that comes and goes slows them alike and their
    ratio holds on a busy machine; the minimum is the least disturbed call."""
    best, results = dict.fromkeys(runs, np.inf), {}
    for _ in range(repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            results[name] = run()
            best[name] = min(best[name], time.perf_counter() - start)
    return best, results


# ---- models


@functools.cache
def heavy_ball_b(d: int) -> HeavyBallRegimeB:
    """CFG-B in d dimensions: ``A = diag(linspace(0.5, 2, d))``, ``S = I``, ``U = 1/(1+t)``,
    ``V = 2``, ``x0 = 1``, ``p0 = 0`` (docs/momentum_approx.md#experiments; d = 2 is not CFG-B's
    A)."""
    problem = Quadratic(np.diag(np.linspace(0.5, 2.0, d)), np.zeros(d))
    U = Schedule.from_config({"kind": "inverse", "scale": 1.0, "offset": 1.0})
    V = Schedule.from_config({"kind": "constant", "scale": 2.0})
    return HeavyBallRegimeB(GaussianOracle(problem, np.eye(d)), U, V, np.ones(d), np.zeros(d))


@dataclass(frozen=True)
class OrnsteinUhlenbeck:
    """``dX = −θ X dt + σ dW`` in d dimensions, ``X_0 = x0·1``; mean ``x0 e^{−θt}``."""

    d: int
    theta: float = 1.0
    sigma: float = 0.5
    x0: float = 1.0

    weak_order = 1

    @property
    def noise_shape(self) -> tuple[int]:
        return (self.d,)

    def drift(self, t, X):
        return -self.theta * X

    def diffusion(self, t, X, dW):
        return self.sigma * dW

    def mean(self, T: float) -> float:
        return self.x0 * np.exp(-self.theta * T)

    def euler_mean(self, T: float, n_steps: int) -> float:
        """Euler's own mean after n steps, ``x0 (1 − θh)^n``: what every solver estimates."""
        return self.x0 * (1 - self.theta * T / n_steps) ** n_steps


# ---- engine throughput against the Gaussian-fill bound


@dataclass(frozen=True)
class EngineCase:
    """One engine benchmark: ``simulate(d, n_paths, n_steps)`` runs the engine, and
    ``draws_per_path_step(d)`` is the number of standard normals it consumes per path and step
    (the bound fills exactly that many)."""

    name: str
    description: str
    simulate: Callable[[int, int, int], np.ndarray]
    draws_per_path_step: Callable[[int], int]


def _heavy_ball_sde1(d: int, n_paths: int, n_steps: int) -> np.ndarray:
    """SDE1 of heavy ball (Regime B, CFG-B) by plain Euler–Maruyama to T = 1."""
    model = heavy_ball_b(d)
    sde = Continuous(model, 1.0 / n_steps, APPROXIMATIONS["sde1"])
    X0 = model.initial_continuous(sde.h, sde.approximation)
    return _terminal(sde, X0, n_paths, n_steps, 1.0, "heavy_ball_sde1", d)


def _terminal(model, X0, n_paths: int, n_steps: int, T: float, *keys) -> np.ndarray:
    """``X_T`` of the engine's Euler–Maruyama, seed blocks of up to 1024 paths, 64 per chunk."""
    paths = Paths(n_paths, paths_per_block=min(n_paths, 1024), blocks_per_chunk=64)
    return simulate(model, X0, paths, [n_steps], SEED, "bench", *keys, dt=T / n_steps).states[-1]


def _heavy_ball_coupled(d: int, n_paths: int, n_steps: int) -> np.ndarray:
    """The coupled engine of E1c: heavy ball and SDE1 on the grids δ = h/2 and 2δ, sharing the
    Brownian increments (K = 2 fine steps, so n_steps fine steps in all)."""
    mc = MonteCarlo(n_paths, fine_steps=2, paths_per_block=min(n_paths, 1024), blocks_per_chunk=64)
    observables = {"x1": lambda x: x[:, 0]}
    optimiser, sdes = coupled_models(heavy_ball_b(d), 2.0 / n_steps, ["sde1"])
    sample = coupled_simulation(optimiser, sdes, 1.0, observables, mc, SEED, "bench", "coupled", d)
    return sample.discrete["x1"]


@functools.cache
def _rmsprop_problem(d: int):
    """The Gaussian-data quadratic of docs/adaptive_sde.md#problems with ``A = diag(1 … 2)``, ``σ =
    1``."""
    from sgdsde.adaptive import GaussianDataQuadratic

    return GaussianDataQuadratic(np.diag(np.linspace(1.0, 2.0, d)), 1.0)


def _rmsprop_sde(order: str) -> Callable[[int, int, int], np.ndarray]:
    """RMSprop's effective equation ``order`` (``sde1``: θ-noise only; ``sde2``: with the
    independent W2 on v), ballistic regime, τ = 2^-3, by the engine's Euler–Maruyama to T = 1."""

    def run(d: int, n_paths: int, n_steps: int) -> np.ndarray:
        from sgdsde.adaptive import rmsprop_equation, stack

        problem = _rmsprop_problem(d)
        sde = rmsprop_equation(problem, order, 0.125, c=0.5, eps=1e-6, regime="ballistic")
        X0 = stack(np.ones(d), problem.diag_Sigma)[0]
        return _terminal(sde, X0, n_paths, n_steps, 1.0, f"rmsprop_{order}", d)

    return run


ENGINE_CASES: dict[str, EngineCase] = {
    case.name: case
    for case in (
        EngineCase(
            "heavy_ball_sde1",
            "heavy-ball SDE1 (Regime B), Euler–Maruyama",
            _heavy_ball_sde1,
            lambda d: d,
        ),
        EngineCase(
            "heavy_ball_coupled",
            "heavy ball + SDE1 on grids δ, 2δ, coupled (K = 2)",
            _heavy_ball_coupled,
            lambda d: d,
        ),
        EngineCase(
            "rmsprop_sde1",
            "RMSprop order-1 SDE (ballistic), Euler–Maruyama",
            _rmsprop_sde("sde1"),
            lambda d: d,
        ),
        EngineCase(
            "rmsprop_sde2",
            "RMSprop order-2 SDE with W2 on v (ballistic)",
            _rmsprop_sde("sde2"),
            lambda d: 2 * d,
        ),
    )
}
"""The engine cases; a new SDE is one more :class:`EngineCase` here."""


def gaussian_fill(n_draws: int, chunk: int = 1 << 22) -> float:
    """Fill ``n_draws`` standard normals with NumPy's PCG64 into a preallocated buffer (the
    machine's bound for an engine that needs that many): returns a checksum."""
    gen, out, total = rng(SEED, "bench", "bound"), np.empty(min(chunk, n_draws)), 0.0
    for first in range(0, n_draws, chunk):
        n = min(chunk, n_draws - first)
        gen.standard_normal(out=out[:n])
        total += out[0]
    return total


def bench_engine(size: dict, cases: dict[str, EngineCase] = ENGINE_CASES) -> pd.DataFrame:
    """Path-steps per second of each engine case at each d, and of the Gaussian-fill bound."""
    rows = []
    n, N, repeats = size["engine_paths"], size["engine_steps"], size["repeats"]
    for case in cases.values():
        for d in DIMENSIONS:
            case.simulate(d, 2, 2)  # warm-up: the model's set-up (cached), first calls
            draws = n * N * case.draws_per_path_step(d)
            seconds, results = best_times(
                {
                    "engine": lambda c=case, d=d: c.simulate(d, n, N),
                    "bound": lambda m=draws: gaussian_fill(m),
                },
                repeats,
            )
            require_finite(results["engine"], f"bench.{case.name}", f"d={d}")
            engine, bound = seconds["engine"], seconds["bound"]
            rows.append(
                {
                    "case": case.name,
                    "description": case.description,
                    "d": d,
                    "n_paths": n,
                    "n_steps": N,
                    "draws": draws,
                    "engine_seconds": engine,
                    "bound_seconds": bound,
                    "engine_path_steps_per_s": n * N / engine,
                    "bound_path_steps_per_s": n * N / bound,
                    "ratio": bound / engine,
                    "load": load(),
                }
            )
    return pd.DataFrame(rows)


# ---- peers on the Ornstein–Uhlenbeck SDE


def ou_sgdsde(ou: OrnsteinUhlenbeck, n_paths: int, n_steps: int, T: float) -> np.ndarray:
    return _terminal(ou, np.full(ou.d, ou.x0), n_paths, n_steps, T, "ou", ou.d)


def ou_sdeint(ou: OrnsteinUhlenbeck, n_paths: int, n_steps: int, T: float) -> np.ndarray:
    """``sdeint.itoEuler``, one call per path (sdeint integrates one path at a time)."""
    import sdeint

    tspan = np.linspace(0.0, T, n_steps + 1)
    G = ou.sigma * np.eye(ou.d)
    gen = rng(SEED, "bench", "ou_sdeint", ou.d)
    y0 = np.full(ou.d, ou.x0)
    return np.array(
        [
            sdeint.itoEuler(lambda y, t: -ou.theta * y, lambda y, t: G, y0, tspan, generator=gen)[
                -1
            ]
            for _ in range(n_paths)
        ]
    )


def ou_torchsde(ou: OrnsteinUhlenbeck, n_paths: int, n_steps: int, T: float) -> np.ndarray:
    """``torchsde.sdeint`` (Ito, diagonal noise, Euler with ``dt = T/n_steps``) on CPU, one
    thread, all paths as one batch."""
    import torch
    import torchsde

    torch.set_num_threads(1)
    torch.manual_seed(SEED + ou.d)

    class SDE(torch.nn.Module):
        noise_type, sde_type = "diagonal", "ito"

        def f(self, t, y):
            return -ou.theta * y

        def g(self, t, y):
            return torch.full_like(y, ou.sigma)

    y0 = torch.full((n_paths, ou.d), ou.x0, dtype=torch.float64)
    ts = torch.tensor([0.0, T], dtype=torch.float64)
    with torch.no_grad():
        ys = torchsde.sdeint(SDE(), y0, ts, method="euler", dt=T / n_steps)
    return ys[-1].numpy()


PEERS: dict[str, Callable] = {"sgdsde": ou_sgdsde, "sdeint": ou_sdeint, "torchsde": ou_torchsde}


def bench_peers(size: dict, T: float = 1.0) -> pd.DataFrame:
    """Throughput and mean of ``X_T`` (over paths and coordinates, with its SE) of each solver
    on the same OU problem, equal paths and steps; ratios relative to sgdsde."""
    rows = []
    n, N = size["peer_paths"], size["peer_steps"]
    for d in DIMENSIONS:
        ou = OrnsteinUhlenbeck(d)
        for solve in PEERS.values():
            solve(ou, 2, 2, T)  # warm-up: imports, first-call set-up
        runs = {solver: lambda s=solve, ou=ou: s(ou, n, N, T) for solver, solve in PEERS.items()}
        times, results = best_times(runs, size["repeats"])
        for solver, seconds in times.items():
            X = require_finite(np.asarray(results[solver]), f"bench.peers.{solver}", f"d={d}")
            mean = mean_with_se(X.mean(axis=1))  # coordinates are i.i.d.: average per path
            rows.append(
                {
                    "solver": solver,
                    "d": d,
                    "n_paths": n,
                    "n_steps": N,
                    "seconds": seconds,
                    "path_steps_per_s": n * N / seconds,
                    "mean": mean.mean,
                    "mean_se": mean.se,
                    "exact_mean": ou.mean(T),
                    "euler_mean": ou.euler_mean(T, N),
                    "load": load(),
                }
            )
    table = pd.DataFrame(rows)
    ours = table[table["solver"] == "sgdsde"].set_index("d")
    table["speedup_of_sgdsde"] = table["seconds"] / table["d"].map(ours["seconds"]).to_numpy()
    se = np.hypot(table["mean_se"], table["d"].map(ours["mean_se"]).to_numpy())
    table["z_vs_sgdsde"] = (table["mean"] - table["d"].map(ours["mean"]).to_numpy()) / se
    table["z_vs_euler"] = (table["mean"] - table["euler_mean"]) / table["mean_se"]
    return table


# ---- variance reduction of the coupling


def bench_variance_reduction(size: dict, k: int = 6, T: float = 1.0) -> pd.DataFrame:
    """Paths needed for SE ≤ |e|/4 of SDE2's weak error for ``g1 = |x|²`` at ``h = 2^-k``,
    CFG-B's schedules in d = 2, with and without the coupling (pilot of ``vr_paths`` paths)."""
    h, g = 2.0**-k, SquaredNorm(2)
    mc = MonteCarlo(size["vr_paths"], fine_steps=8, paths_per_block=1024, blocks_per_chunk=16)
    optimiser, sdes = coupled_models(heavy_ball_b(2), h, ["sde2"])
    sample = coupled_simulation(
        optimiser, sdes, T, {"g1": g}, mc, SEED, "bench", "variance_reduction", k
    )
    discrete, reference = sample.discrete["g1"], sample.reference("sde2", "g1")
    half = len(discrete) // 2  # independent samples: discrete and SDE from disjoint paths
    rows = []
    for coupled, (a, b) in (
        (True, (discrete, reference)),
        (False, (discrete[:half], reference[half:])),
    ):
        estimate = weak_error(a, b, coupled=coupled)
        variance = estimate.se**2 * len(a)  # per-path variance of the estimator
        rows.append(
            {
                "coupled": coupled,
                "h": h,
                "n_pilot": len(a),
                "error": estimate.mean,
                "error_se": estimate.se,
                "variance": variance,
                "load": load(),
            }
        )
    table = pd.DataFrame(rows)
    coupled = table[table["coupled"]].iloc[0]
    error = float(coupled["error"])  # the better-resolved estimate of the same weak error
    table["paths_needed"] = np.ceil(16 * table["variance"] / error**2).astype(int)
    table["variance_reduction"] = table["variance"] / float(coupled["variance"])
    return table


# ---- wall time of workflow runs


def bench_walltime(runs: dict[str, Path]) -> pd.DataFrame:
    """Per run label: jobs, summed job seconds, and the span from the first job's start to the
    last job's end, from the Snakemake ``benchmark:`` TSVs under each directory."""
    rows = []
    for label, directory in runs.items():
        files = sorted(p for p in Path(directory).rglob("*.tsv") if p.parent.name != "bench")
        if not files:
            raise FileNotFoundError(f"bench: no benchmark TSVs under {directory} ({label})")
        last = [pd.read_csv(p, sep="\t").iloc[-1] for p in files]
        seconds = np.array([row["s"] for row in last])
        ends = np.array([p.stat().st_mtime for p in files])
        rows.append(
            {
                "run": label,
                "jobs": len(files),
                "job_seconds": seconds.sum(),
                "cpu_seconds": float(sum(row["cpu_time"] for row in last)),
                "span_seconds": ends.max() - (ends - seconds).min(),
                "slowest_job": files[int(seconds.argmax())].stem,
                "slowest_job_seconds": seconds.max(),
                "load": load(),
            }
        )
    return pd.DataFrame(rows)


# ---- targets


TARGETS = (
    ("engine", "ratio", {"case": "heavy_ball_sde1", "d": 10}, ">=", 0.8),
    ("engine", "ratio", {"case": "rmsprop_sde1", "d": 10}, ">=", 0.8),
    ("engine", "ratio", {"case": "heavy_ball_coupled", "d": 10}, ">=", 0.5),
    ("peers", "speedup_of_sgdsde", {"solver": "torchsde", "d": 1}, ">=", 10.0),
    ("peers", "speedup_of_sgdsde", {"solver": "torchsde", "d": 10}, ">=", 10.0),
    ("peers", "speedup_of_sgdsde", {"solver": "torchsde", "d": 100}, ">=", 10.0),
    ("walltime", "cpu_seconds", {"run": "default"}, "<=", 600.0),
    ("walltime", "cpu_seconds", {"run": "quick"}, "<=", 120.0),
)
"""(table, column, row selection, comparison, goal) of each speed target of the engine."""


def bench_targets(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Each target that the measured tables can decide: the value, the goal, whether it is met
    and by what factor it is missed (``goal/value`` for a floor, ``value/goal`` for a ceiling)."""
    rows = []
    for table, column, where, comparison, goal in TARGETS:
        if table not in tables:
            continue
        t = tables[table]
        selected = t[np.logical_and.reduce([t[k] == v for k, v in where.items()])]
        if selected.empty:
            continue
        value = float(selected[column].iloc[0])
        met = value >= goal if comparison == ">=" else value <= goal
        factor = goal / value if comparison == ">=" else value / goal
        name = f"{table}.{column} " + " ".join(f"{k}={v}" for k, v in where.items())
        rows.append(
            {
                "target": name,
                "value": value,
                "comparison": comparison,
                "goal": goal,
                "met": met,
                "missed_by_factor": 1.0 if met else factor,
            }
        )
    return pd.DataFrame(rows)


# ---- the suite


def run_suite(out: Path, size_name: str = "full", runs: dict[str, Path] | None = None):
    """Run every benchmark, write ``<out>/{engine,peers,variance_reduction,walltime}.csv``, the
    targets met and missed (``<out>/targets.csv``) and the figure ``<out>/bench.{pdf,png}``;
    return the tables."""
    size = SIZES[size_name]
    single_threaded_blas()
    tables = {
        "engine": bench_engine(size),
        "peers": bench_peers(size),
        "variance_reduction": bench_variance_reduction(size),
    }
    if runs:
        tables["walltime"] = bench_walltime(runs)
    targets = bench_targets(tables)
    out.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        table.assign(size=size_name).to_csv(out / f"{name}.csv", index=False)
    from sgdsde.plotting import benchmark_figure, save_figure

    save_figure(benchmark_figure(tables), out, "bench")
    targets.assign(size=size_name).to_csv(out / "targets.csv", index=False)
    return tables | {"targets": targets}
