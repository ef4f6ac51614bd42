"""Shared fixtures: the canonical configurations CFG-B and CFG-A of
docs/momentum_approx.md#experiments."""

from __future__ import annotations

import copy
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from sgdsde.experiments.momentum_approx import build_model

REPO = Path(__file__).resolve().parents[1]
CLAIM_MANIFESTS = sorted((REPO / "config" / "claims").glob("*.yaml"))


@pytest.fixture(scope="session")
def default_config() -> dict:
    return yaml.safe_load((REPO / "config" / "config.yaml").read_text())


@pytest.fixture
def config(default_config) -> dict:
    """A fresh copy of the default config, for tests that edit it."""
    return copy.deepcopy(default_config)


@pytest.fixture(scope="session")
def momentum_config(default_config) -> dict:
    return default_config["momentum_approx"]


@pytest.fixture(scope="session")
def cfg_b(momentum_config):
    ma = momentum_config
    return build_model(ma["problem"], ma["E1"]["configs"]["B"])


@pytest.fixture(scope="session")
def cfg_a(momentum_config):
    ma = momentum_config
    return build_model(ma["problem"], ma["E1"]["configs"]["A"])


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture(scope="session")
def quick_run(tmp_path_factory):
    """One end-to-end run of the workflow on config/quick.yaml in a temporary copy, shared by
    the workflow and report tests: ``(workdir, completed process, seconds)``."""
    from .workflow_copy import QUICK, copy_workflow, snakemake

    workdir = copy_workflow(tmp_path_factory.mktemp("workflow"))
    start = time.perf_counter()
    run = snakemake(workdir, *QUICK, "--cores", "2")
    elapsed = time.perf_counter() - start
    assert run.returncode == 0, run.stderr[-5000:]
    return workdir, run, elapsed
