"""Hostile but realistic inputs: each fails before any job, in one line naming the key or file."""

import math
from importlib import import_module
from pathlib import Path

import pytest
import yaml

from sgdsde.claims import PAPERS, ClaimError
from sgdsde.claims_check import check_manifests
from sgdsde.config import ConfigError, check_config
from sgdsde.config_files import load_config_file, validate_schema
from sgdsde.io import keep_aside, put_back

from .conftest import REPO
from .workflow_copy import copy_workflow, snakemake

SCHEMA = REPO / "config" / "config.schema.yaml"


def _set(path: str, value):
    """An edit setting the dotted ``path`` of a config to ``value``."""

    def edit(config):
        *parents, last = path.split(".")
        for part in parents:
            config = config[part]
        config[last] = value

    return edit


BAD_VALUES = [
    ("momentum_approx.E2.k", [8, 4], "must be increasing"),
    ("momentum_approx.E2.k", [4, 4], "must be increasing"),
    ("momentum_approx.E2.k", [4, 6], "needs at least 4"),
    ("momentum_approx.E1b.k", [12, 3], "must be increasing"),
    ("momentum_approx.E7.k_B", [12, 6], "must be increasing"),
    ("momentum_approx.E7.k_A", [6, 8], "needs at least 5"),
    ("momentum_approx.E1c.k", [8, 4], "must be increasing"),
    ("momentum_approx.E3.k", [8, 3], "must be increasing"),
    ("momentum_approx.E5.k", [12, 3], "must be increasing"),
    ("momentum_approx.E8.k", [15, 3], "must be increasing"),
    ("momentum_approx.E1.configs.B.k", [12, 3], "must be increasing"),
    ("adaptive_sde.E4.ladder", [5, 3], "must be increasing"),
    ("adaptive_sde.E1.ladder", [7, 2], "must be increasing"),
    ("marginal_momentum.E4a.eta0", math.nan, "finite"),
    ("momentum_approx.problem.T", math.nan, "finite"),
    ("least_squares.E3.horizon", math.inf, "finite"),
    ("marginal_momentum.E5.eta0", 3.0, "0 steps"),
    ("marginal_momentum.E4b.eta0", 5.0, "0 steps"),
    ("least_squares.E3.alphas", [2.05], "no α ≥ light_tail_alpha"),
    ("momentum_approx.E1b.V", {"kind": "constant", "scale": 40.0}, "h·V"),
    ("momentum_approx.E1b.U", {"kind": "constant", "scale": 500.0}, "unstable"),
    ("momentum_approx.E2.V", {"kind": "constant", "scale": 40.0}, "h·V"),
    ("momentum_approx.E3.V", {"kind": "constant", "scale": 40.0}, "h·V"),
]


@pytest.mark.parametrize(
    ("key", "value", "reason"), BAD_VALUES, ids=[f"{k}={v}" for k, v, _ in BAD_VALUES]
)
def test_bad_value_fails_naming_the_key(config, key, value, reason):
    _set(key, value)(config)
    validate_schema(config, SCHEMA)  # NaN, reversed ladders etc. pass the schema
    with pytest.raises(ConfigError) as err:
        check_config(config)
    message = str(err.value)
    assert message.startswith(f"config key {key}"), message
    assert reason in message and "\n" not in message


def test_schema_error_is_one_short_line(config):
    config["momentum_aprox"] = config.pop("momentum_approx")
    with pytest.raises(ConfigError) as err:
        validate_schema(config, SCHEMA)
    message = str(err.value)
    assert "momentum_aprox" in message and len(message) < 300 and "\n" not in message


@pytest.mark.parametrize("paper", ["marginal_momentum", "adaptive_sde", "least_squares"])
def test_every_paper_section_is_required(config, paper):
    del config[paper]
    with pytest.raises(ConfigError, match=paper):
        validate_schema(config, SCHEMA)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("seed: 1\nseed: 2\n", "bad.yaml:2: duplicate key 'seed'"),
        (
            "momentum_approx:\n  E2:\n    k: [4, 8]\n    k: [4, 9]\n",
            "bad.yaml:4: duplicate key 'k'",
        ),
        ("seed: [1, 2\n", "bad.yaml:2: not valid YAML"),
        ("", "bad.yaml: must hold a mapping"),
        ("- 1\n", "bad.yaml: must hold a mapping"),
    ],
    ids=["duplicate-top", "duplicate-nested", "syntax", "empty", "list"],
)
def test_bad_config_file_is_named(tmp_path, text, reason):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config_file(path)
    assert reason in str(err.value)


def test_snakemake_refuses_a_duplicate_key_before_any_job(tmp_path):
    workdir = copy_workflow(tmp_path)
    (workdir / "dup.yaml").write_text("seed: 1\nseed: 2\n")
    run = snakemake(workdir, "--configfile", "dup.yaml", "-n")
    assert run.returncode != 0
    assert "dup.yaml:2: duplicate key 'seed'" in run.stderr + run.stdout
    assert not (workdir / "results").exists()


def _manifests(tmp_path, edit):
    """Copies of the claims manifests, the first claim of momentum_approx edited."""
    paths = []
    for path in sorted((REPO / "config" / "claims").glob("*.yaml")):
        manifest = yaml.safe_load(path.read_text())
        if path.stem == "momentum_approx":
            edit(manifest["claims"][0])
        paths.append(tmp_path / path.name)
        paths[-1].write_text(yaml.safe_dump(manifest, allow_unicode=True))
    return paths


MEASURED = {
    (paper, e) for paper in PAPERS for e in import_module(f"sgdsde.experiments.{paper}").EXPERIMENTS
}


def test_the_claims_manifests_are_consistent():
    paths = sorted((REPO / "config" / "claims").glob("*.yaml"))
    assert check_manifests(paths, MEASURED) > 100


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (lambda c: c.update(check="about"), "'about' is not one of"),
        (lambda c: c.update(experiment="E99"), "has no experiment 'E99'"),
        (lambda c: c.pop("metric"), "'metric' is a required property"),
    ],
    ids=["check", "experiment", "metric-missing"],
)
def test_a_bad_claim_fails_at_workflow_start(tmp_path, edit, reason):
    with pytest.raises(ClaimError, match=reason):
        check_manifests(_manifests(tmp_path, edit), MEASURED)


def test_a_claim_on_an_unmeasured_experiment_fails(tmp_path):
    paths = _manifests(tmp_path, lambda c: None)
    with pytest.raises(ClaimError, match=r"does not produce the metrics of momentum_approx\.E1"):
        check_manifests(paths, MEASURED - {("momentum_approx", "E1")})


def test_the_previous_ledger_survives_a_failed_run(tmp_path):
    ledger, folder = tmp_path / "claims.csv", str(tmp_path / ".previous")
    ledger.write_text("previous\n")
    keep_aside([str(ledger)], folder)
    ledger.unlink()  # what Snakemake does when the ledger job starts, and when it fails
    put_back([str(ledger)], folder)
    assert ledger.read_text() == "previous\n" and not Path(folder).exists()
    keep_aside([str(ledger)], folder)
    ledger.write_text("new\n")  # a successful run: the new ledger stays
    put_back([str(ledger)], folder)
    assert ledger.read_text() == "new\n"
