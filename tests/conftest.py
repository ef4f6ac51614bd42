"""Shared fixtures: the canonical configurations CFG-B and CFG-A of spec 2504.13992 §3."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from sgdsde.experiments.momentum_approx import build_model

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def default_config() -> dict:
    return yaml.safe_load((REPO / "config" / "config.yaml").read_text())


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
