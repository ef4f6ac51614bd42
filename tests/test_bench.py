"""The benchmark suite (sgdsde.bench) at toy sizes: structure and sanity, not speed targets;
the plain Euler–Maruyama engine and the linalg fast path it relies on."""

import os
import time

import numpy as np
import pandas as pd
import pytest

from sgdsde import bench
from sgdsde.engine import Paths, simulate
from sgdsde.linalg import batched_matvec, matvec

TOY = bench.SIZES["toy"]


@pytest.mark.parametrize(
    "M",
    [
        np.diag([1.0, -2.0, 3.0]),
        np.vstack([np.zeros((3, 3)), np.diag([0.5, 1.5, 2.5])]),  # heavy ball's [0; √h U]
        np.eye(3)[[2, 0, 1]] * 4.0,  # a permutation
        np.array([[0.0, 2.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, -1.0]]),  # a zero row
    ],
)
def test_one_non_zero_per_row_fast_path_equals_the_full_sum(M, rng):
    x = rng.standard_normal((7, 3))
    expected = np.einsum("ij,nj->ni", M, x)
    np.testing.assert_array_equal(matvec(M, x), expected)
    np.testing.assert_array_equal(batched_matvec(M[None], x), expected)


def test_dense_and_per_path_matrices_keep_the_general_path(rng):
    M, x = rng.standard_normal((3, 3)), rng.standard_normal((5, 3))
    np.testing.assert_allclose(matvec(M, x), x @ M.T, rtol=1e-14)
    Ms = np.stack([np.diag(r) for r in rng.standard_normal((5, 3))])  # (n, m, d): not shared
    np.testing.assert_allclose(batched_matvec(Ms, x), np.einsum("nij,nj->ni", Ms, x))


def test_euler_maruyama_is_independent_of_chunking_and_unbiased_for_ou():
    ou = bench.OrnsteinUhlenbeck(3)
    runs = [
        simulate(ou, np.ones(3), Paths(4096, 512, b), [20], 7, "t", dt=0.05).states[-1]
        for b in (1, 3, 8)
    ]
    assert runs[0].shape == (4096, 3)
    assert all(np.array_equal(runs[0], r) for r in runs[1:])
    # Euler's mean is exactly x0 (1 − θh)^N; the sample mean must be within 4 SE of it
    mean, se = runs[0].mean(), runs[0].mean(axis=1).std(ddof=1) / np.sqrt(4096)
    assert abs(mean - (1 - 0.05) ** 20) < 4 * se


def test_engine_table_has_every_case_and_dimension_and_a_sane_ratio():
    table = bench.bench_engine(TOY)
    assert sorted(table["case"].unique()) == sorted(bench.ENGINE_CASES)
    assert set(table["d"]) == set(bench.DIMENSIONS)
    assert (table["engine_path_steps_per_s"] > 0).all()
    # toy timings are too short for a stable ratio; check its definition, not its size
    rate = table["n_paths"] * table["n_steps"] / table["engine_seconds"]
    np.testing.assert_allclose(table["engine_path_steps_per_s"], rate)
    ratio = table["engine_path_steps_per_s"] / table["bound_path_steps_per_s"]
    np.testing.assert_allclose(table["ratio"], ratio)
    per_step = [
        bench.ENGINE_CASES[c].draws_per_path_step(d)
        for c, d in zip(table["case"], table["d"], strict=True)
    ]
    assert (table["draws"] == table["n_paths"] * table["n_steps"] * per_step).all()
    sde2 = table[table["case"] == "rmsprop_sde2"]
    assert (sde2["draws"] == 2 * sde2["n_paths"] * sde2["n_steps"] * sde2["d"]).all()  # W1, W2
    assert (table["load"] >= 0).all()


def test_a_new_engine_case_is_one_registry_entry():
    calls = []

    def simulate(d, n, N):
        calls.append((d, n, N))
        return np.zeros((n, d))

    case = bench.EngineCase("dummy", "zeros", simulate, lambda d: d)
    table = bench.bench_engine(TOY, {"dummy": case})
    assert list(table["case"].unique()) == ["dummy"] and len(table) == len(bench.DIMENSIONS)
    assert TOY["engine_paths"] in {n for _, n, _ in calls}


