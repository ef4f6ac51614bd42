import numpy as np
import pandas as pd
import pytest

from sgdsde.claims import (
    PAPERS,
    ClaimError,
    decide,
    evaluate,
    expand,
    latex_macros,
    load_manifest,
    load_manifests,
    macro_name,
    summary,
)

from .conftest import CLAIM_MANIFESTS

BASE = {
    "paper": "momentum_approx", "reference": "r", "statement": "s", "provenance": "derived",
    "experiment": "E1", "check": "within", "expected": 2.0, "tolerance": 0.05,
}  # fmt: skip


def test_matrix_expands_ids_and_metrics_but_leaves_other_braces():
    entry = {**BASE, "id": "momentum_approx.E1.{g}", "metric": "B/{g}/slope",
             "statement": "X_{n+1} for {g}", "matrix": {"g": ["g1", "g2"]}}  # fmt: skip
    claims = expand(entry)
    assert [c["id"] for c in claims] == ["momentum_approx.E1.g1", "momentum_approx.E1.g2"]
    assert claims[1]["metric"] == "B/g2/slope"
    assert claims[0]["statement"] == "X_{n+1} for g1"


def test_unfilled_placeholder_in_an_id_is_an_error():
    with pytest.raises(ClaimError, match="placeholders"):
        expand({**BASE, "id": "x.{typo}", "metric": "m", "matrix": {"g": ["g1"]}})


@pytest.mark.parametrize(
    ("check", "values", "expected", "tolerance", "outcome"),
    [
        ("within", [1.98, 2.03, 2.01], 2.0, 0.05, (2.03, True)),
        ("within", [1.98, 2.07], 2.0, 0.05, (2.07, False)),
        ("at_most", [1e-16, 3e-14], 1e-13, None, (3e-14, True)),
        ("at_most", 2e-13, 1e-13, None, (2e-13, False)),
        ("at_least", [2.4, 0.3], 0.1, None, (0.3, True)),
        ("at_least", 0.05, 0.1, None, (0.05, False)),
    ],
)
def test_decide(check, values, expected, tolerance, outcome):
    assert decide(check, values, expected, tolerance) == outcome


def test_non_finite_measurement_fails():
    measured, ok = decide("within", [2.0, np.nan], 2.0, 0.05)
    assert np.isnan(measured) and not ok


def test_evaluate_reports_worst_value_and_missing_metrics_raise():
    claim = {**BASE, "id": "momentum_approx.E1.x", "metric": "slopes"}
    ledger = evaluate([claim], {("momentum_approx", "E1"): {"slopes": [1.99, 2.2]}})
    row = ledger.iloc[0]
    assert (row["measured"], row["status"], row["kind"]) == (2.2, "fail", "claim")
    with pytest.raises(ClaimError, match="was not measured"):
        evaluate([claim], {("momentum_approx", "E1"): {}})


def test_summary_names_what_was_not_reproduced():
    ledger = pd.DataFrame({"paper": ["p", "p", "q"], "claim_id": ["p.a", "p.b", "q.a"],
                           "status": ["pass", "fail", "pass"]})  # fmt: skip
    assert summary(ledger) == ["p: 1/2 claims reproduced (not reproduced: p.b)",
                               "q: 1/1 claims reproduced"]  # fmt: skip


def test_project_manifests_are_valid_and_macro_names_are_unique_letters():
    claims = load_manifests(CLAIM_MANIFESTS)
    names = [macro_name(c["id"]) for c in claims]
    assert len(set(names)) == len(names)
    assert all(n.isalpha() for n in names)
    assert macro_name("momentum_approx.E1.B.sde2.g1.terminal") == (
        "MomentumApproxEOneBSdeTwoGOneTerminal"
    )
    kinds = {c.get("kind", "claim") for c in claims}
    assert kinds == {"claim", "negative_control"}


def test_each_manifest_holds_the_claims_of_its_paper():
    assert [path.stem for path in CLAIM_MANIFESTS] == sorted(
        path.stem for path in CLAIM_MANIFESTS if path.stem in PAPERS
    )
    for path in CLAIM_MANIFESTS:
        claims = load_manifest(path)
        assert claims and {c["paper"] for c in claims} == {path.stem}
        assert all(c["id"].startswith(f"{path.stem}.") for c in claims)


def test_duplicate_ids_across_manifests_are_refused(tmp_path):
    path = CLAIM_MANIFESTS[0]
    with pytest.raises(ClaimError, match="duplicate claim ids"):
        load_manifests([path, path])


def test_manifest_schema_errors_name_the_entry(tmp_path):
    bad = tmp_path / "claims.yaml"
    bad.write_text("claims:\n  - id: x\n    paper: nope\n")
    with pytest.raises(ClaimError, match=r"at claims\.0"):
        load_manifest(bad)


def test_latex_macros():
    ledger = pd.DataFrame({"claim_id": ["momentum_approx.E0.lift"], "measured": [6.2e-16],
                           "status": ["pass"]})  # fmt: skip
    tex = latex_macros(ledger)
    assert r"\newcommand{\MomentumApproxEZeroLift}{\ensuremath{6.2\times 10^{-16}}}" in tex
    assert r"\newcommand{\MomentumApproxEZeroLiftStatus}{pass}" in tex
