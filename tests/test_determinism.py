"""Determinism: the same config gives bit-identical results whatever the cores or chunking."""

import copy
import hashlib

import pytest

from .workflow_copy import QUICK, copy_workflow, snakemake


def _digests(results) -> dict[str, str]:
    """SHA-256 of every result table, metrics file and the ledger (not the timestamped
    notebooks, PDF or logs)."""
    files = [*results.rglob("*.parquet"), *results.rglob("metrics.json"), results / "claims.csv"]
    return {str(p.relative_to(results)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


@pytest.mark.workflow
def test_one_core_and_two_cores_give_identical_results(quick_run, tmp_path):
    """The one-core run stops at the ledger (figures and report only read these files)."""
    workdir = copy_workflow(tmp_path)
    run = snakemake(workdir, *QUICK, "--cores", "1", "results/claims.csv")
    assert run.returncode == 0, run.stderr[-3000:]
    two, one = _digests(quick_run[0] / "results"), _digests(workdir / "results")
    assert len(one) > 20 and "claims.csv" in one
    assert one == {name: two[name] for name in one}


@pytest.mark.parametrize("experiment", ["E1c", "E2"])
def test_chunk_size_changes_no_bit(default_config, experiment):
    from sgdsde.experiments.momentum_approx import EXPERIMENTS

    cfg = copy.deepcopy(default_config["momentum_approx"])
    cfg[experiment]["k"] = [4, 6]
    cfg[experiment]["mc"] |= {"n_paths": 1024, "paths_per_block": 256}
    tables = []
    for blocks_per_chunk in (1, 4):
        cfg[experiment]["mc"]["blocks_per_chunk"] = blocks_per_chunk
        tables.append(EXPERIMENTS[experiment](copy.deepcopy(cfg), 5).tables["table"])
    assert tables[0].equals(tables[1])


@pytest.mark.parametrize("experiment", ["E4", "E6"])
def test_adaptive_sde_blocks_per_chunk_changes_no_bit(default_config, experiment):
    from sgdsde.experiments.adaptive_sde import EXPERIMENTS
    from sgdsde.experiments.adaptive_sde.common import resolve_problems

    section = default_config["adaptive_sde"]
    cfg = resolve_problems(copy.deepcopy(section[experiment]), section["problems"])
    cfg["ladder"] = [2, 3]
    cfg["mc"] |= {"n_paths": 400, "paths_per_block": 100}
    tables = []
    for blocks_per_chunk in (1, 3):
        cfg["mc"]["blocks_per_chunk"] = blocks_per_chunk
        result = EXPERIMENTS[experiment]({experiment: copy.deepcopy(cfg)}, 5)
        tables.append(result.tables)
    assert tables[0].keys() == tables[1].keys()
    for name, table in tables[0].items():
        assert table.equals(tables[1][name]), name
