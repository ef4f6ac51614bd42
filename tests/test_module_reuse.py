"""This workflow as another workflow's Snakemake module (docs/custom.md#module-reuse): the host
workflow and config of the document, run as written, give one paper's experiment with the
bytes of the same job run here and one custom study with its figure and ledger rows."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import pandas as pd
import pytest

from .conftest import REPO
from .workflow_copy import snakemake

pytestmark = pytest.mark.workflow


def _blocks(language: str) -> list[str]:
    text = (REPO / "docs" / "custom.md").read_text()
    section = text[text.index('<a id="module-reuse"></a>') : text.index('<a id="not-yet"></a>')]
    return re.findall(rf"```{language}\n(.*?)```", section, re.S)


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    """The documented host workflow in a directory of its own, the clone being this repository."""
    host = tmp_path_factory.mktemp("host")
    (snakefile,), (config,) = _blocks("python"), _blocks("yaml")
    (host / "Snakefile").write_text(snakefile)
    (host / "config.yaml").write_text(config.replace("../sgdsde", str(REPO)))
    shutil.copy(REPO / "docs" / "examples" / "sgd_modified_equation.py", host / "mine.py")
    run = snakemake(host, "--configfile", "config.yaml", "--cores", "2")
    assert run.returncode == 0, run.stderr[-5000:]
    return host


def test_the_host_runs_a_paper_experiment_with_the_bytes_of_this_workflow(host, tmp_path):
    """The E0 job through the module has the host's override in its config, and its metrics are
    the bytes of the same command run directly."""
    ran = host / "results" / "momentum_approx" / "E0" / "metrics.json"
    dry_run = subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            "-n",
            "-p",
            "--forceall",
            "--configfile",
            "config.yaml",
            str(ran.relative_to(host)),
        ],
        cwd=host,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    params = re.search(r"python -m sgdsde run momentum_approx\.E0 --params '(.*?)'", dry_run)
    assert params and json.loads(params.group(1))["E0"]["n_steps"] == 200
    subprocess.run(
        [
            sys.executable,
            "-m",
            "sgdsde",
            "run",
            "momentum_approx.E0",
            "--params",
            params.group(1),
            "--out",
            str(tmp_path),
        ],
        check=True,
    )
    assert (tmp_path / "metrics.json").read_bytes() == ran.read_bytes()


def test_the_host_runs_a_custom_study_with_its_figure_and_ledger_rows(host):
    study = host / "results" / "custom"
    assert (study / "figures" / "mine.png").stat().st_size > 10_000
    ledger = pd.read_parquet(study / "mine" / "ledger.parquet")
    status = ledger.set_index("claim_id")["status"]
    assert status["custom.mine.sde1.x1.order"] == "pass"
    assert status["custom.mine.sde2.sq_norm.order"] == "pass"
    assert status["custom.mine.sde2_wrong_sign.x1.order"] == "fail"
    assert (pd.read_parquet(study / "mine" / "table.parquet")["method"] == "exact").all()


def test_the_host_sees_the_rules_under_the_prefix(host):
    rules = snakemake(host, "--configfile", "config.yaml", "--list-rules").stdout.split()
    assert {"sgdsde_custom_study", "sgdsde_momentum_approx_experiment", "all"} <= set(rules)