def test_peers_agree_within_standard_error_and_exact_mean():
    table = bench.bench_peers(TOY)
    assert sorted(table["solver"].unique()) == ["sdeint", "sgdsde", "torchsde"]
    assert (table.groupby("d")["n_paths"].nunique() == 1).all()  # equal paths and steps
    assert (table["z_vs_sgdsde"].abs() < 5).all()
    assert (table["z_vs_euler"].abs() < 5).all()
    ours = table[table["solver"] == "sgdsde"]
    assert (ours["speedup_of_sgdsde"] == 1).all()


def test_coupling_reduces_the_paths_needed():
    table = bench.bench_variance_reduction(TOY).set_index("coupled")
    assert table.loc[True, "h"] == 2.0**-6
    assert table.loc[False, "paths_needed"] > 10 * table.loc[True, "paths_needed"]
    assert table.loc[False, "variance_reduction"] > 10


def _fake_benchmarks(directory, seconds):
    now = time.time()
    for i, s in enumerate(seconds):
        path = directory / "paper" / f"job{i}.tsv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"s\th:m:s\tcpu_time\n{s}\t0:00:0{s}\t{s / 2}\n")
        os.utime(path, (now + 10 * i, now + 10 * i))
    own = directory / "bench" / "bench.tsv"  # the suite's own timing is left out
    own.parent.mkdir()
    own.write_text("s\th:m:s\tcpu_time\n999\t0:16:39\t999\n")


def test_walltime_sums_jobs_and_spans_first_start_to_last_end(tmp_path):
    _fake_benchmarks(tmp_path, [2.0, 3.0, 5.0])
    row = bench.bench_walltime({"quick": tmp_path}).iloc[0]
    assert row["jobs"] == 3 and row["job_seconds"] == 10.0 and row["cpu_seconds"] == 5.0
    assert row["span_seconds"] == pytest.approx(20 + 2.0)  # job0 starts 2 s before its end
    assert row["slowest_job"] == "job2"
    with pytest.raises(FileNotFoundError, match="no benchmark TSVs"):
        bench.bench_walltime({"none": tmp_path / "missing"})


def test_suite_writes_its_tables_and_figure(tmp_path):
    _fake_benchmarks(tmp_path / "runs", [1.0, 2.0])
    from sgdsde.cli import main

    assert (
        main(
            [
                "bench",
                "--out",
                str(tmp_path / "out"),
                "--size",
                "toy",
                "--walltime",
                f"quick={tmp_path / 'runs'}",
            ]
        )
        == 0
    )
    for name in ("engine", "peers", "variance_reduction", "walltime"):
        table = pd.read_csv(tmp_path / "out" / f"{name}.csv")
        assert len(table) and "load" in table.columns and (table["size"] == "toy").all()
    assert (tmp_path / "out" / "bench.png").stat().st_size > 30_000
    assert (tmp_path / "out" / "bench.pdf").stat().st_size > 10_000
    targets = pd.read_csv(tmp_path / "out" / "targets.csv")
    assert "walltime.cpu_seconds run=quick" in set(targets["target"])


def test_a_missed_target_says_by_how_much():
    tables = {"walltime": pd.DataFrame({"run": ["quick", "default"], "cpu_seconds": [60.0, 900.0]})}
    t = bench.bench_targets(tables).set_index("target")
    assert t.loc["walltime.cpu_seconds run=quick", "met"]
    row = t.loc["walltime.cpu_seconds run=default"]
    assert not row["met"] and row["missed_by_factor"] == pytest.approx(1.5)


def test_timed_runs_alternate_so_a_passing_load_slows_both_alike():
    calls = []
    seconds, results = bench.best_times(
        {"engine": lambda: calls.append("engine") or 1, "bound": lambda: calls.append("bound")},
        repeats=3,
    )
    assert calls == ["engine", "bound"] * 3
    assert results == {"engine": 1, "bound": None}
    assert all(0 <= s < 1 for s in seconds.values())
