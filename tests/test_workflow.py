"""The whole workflow on config/quick.yaml, in a temporary copy of the repository."""

import hashlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest

from sgdsde.claims import COLUMNS, PAPERS, claimed_range, load_manifests

from .conftest import CLAIM_MANIFESTS
from .workflow_copy import (
    QUICK,
    assert_no_failed_claim,
    copy_workflow,
    snakemake,
    snakemake_command,
)

pytestmark = pytest.mark.workflow


def _jobs(dry_run_output: str) -> dict[str, int]:
    """Job counts from the 'Job stats' table of a dry run."""
    table = dry_run_output.split("Job stats:")[1].split("total")[0]
    rows = [line.split() for line in table.splitlines()[3:] if line.strip()]
    return {name: int(count) for name, count in rows}


def _job_seconds(benchmarks: Path) -> float:
    return sum(
        float(path.read_text().splitlines()[1].split()[0]) for path in benchmarks.glob("*.tsv")
    )


def test_every_paper_runs_its_jobs_in_quick_mode(quick_run):
    """Each paper's jobs ran and left a benchmark (their wall time is reported by `sgdsde.bench`,
    not asserted here: a timed test fails on a loaded machine)."""
    benchmarks = quick_run[0] / "results" / "benchmarks"
    seconds = {paper: _job_seconds(benchmarks / paper) for paper in PAPERS}
    assert all(seconds.values()), f"a paper ran no job: {seconds}"


def test_every_claim_is_in_the_ledger_and_behaves_as_predicted(quick_run):
    workdir, run, _ = quick_run
    ledger = pd.read_csv(workdir / "results" / "claims.csv")
    assert list(ledger.columns) == COLUMNS
    manifest = load_manifests(CLAIM_MANIFESTS)
    assert sorted(ledger["claim_id"]) == sorted(c["id"] for c in manifest)
    assert_no_failed_claim(ledger, run.stdout)
    tex = (workdir / "paper" / "generated" / "claims.tex").read_text()
    papers = ledger["paper"].nunique()  # each paper also defines \Ledger<Paper>
    assert tex.count(r"\newcommand") == 2 * len(ledger) + papers
    outcomes = pd.read_csv(workdir / "results" / "claims_outcomes.csv").set_index("paper")
    assert outcomes.loc["all", "rows"] == len(ledger)
    assert (outcomes.drop(columns="rows").sum(axis=1) == outcomes["rows"]).all()


def test_a_monte_carlo_slope_passes_only_when_its_interval_lies_in_the_claimed_range(quick_run):
    ledger = pd.read_csv(quick_run[0] / "results" / "claims.csv")
    slopes = ledger[ledger["metric"].str.endswith(("resolved_slope", "tail_slope"))]
    assert len(slopes) > 30
    measured = slopes[slopes["status"] != "unresolved"]
    assert measured[["ci_low", "ci_high"]].notna().all(axis=None), "a slope without its CI"
    for row in measured[measured["status"] == "pass"].itertuples():
        low, high = claimed_range(row.check, row.expected, row.tolerance)
        assert low <= row.ci_low <= row.ci_high <= high, row.claim_id


def test_figures_tables_and_executed_notebook_exist(quick_run):
    workdir = quick_run[0]
    figures = workdir / "results" / "momentum_approx" / "figures"
    for i in range(1, 9):
        for ext in ("pdf", "png"):
            assert (figures / f"F{i}.{ext}").stat().st_size > 10_000
    for name in ("F1_F4", "F5_F6", "F7_F8"):
        notebook = workdir / "results" / "notebooks" / f"momentum_approx_{name}.ipynb"
        assert "injected-parameters" in notebook.read_text()  # papermill ran it
        assert notebook.with_suffix(".html").stat().st_size > 10_000
    table = pd.read_parquet(workdir / "results" / "momentum_approx" / "E1" / "B" / "table.parquet")
    assert {"config", "approximation", "test_function", "h", "error"} <= set(table.columns)
    for name in ("T1", "T2", "T3"):
        assert len(pd.read_csv(workdir / "results" / "momentum_approx" / "tables" / f"{name}.csv"))
        tex = (workdir / "paper" / "generated" / f"momentum_approx_{name}.tex").read_text()
        assert r"\begin{longtable}" in tex and r"\bottomrule" in tex
    for rule in ("E0", "E1_A", "E1_B", "E2", "E7", "figures_F1_F4", "tables"):
        assert (workdir / "results" / "logs" / "momentum_approx" / f"{rule}.log").exists()
        assert (workdir / "results" / "benchmarks" / "momentum_approx" / f"{rule}.tsv").exists()


