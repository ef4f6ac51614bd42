"""marginal_momentum's outputs of the quick workflow run (the session fixture ``quick_run``)."""

import pandas as pd
import pytest
import yaml

from sgdsde.claims import load_manifest

from .conftest import REPO
from .test_workflow import _jobs
from .workflow_copy import QUICK, assert_no_failed_claim, snakemake

pytestmark = pytest.mark.workflow
PAPER = "marginal_momentum"
MANIFEST = REPO / "config" / "claims" / f"{PAPER}.yaml"


def test_figures_and_executed_notebooks_exist(quick_run):
    workdir = quick_run[0]
    figures = workdir / "results" / PAPER / "figures"
    for i in range(1, 7):
        for ext in ("pdf", "png"):
            assert (figures / f"F{i}.{ext}").stat().st_size > 10_000, f"F{i}.{ext}"
    for name in ("F1_F4", "F5_F6"):
        notebook = workdir / "results" / "notebooks" / f"{PAPER}_{name}.ipynb"
        assert "injected-parameters" in notebook.read_text()
        assert notebook.with_suffix(".html").stat().st_size > 10_000
    analogue = (workdir / "results" / "notebooks" / f"{PAPER}_F5_F6.ipynb").read_text()
    for title in ("F5 · CPU analogue of Figure 1", "F6 · CPU analogue of Figure 2"):
        assert title in analogue


def test_tables_are_generated(quick_run):
    workdir = quick_run[0]
    for name in ("T1", "T2", "T3", "T4"):
        table = pd.read_csv(workdir / "results" / PAPER / "tables" / f"{name}.csv")
        assert len(table), name
        tex = (workdir / "paper" / "generated" / f"{PAPER}_{name}.tex").read_text()
        assert r"\bottomrule" in tex
    t3 = pd.read_csv(workdir / "results" / PAPER / "tables" / "T3.csv")
    assert {"paper (RoBERTa-large)", "CPU analogue (digits MLP)"} <= set(t3["source"])
    assert "93.4 (0.2)" in t3.to_string()  # the paper's own Table 1, verbatim


def test_every_claim_of_this_paper_is_in_the_ledger_and_passes(quick_run):
    workdir, run, _ = quick_run
    ledger = pd.read_csv(workdir / "results" / "claims.csv")
    mine = ledger[ledger["paper"] == PAPER]
    manifest = load_manifest(MANIFEST)
    assert sorted(mine["claim_id"]) == sorted(c["id"] for c in manifest)
    assert_no_failed_claim(mine, run.stdout)
    analogues = mine[mine["experiment"].isin(["E7", "E8", "E9"])]
    assert len(analogues) and analogues["statement"].str.contains("CPU analogue").all()
    assert (mine["kind"] == "negative_control").sum() >= 8


def test_logs_and_benchmarks_of_every_job(quick_run):
    workdir = quick_run[0]
    quick = yaml.safe_load((REPO / "config" / "quick.yaml").read_text())[PAPER]
    names = [
        "E0",
        "E1",
        "E4a",
        "E5",
        "E7",
        "E8",
        "E9",
        "figures_F1_F4",
        "figures_F5_F6",
        "tables",
        *(f"E7_run_B{b}" for b in quick["E7"]["batch_sizes"]),
    ]
    for name in names:
        assert (workdir / "results" / "logs" / PAPER / f"{name}.log").exists(), name
        bench = workdir / "results" / "benchmarks" / PAPER / f"{name}.tsv"
        assert pd.read_csv(bench, sep="\t")["s"].iloc[0] > 0, name


def _dry_run_jobs(workdir, *configs) -> dict[str, int]:
    run = snakemake(workdir, *QUICK, *configs, "--dry-run")
    assert run.returncode == 0, run.stderr
    return _jobs(run.stdout) if "Job stats:" in run.stdout else {}


def test_editing_one_analogue_value_reruns_only_that_analogue(quick_run):
    """Against a dry run without the edit (other tests may have left other jobs pending)."""
    workdir = quick_run[0]
    (workdir / "override_mm.yaml").write_text(f"{PAPER}:\n  E7:\n    seeds: [1]\n")
    before = _dry_run_jobs(workdir)
    after = _dry_run_jobs(workdir, "override_mm.yaml")
    added = {rule: n - before.get(rule, 0) for rule, n in after.items() if n > before.get(rule, 0)}
    quick = yaml.safe_load((REPO / "config" / "quick.yaml").read_text())[PAPER]
    assert added.pop("marginal_momentum_analogue_run") == len(quick["E7"]["batch_sizes"])
    assert added.pop("marginal_momentum_analogue") == 1
    assert added.pop("marginal_momentum_figures_F5_F6") == 1
    assert set(added) <= {
        "marginal_momentum_tables",
        "claims",
        "provenance",
        "report_document",
        "paper",
        "all",
    }
