"""The quick workflow on a real one-node SLURM cluster gives the local run's ledger, byte for
byte (.ci/slurm-cluster-test; README: Running on a SLURM cluster)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO

SCRIPT = REPO / ".ci" / "slurm-cluster-test"
SKIPPED = 77  # the script's exit code when SLURM/munge cannot be installed or run here


def on_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


@pytest.mark.slurm
@pytest.mark.workflow
def test_quick_run_on_slurm_gives_the_local_ledger(quick_run, tmp_path):
    reference = quick_run[0] / "results" / "claims.csv"
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    install = [] if on_ci() else ["--no-install"]  # apt-get only under CI
    run = subprocess.run(
        ["bash", str(SCRIPT), "--reference", str(reference), "--workdir", str(tmp_path), *install],
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    output = run.stdout[-4000:] + run.stderr[-4000:]
    if run.returncode == SKIPPED:
        if on_ci():
            pytest.fail(f"CI=true but the SLURM cluster cannot be set up:\n{output}")
        pytest.skip(
            "no SLURM cluster: needs root and Debian's slurm-wlm, munge "
            f"(run `sudo .ci/slurm-cluster-test`, or set CI=true): {run.stderr.strip()}"
        )
    assert run.returncode == 0, output
    assert "PASS: results/claims.csv of the SLURM run is byte-identical" in run.stdout
    submitted = int(run.stdout.split("SLURM run done: ")[1].split()[0])
    assert submitted >= 15, "most jobs must go through SLURM"


def test_the_script_refuses_unknown_arguments():
    run = subprocess.run(["bash", str(SCRIPT), "--bogus"], capture_output=True, text=True)
    assert run.returncode == 2 and "usage" in run.stderr


def test_slurm_config_is_cgroup_free_and_uses_squeue_compatible_job_age():
    conf = dict(
        line.split("=", 1)
        for line in (REPO / ".ci" / "slurm" / "slurm.conf").read_text().splitlines()
        if line and not line.startswith("#") and not line.startswith(("NodeName", "Partition"))
    )
    assert conf["ProctrackType"] == "proctrack/linuxproc" and conf["TaskPlugin"] == "task/none"
    assert int(conf["MinJobAge"]) >= 3 * 40  # the plugin's squeue condition, default interval


def test_bench_is_a_target_outside_all(tmp_path):
    """`snakemake bench` schedules the suite after the workflow; the default target does not."""
    from .workflow_copy import QUICK, copy_workflow, snakemake

    workdir = copy_workflow(tmp_path)
    bench, default = (snakemake(workdir, *QUICK, "-n", *target) for target in (["bench"], []))
    assert bench.returncode == 0 and default.returncode == 0, bench.stderr[-2000:]
    assert "rule bench:" in bench.stdout and "rule bench:" not in default.stdout
