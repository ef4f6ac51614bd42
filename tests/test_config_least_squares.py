"""least_squares config: a bad key, type, range or reference fails before any job, naming it."""

import pytest

from sgdsde.config import check_config

from .test_config import assert_config_error, assert_schema_error


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        (lambda c: c["least_squares"]["E1"].update(n_path=10), "'n_path' was unexpected"),
        (lambda c: c["least_squares"].update(noise_variants=["V2"]), "['noise_variants']"),
        (lambda c: c["least_squares"]["E3"].update(alphas=[1.5]), "['E3']['alphas']"),
        (lambda c: c["least_squares"]["E3"].update(emd_cap=100000), "['E3']['emd_cap']"),
        (
            lambda c: c["least_squares"]["datasets"]["D1"].update(kind="stream"),
            "['datasets']['D1']['kind']",
        ),
    ],
    ids=["unknown-key", "bad-enum", "alpha-below-2", "emd-uncapped", "bad-kind"],
)
def test_schema_errors_name_the_key(config, edit, named):
    edit(config)
    assert_schema_error(config, named)


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        (
            lambda c: c["least_squares"]["E1"].update(datasets=["O20", "Z9"]),
            "least_squares.E1.datasets",
        ),
        (
            lambda c: c["least_squares"]["E3"].update(final_horizon=1.0),
            "least_squares.E3.final_horizon",
        ),
        (lambda c: c["least_squares"]["E3"].update(dataset="D5"), "least_squares.E3.dataset"),
        (lambda c: c["least_squares"]["E7"].update(dataset="P_iso3"), "least_squares.E7.dataset"),
        (
            lambda c: c["least_squares"]["datasets"]["D1"].update(theta_true=[1.0, 2.0]),
            "least_squares.datasets.D1.theta_true",
        ),
        (lambda c: c["least_squares"]["E8"].update(t_fit=[1e4, 1e2]), "least_squares.E8.t_fit"),
        (
            lambda c: c["least_squares"]["E6"]["angular"].update(dataset="D5"),
            "least_squares.E6.angular.dataset",
        ),
    ],
    ids=[
        "unknown-dataset",
        "horizons",
        "e3-needs-d1",
        "e7-needs-training",
        "theta-length",
        "fit-window",
        "angular-needs-d2",
    ],
)
def test_cross_field_errors_name_the_key(config, edit, named):
    edit(config)
    assert_config_error(config, named)


def test_other_papers_configs_do_not_need_this_section(config):
    del config["least_squares"]
    config["papers"].remove("least_squares")  # a paper that does not run needs no section
    check_config(config)
