"""A bad config fails before any job runs, with a message naming the key."""

import pytest
import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import update_config, validate

from sgdsde.config import ConfigError, check_config

from .conftest import REPO
from .workflow_copy import copy_workflow, snakemake

SCHEMA = str(REPO / "config" / "config.schema.yaml")


def _load(name):
    return yaml.safe_load((REPO / "config" / name).read_text())


def assert_schema_error(config, named):
    """The JSON schema rejects ``config`` with a message naming ``named``."""
    with pytest.raises(WorkflowError) as err:
        validate(config, SCHEMA)
    assert named in str(err.value)


def assert_config_error(config, named):
    """``config`` passes the schema and the cross-field checks reject it, naming ``named``."""
    validate(config, SCHEMA)
    with pytest.raises(ConfigError) as err:
        check_config(config)
    assert named in str(err.value)


def test_default_and_quick_configs_are_valid(config):
    validate(config, SCHEMA)
    check_config(config)
    update_config(config, _load("quick.yaml"))
    validate(config, SCHEMA)
    check_config(config)
    assert config["momentum_approx"]["E1"]["configs"]["B"]["regime"] == "B"  # deep merge


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        (lambda c: c["momentum_approx"]["E1"].update(slope_pair=3), "'slope_pair' was unexpected"),
        (lambda c: c.update(seed="abc"), "instance['seed']"),
        (
            lambda c: c["momentum_approx"]["E0"].update(h=1.5),
            "instance['momentum_approx']['E0']['h']",
        ),
        (
            lambda c: c["momentum_approx"]["E1"]["configs"]["A"].update(V={"kind": "constant"}),
            "instance['momentum_approx']['E1']['configs']['A']",
        ),
        (
            lambda c: c["momentum_approx"]["E1"]["configs"]["B"]["U"].update(kind="step"),
            "['configs']['B']['U']['kind']",
        ),
    ],
    ids=["unknown-key", "wrong-type", "out-of-range", "regime-mismatch", "bad-enum"],
)
def test_schema_errors_name_the_key(config, edit, named):
    edit(config)
    assert_schema_error(config, named)


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        (
            lambda ma: ma["E1"]["configs"]["B"]["U"].update(scale=100.0),
            "momentum_approx.E1.configs.B.U: unstable",
        ),
        (
            lambda ma: ma["E1"]["configs"]["B"]["V"].update(scale=5.0),
            "momentum_approx.E1.configs.B.V: h·V",
        ),
        (
            lambda ma: ma["E1"]["configs"]["A"]["Z"].update(kind="affine", slope=1.0),
            "momentum_approx.E1.configs.A.Z: momentum must lie in [0, 1)",
        ),
        (lambda ma: ma["problem"].update(A=[[1.0, 2.0], [2.0, 1.0]]), "momentum_approx.problem.A"),
        (lambda ma: ma["E1"]["configs"]["B"].update(k=[3, 5]), "momentum_approx.E1.configs.B.k"),
        (
            lambda ma: ma["E1"]["configs"]["B"]["U"].update(scale=[1.0, 2.0, 3.0]),
            "momentum_approx.E1.configs.B.U.scale",
        ),
        (lambda ma: ma["E0"].update(eta=[0.1, 0.01]), "momentum_approx.E0.eta"),
        (lambda ma: ma["E2"]["mc"].update(n_paths=1000), "momentum_approx.E2.mc.n_paths"),
        (lambda ma: ma["E3"]["mc"].update(fine_steps=7), "momentum_approx.E3.mc.fine_steps"),
        (
            lambda ma: ma["E7"]["sweep"].update(U=["inverse", "typo"]),
            "momentum_approx.E7.sweep.U: names ['typo']",
        ),
        (lambda ma: ma["E1c"].update(config="C"), "momentum_approx.E1c.config"),
        (
            lambda ma: ma["E7"]["V"]["const"].update(scale=40.0),
            "momentum_approx.E7 (U=const, V=const).V: h·V",
        ),
    ],
    ids=[
        "unstable",
        "damping",
        "momentum",
        "indefinite-A",
        "short-ladder",
        "scale-length",
        "range",
        "paths",
        "fine-steps",
        "sweep-name",
        "reference",
        "sweep-stability",
    ],
)
def test_cross_field_errors_name_the_key(config, edit, named):
    edit(config["momentum_approx"])
    assert_config_error(config, named)


def test_snakemake_refuses_a_bad_config_before_any_job(tmp_path):
    workdir = copy_workflow(tmp_path)
    (workdir / "bad.yaml").write_text("momentum_approx:\n  E1:\n    slope_pairz: 3\n")
    run = snakemake(workdir, "--configfile", "bad.yaml", "--cores", "1")
    assert run.returncode != 0
    assert "'slope_pairz' was unexpected" in run.stderr + run.stdout
    assert not (workdir / "results").exists()


@pytest.mark.parametrize("papers", [[], ["momentum_approx", "momentum_approx"], ["no_such"]])
def test_papers_must_name_known_papers_once(config, papers):
    config["papers"] = papers
    assert_schema_error(config, "papers")


def test_only_the_papers_that_run_are_checked(config):
    """A paper left out of ``papers`` is not run, so its section is not checked."""
    config["marginal_momentum"]["E5"]["eta0"] = 3.0  # zero steps: an error when it runs
    config["papers"] = ["momentum_approx", "adaptive_sde", "least_squares"]
    check_config(config)
    config["papers"].append("marginal_momentum")
    with pytest.raises(ConfigError, match=r"marginal_momentum\.E5"):
        check_config(config)