def test_second_run_does_nothing(quick_run):
    run = snakemake(quick_run[0], *QUICK, "--dry-run")
    assert run.returncode == 0
    assert "Nothing to be done" in run.stdout + run.stderr


def test_a_paper_left_out_has_no_jobs_no_rows_and_no_section(tmp_path):
    """``papers: [least_squares]``: the others get no job, no ledger row, no report section."""
    workdir = copy_workflow(tmp_path)
    (workdir / "one_paper.yaml").write_text("papers: [least_squares]\n")
    run = snakemake(workdir, *QUICK, "one_paper.yaml", "--cores", "2")
    assert run.returncode == 0, run.stderr[-3000:]
    ledger = pd.read_csv(workdir / "results" / "claims.csv")
    assert set(ledger["paper"]) == {"least_squares"} and len(ledger) > 50
    assert sorted(p.name for p in (workdir / "results").iterdir() if p.name in PAPERS) == [
        "least_squares"
    ]
    log = workdir / "results" / "paper" / "reproduction.log"
    if shutil.which("latexmk"):
        text = log.read_text(errors="replace")
        assert "SDE models for least-squares SGD" in text or "least_squares_document" in text
        assert "momentum_approx_document" not in text and "undefined" not in text.lower()


def _digests(paths) -> dict[str, str]:
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in paths}


