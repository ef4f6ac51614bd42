"""Determinism: the same config gives bit-identical results whatever the cores or chunking, and
identical runs give identical files (figures, notebooks and the PDF included)."""

import copy
import hashlib

import pytest
import yaml

from .conftest import REPO
from .workflow_copy import QUICK, copy_workflow, snakemake

# What may differ between identical runs: logs, job timings, and LaTeX's own build records
# (they hold the working directory and file times); the HTML report is another command's
# output (`snakemake --report`, made in one of the two trees by the report test).
_VOLATILE_DIRS = {"logs", "benchmarks"}
_VOLATILE_SUFFIXES = {".log", ".fls", ".fdb_latexmk"}
_OTHER_COMMANDS = {"report.html"}


def _digests(results) -> dict[str, str]:
    """SHA-256 of every result file: tables, metrics, ledger, figures, executed notebooks,
    their HTML, the provenance record and the PDF."""
    return {
        str(path.relative_to(results)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(results.rglob("*"))
        if path.is_file()
        and path.relative_to(results).parts[0] not in _VOLATILE_DIRS
        and path.suffix not in _VOLATILE_SUFFIXES
        and path.name not in _OTHER_COMMANDS
    }


@pytest.mark.workflow
def test_one_core_and_two_cores_give_byte_identical_results(quick_run, tmp_path):
    """A second run of the same config, on one core instead of two, in another directory,
    writes the same bytes into every result file."""
    workdir = copy_workflow(tmp_path)
    run = snakemake(workdir, *QUICK, "--cores", "1")
    assert run.returncode == 0, run.stderr[-3000:]
    two, one = _digests(quick_run[0] / "results"), _digests(workdir / "results")
    assert {"claims.csv", "provenance.json"} <= one.keys() and len(one) > 100
    assert any(name.endswith(".ipynb") for name in one)
    differ = sorted(name for name in one.keys() | two.keys() if one.get(name) != two.get(name))
    assert not differ, differ[:20]


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


def _quick_least_squares(default_config) -> dict:
    quick = yaml.safe_load((REPO / "config" / "quick.yaml").read_text())["least_squares"]
    cfg = copy.deepcopy(default_config["least_squares"])
    for key, value in quick.items():
        cfg[key] = {**cfg[key], **value} if isinstance(value, dict) else value
    return cfg


@pytest.mark.parametrize("experiment", ["E2", "E3", "E7"])
def test_least_squares_blocks_per_chunk_changes_no_bit(default_config, tmp_path, experiment):
    """The population SDE (E2), the scalar SDE from per-path starts (E3) and the training SDE
    with its time average (E7, BLAS products) give the same tables for any chunking."""
    from sgdsde.experiments.least_squares import EXPERIMENTS
    from sgdsde.experiments.least_squares.common import generate

    seed, ls = default_config["seed"], _quick_least_squares(default_config)
    ls["data"] = {}
    for name, section in ls["datasets"].items():
        ls["data"][name] = str(tmp_path / f"{name}.npz")
        generate(name, section, seed, ls["data"][name])
    tables = []
    for blocks_per_chunk in (1, 3):
        cfg = copy.deepcopy(ls)
        cfg["monte_carlo"] = {"paths_per_block": 100, "blocks_per_chunk": blocks_per_chunk}
        tables.append(EXPERIMENTS[experiment](cfg, seed).tables)
    for name, table in tables[0].items():
        assert table.equals(tables[1][name]), name
