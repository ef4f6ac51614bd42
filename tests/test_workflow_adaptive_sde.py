"""adaptive_sde outputs of the quick workflow run (the session fixture ``quick_run``)."""

import json

import pandas as pd
import pytest

from sgdsde.claims import load_manifest

from .conftest import REPO
from .workflow_copy import assert_no_failed_claim

pytestmark = pytest.mark.workflow
PAPER = "adaptive_sde"
EXPERIMENTS = ["E1", "E2", "E3", "E4", "E5", "E6", "E7", "E8", "E9"]


def test_adaptive_sde_claims_all_in_the_ledger_and_as_predicted(quick_run):
    workdir, run, _ = quick_run
    ledger = pd.read_csv(workdir / "results" / "claims.csv")
    rows = ledger[ledger["paper"] == PAPER]
    manifest = load_manifest(REPO / "config" / "claims" / f"{PAPER}.yaml")
    assert sorted(rows["claim_id"]) == sorted(c["id"] for c in manifest)
    assert_no_failed_claim(rows, run.stdout)
    assert (rows["kind"] == "negative_control").sum() >= 5


def test_adaptive_sde_figures_notebook_and_tables(quick_run):
    workdir = quick_run[0]
    for i in range(1, 6):
        for ext in ("pdf", "png"):
            assert (workdir / "results" / PAPER / "figures" / f"F{i}.{ext}").stat().st_size > 10_000
    notebook = workdir / "results" / "notebooks" / f"{PAPER}_F1_F5.ipynb"
    assert "injected-parameters" in notebook.read_text()
    assert notebook.with_suffix(".html").stat().st_size > 10_000
    t1 = pd.read_csv(workdir / "results" / PAPER / "tables" / "T1.csv")
    assert set(t1["model"]) >= {"ode", "sde2"} and t1["slope"].notna().any()
    t3 = pd.read_csv(workdir / "results" / PAPER / "tables" / "T3.csv")
    assert len(t3) >= 7 and t3["slope code"].notna().sum() >= 6
    assert (t3["slope derived"].notna() | t3["note"].notna()).all()
    for name in ("T1", "T2", "T3"):
        tex = (workdir / "paper" / "generated" / f"{PAPER}_{name}.tex").read_text()
        assert r"\begin{longtable}" in tex and r"\bottomrule" in tex


def test_adaptive_sde_results_logs_and_benchmarks(quick_run):
    workdir = quick_run[0]
    for e in EXPERIMENTS:
        metrics = json.loads((workdir / "results" / PAPER / e / "metrics.json").read_text())
        assert metrics
        assert (workdir / "results" / "logs" / PAPER / f"{e}.log").exists()
        assert (workdir / "results" / "benchmarks" / PAPER / f"{e}.tsv").exists()
    table = pd.read_parquet(workdir / "results" / PAPER / "E4" / "table.parquet")
    assert {"tau", "model", "test_function", "error", "se", "phi_active_fraction"} <= set(table)
    assert (table["se"] > 0).any()
    trajectory = pd.read_parquet(workdir / "results" / PAPER / "E6" / "trajectory.parquet")
    assert {"t", "error", "se", "discrete", "continuous"} <= set(trajectory)
    for rule in ("figures_F1_F5", "tables"):
        assert (workdir / "results" / "logs" / PAPER / f"{rule}.log").exists()
        assert (workdir / "results" / "benchmarks" / PAPER / f"{rule}.tsv").exists()
