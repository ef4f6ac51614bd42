"""A throwaway copy of the workflow, so tests never touch the repository's results/."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from .conftest import REPO

WORKFLOW_PARTS = (
    "Snakefile",
    "config",
    "rules",
    "notebooks",
    "profiles",
    "src",
    "report",
    "paper",
    "docs",
    "environment.yml",
)
QUICK = ("--configfile", "config/quick.yaml")


def copy_workflow(dest: Path) -> Path:
    for part in WORKFLOW_PARTS:
        src = REPO / part
        if src.is_dir():
            shutil.copytree(
                src, dest / part, ignore=shutil.ignore_patterns("__pycache__", "generated")
            )
        else:
            shutil.copy2(src, dest / part)
    return dest


def snakemake_command(*args: str) -> tuple[list[str], dict]:
    """The command and environment that run Snakemake of this interpreter's environment (its
    bin/ first on PATH, as an activated venv would have it)."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return [sys.executable, "-m", "snakemake", *args], env


def snakemake(workdir: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run Snakemake in ``workdir`` and wait for it."""
    command, env = snakemake_command(*args)
    return subprocess.run(
        command, cwd=workdir, env=env, capture_output=True, text=True, timeout=timeout
    )


def assert_no_failed_claim(rows, stdout: str) -> None:
    """No claim of ``rows`` (ledger rows of one or more papers) failed, and the run printed
    each paper's summary line. Deviations and unresolved slopes are outcomes, not failures."""
    from sgdsde.claims import STATUSES, summary

    assert set(rows["status"]) <= set(STATUSES)
    assert not (failed := rows.loc[rows["status"] == "fail", "claim_id"].tolist()), failed
    for line in summary(rows):
        assert line in stdout