def test_a_killed_job_is_rerun_and_leaves_nothing_partial(quick_run):
    """SIGKILL to the whole run while a notebook executes: after ``--unlock`` the next run
    redoes that job, and every output is the same file as before; no temporary survives."""
    workdir = quick_run[0]
    figures = workdir / "results" / "marginal_momentum" / "figures"
    outputs = [
        *(figures / f"F{i}.{ext}" for i in range(1, 5) for ext in ("pdf", "png")),
        workdir / "results" / "notebooks" / "marginal_momentum_F1_F4.ipynb",
    ]
    before = _digests(outputs)
    rule = "marginal_momentum_figures_F1_F4"
    command, env = snakemake_command(*QUICK, "--cores", "1", "--forcerun", rule, "--until", rule)
    log = workdir / "results" / "logs" / "marginal_momentum" / "figures_F1_F4.log"
    log.unlink(missing_ok=True)
    run = subprocess.Popen(
        command,
        cwd=workdir,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and "Executing notebook" not in (
        log.read_text() if log.exists() else ""
    ):
        time.sleep(0.2)
    time.sleep(1.0)  # inside the notebook: some figures may be written, others not
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()
    unlock = snakemake(workdir, *QUICK, "--unlock")  # a killed Snakemake leaves its lock
    assert unlock.returncode == 0, unlock.stderr[-2000:]
    rerun = snakemake(workdir, *QUICK, "--cores", "2")
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert _digests(outputs) == before
    assert not [p.name for p in figures.iterdir() if p.name.startswith(".")]


def test_a_deleted_experiment_is_rebuilt(quick_run):
    """``rm -r results/<paper>/<experiment>``: the default target rebuilds it."""
    results = quick_run[0] / "results" / "momentum_approx"
    aside = results / ".E3-aside"
    (results / "E3").rename(aside)  # renamed back with its files' times: nothing else reruns
    try:
        jobs = _jobs(snakemake(quick_run[0], *QUICK, "--dry-run").stdout)
    finally:
        aside.rename(results / "E3")
    assert jobs.get("momentum_approx_E3") == 1, jobs


def test_changing_one_value_reruns_only_what_depends_on_it(quick_run):
    workdir = quick_run[0]
    (workdir / "override.yaml").write_text(
        "momentum_approx:\n  E1:\n    configs:\n      A: {k: [3, 13]}\n"
    )
    run = snakemake(workdir, *QUICK, "override.yaml", "--dry-run")
    assert run.returncode == 0, run.stderr
    expected = {
        "momentum_approx_E1": 1,
        "claims": 1,
        "momentum_approx_figures_F1_F4": 1,
        "momentum_approx_tables": 1,
        "provenance": 1,
        "all": 1,
    }
    if shutil.which("latexmk"):
        expected["paper"] = 1
    assert _jobs(run.stdout) == expected
    assert "results/momentum_approx/E1/A/metrics.json" in run.stdout
    assert "results/momentum_approx/E1/B/metrics.json" not in run.stdout.split("reason")[0]


def _edit(path):
    """Change a file's content (Snakemake checks content, not only mtime, before rerunning)."""
    path.write_text(path.read_text() + "\n# edited by the test\n")
    later = time.time() + 60
    os.utime(path, (later, later))


def test_editing_library_code_reruns_what_imports_it(quick_run):
    """``plotting.py`` reruns figures only; ``nets.py`` (the digits analogues' networks) reruns
    only the analogue runs that import it and what is made from them, no other experiment."""
    workdir = quick_run[0]
    plotting, nets = (workdir / "src" / "sgdsde" / name for name in ("plotting.py", "nets.py"))
    originals = {path: path.read_text() for path in (plotting, nets)}
    downstream = ("_figures_", "_tables", "claims", "report_document", "paper", "provenance", "all")
    try:
        _edit(plotting)
        report = {"report_document", "paper", "all"}
        figures = set(_jobs(snakemake(workdir, *QUICK, "--dry-run").stdout)) - report
        assert {
            "momentum_approx_figures_F1_F4",
            "momentum_approx_figures_F5_F6",
            "momentum_approx_figures_F7_F8",
        } <= figures
        assert all("_figures_" in rule for rule in figures), figures
        plotting.write_text(originals[plotting])
        _edit(nets)
        jobs = _jobs(snakemake(workdir, *QUICK, "--dry-run").stdout)
        computed = {rule for rule in jobs if not any(part in rule for part in downstream)}
        assert "marginal_momentum_analogue_run" in computed, jobs
        assert computed <= {
            "marginal_momentum_analogue_run",
            "marginal_momentum_E9_run",
            "marginal_momentum_analogue",
        }, computed
    finally:  # the same content again: Snakemake's checksums then see nothing to redo
        for path, text in originals.items():
            path.write_text(text)


def test_a_failing_job_leaves_upstream_results_intact(quick_run):
    workdir = quick_run[0]
    kept = [
        workdir / "results" / "claims.csv",
        workdir / "results" / "momentum_approx" / "E1" / "A" / "table.parquet",
    ]
    before = [path.read_bytes() for path in kept]
    notebook = workdir / "notebooks" / "momentum_approx_F1_F4.py"
    source = notebook.read_text()
    notebook.write_text(source + '\n# %%\nraise RuntimeError("broken figure")\n')
    try:
        run = snakemake(workdir, *QUICK, "--cores", "1")
        assert run.returncode != 0
        assert "momentum_approx_figures_F1_F4" in run.stderr + run.stdout
        assert [path.read_bytes() for path in kept] == before
    finally:  # later tests share this workdir: mend the notebook and rebuild what failed
        notebook.write_text(source)
        rebuilt = snakemake(workdir, *QUICK, "--cores", "2")
    assert rebuilt.returncode == 0, rebuilt.stderr[-3000:]
