"""A bad marginal_momentum config fails before any job, naming the key (schema + cross-field
checks of sgdsde.config._check_marginal_momentum)."""

import pytest
from snakemake.utils import update_config, validate

from sgdsde.config import check_config

from .test_config import SCHEMA, _load, assert_config_error, assert_schema_error


def test_quick_overrides_stay_valid(config):
    update_config(config, _load("quick.yaml"))
    validate(config, SCHEMA)
    check_config(config)
    assert config["marginal_momentum"]["E7"]["beta"] == 0.9  # deep merge kept the default


def test_configs_without_this_paper_are_unaffected(config):
    del config["marginal_momentum"]
    config["papers"].remove("marginal_momentum")  # a paper that does not run needs no section
    check_config(config)


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        (lambda m: m["E4a"].update(alpha=[0.5]), "'alpha' was unexpected"),
        (lambda m: m["E0"].update(beta=1.0), "['marginal_momentum']['E0']['beta']"),
        (lambda m: m["E7"].update(seeds="0"), "['marginal_momentum']['E7']['seeds']"),
        (lambda m: m["E10"].update(enabled="yes"), "['marginal_momentum']['E10']['enabled']"),
        (
            lambda m: m["E5"]["cases"]["label"].update(sigma_iso=-1),
            "['cases']['label']['sigma_iso']",
        ),
    ],
    ids=["unknown-key", "beta-out-of-range", "wrong-type", "bool", "nested-range"],
)
def test_schema_errors_name_the_key(config, edit, named):
    edit(config["marginal_momentum"])
    assert_schema_error(config, named)


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        (
            lambda m: m["E0"].update(step_checkpoints=[0, 500]),
            "marginal_momentum.E0.step_checkpoints",
        ),
        (lambda m: m["E1"].update(gamma=[0.1, 0.01]), "marginal_momentum.E1.gamma"),
        (lambda m: m["E4a"].update(x0=[1.0]), "marginal_momentum.E4a.x0"),
        (lambda m: m["E4b"].update(j_max=2), "marginal_momentum.E4b.j_max"),
        (
            lambda m: m["E5"]["cases"]["label"].update(j_max=2),
            "marginal_momentum.E5.cases.label.j_max",
        ),
        (lambda m: m["E9"].update(ells=[2, 4]), "marginal_momentum.E9.ells"),
        (lambda m: m["E10"].update(enabled=True), "marginal_momentum.E10.data_dir"),
        (lambda m: m["E10"].update(depth=33), "marginal_momentum.E10.depth"),
    ],
    ids=[
        "checkpoint",
        "range-order",
        "shape",
        "ladder",
        "toy-ladder",
        "no-ell-1",
        "no-data",
        "depth",
    ],
)
def test_cross_field_errors_name_the_key(config, edit, named):
    edit(config["marginal_momentum"])
    assert_config_error(config, named)
