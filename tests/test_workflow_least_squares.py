"""least_squares outputs of the quick workflow run (session fixture ``quick_run``)."""

import json

import numpy as np
import pandas as pd
import pytest

from sgdsde.least_squares import DATA_VERSION, read_dataset

from .workflow_copy import assert_no_failed_claim

pytestmark = pytest.mark.workflow

PAPER = "least_squares"
EXPERIMENTS = [f"E{i}" for i in range(1, 11)]


def test_datasets_are_versioned_files(quick_run):
    data = quick_run[0] / "results" / PAPER / "data"
    for name in ("D1", "D5", "O20", "N5", "P_iso1", "P_iso3", "P_iso20", "P_pow"):
        arrays, meta = read_dataset(data / f"{name}.npz")
        assert meta["version"] == DATA_VERSION and len(meta["config_hash"]) == 16
        assert meta["name"] == name
    arrays, _ = read_dataset(data / "O20.npz")
    assert arrays["X"].shape == (10, 20)  # over-parametrised
    arrays, _ = read_dataset(data / "N5.npz")
    np.testing.assert_allclose(arrays["X"] @ arrays["theta_true"], arrays["y"])  # noiseless


def test_figures_tables_notebook_logs(quick_run):
    workdir = quick_run[0]
    for i in range(1, 11):
        for ext in ("pdf", "png"):
            assert (workdir / "results" / PAPER / "figures" / f"F{i}.{ext}").stat().st_size > 10_000
    notebook = workdir / "results" / "notebooks" / f"{PAPER}_F1_F10.ipynb"
    assert "injected-parameters" in notebook.read_text()
    assert notebook.with_suffix(".html").stat().st_size > 10_000
    for name in ("T1", "T2", "T3"):
        assert len(pd.read_csv(workdir / "results" / PAPER / "tables" / f"{name}.csv"))
        tex = (workdir / "paper" / "generated" / f"{PAPER}_{name}.tex").read_text()
        assert r"\bottomrule" in tex
    for rule in [*EXPERIMENTS, "data_D1", "figures_F1_F10", "tables"]:
        assert (workdir / "results" / "logs" / PAPER / f"{rule}.log").exists()
        assert (workdir / "results" / "benchmarks" / PAPER / f"{rule}.tsv").exists()


def test_every_experiment_wrote_finite_or_null_metrics(quick_run):
    for e in EXPERIMENTS:
        metrics = json.loads((quick_run[0] / "results" / PAPER / e / "metrics.json").read_text())
        assert metrics
        table = pd.read_parquet(quick_run[0] / "results" / PAPER / e / "table.parquet")
        assert len(table)


def test_ledger_rows_of_this_paper(quick_run):
    workdir, run, _ = quick_run
    ledger = pd.read_csv(workdir / "results" / "claims.csv")
    mine = ledger[ledger["paper"] == PAPER]
    assert len(mine) >= 60
    assert set(mine["provenance"]) == {"paper", "derived", "proposed"}
    assert (mine["kind"] == "negative_control").any()
    assert_no_failed_claim(mine, run.stdout)
