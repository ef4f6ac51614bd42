"""Config validation of the adaptive_sde section: schema errors and cross-field errors name the
key; other papers' configs are unaffected when the section is absent."""

from __future__ import annotations

import pytest
from snakemake.utils import update_config, validate

from sgdsde.config import check_config

from .test_config import SCHEMA, _load, assert_config_error, assert_schema_error


def test_quick_overrides_merge_into_adaptive_sde(config):
    update_config(config, _load("quick.yaml"))
    validate(config, SCHEMA)
    check_config(config)
    mc = config["adaptive_sde"]["E4"]["mc"]
    assert mc["paths_per_block"] == 500 and mc["em_dt_over_tau2"] == 1.0  # deep merge


def test_check_config_without_the_section(config):
    del config["adaptive_sde"]
    config["papers"].remove("adaptive_sde")  # a paper that does not run needs no section
    check_config(config)


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        (lambda a: a["E4"].update(modles=["ode"]), "'modles' was unexpected"),
        (lambda a: a["E4"].update(regime="ballistik"), "['adaptive_sde']['E4']['regime']"),
        (lambda a: a["E4"]["mc"].update(em_dt_over_tau2=2.0), "['E4']['mc']['em_dt_over_tau2']"),
        (lambda a: a["E6"].update(models=["sde3"]), "['adaptive_sde']['E6']['models']"),
        (lambda a: a["problems"]["main"].update(v0="cold"), "['problems']['main']['v0']"),
    ],
    ids=["unknown-key", "bad-regime", "em-range", "bad-model", "bad-v0"],
)
def test_schema_errors_name_the_key(config, edit, named):
    edit(config["adaptive_sde"])
    assert_schema_error(config, named)


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        (lambda a: a["E4"].update(problem="nope"), "adaptive_sde.E4.problem: unknown problem"),
        (
            lambda a: a["problems"]["main"].update(A=[[1.0, 2.0], [2.0, 1.0]]),
            "adaptive_sde.problems.main.A",
        ),
        (lambda a: a["problems"]["main"].update(theta0=[1.0]), "adaptive_sde.problems.main.theta0"),
        (lambda a: a["E4"]["optimizer"].update(c=5.0), "adaptive_sde.E4.optimizer.c: c·τ"),
        (lambda a: a["E7"]["optimizer"].pop("c1"), "adaptive_sde.E7.optimizer.c1: is required"),
        (lambda a: a["E4"].update(ladder=[3, 4]), "adaptive_sde.E4.ladder"),
        (lambda a: a["E7"].update(t0=0.3), "adaptive_sde.E7.t0"),
        (lambda a: a["E7"].update(t0=0.0), "adaptive_sde.E7.t0: Adam needs t0 > 0"),
        (lambda a: a["E4"].update(models=["ode", "sde2_code_hv"]), "adaptive_sde.E4.models"),
        (lambda a: a.update(trajectory_tau=7), "adaptive_sde.trajectory_tau"),
        (lambda a: a["E1"].update(fit_last=9), "adaptive_sde.E1.fit_last"),
        (lambda a: a["E9"]["srsr"].update(kappas=[1, 2, 3, 4]), "adaptive_sde.E9.srsr.kappas"),
    ],
    ids=[
        "problem-name",
        "indefinite-A",
        "theta0-length",
        "unstable-c",
        "missing-rate",
        "short-ladder",
        "t0-grid",
        "adam-t0",
        "adam-only-model",
        "trajectory-tau",
        "fit-last",
        "kappas",
    ],
)
def test_cross_field_errors_name_the_key(config, edit, named):
    edit(config["adaptive_sde"])
    assert_config_error(config, named)
