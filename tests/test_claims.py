import numpy as np
import pandas as pd
import pytest

from sgdsde.claims import (
    OUTCOMES,
    PAPERS,
    ClaimError,
    decide,
    evaluate,
    expand,
    latex_macros,
    load_manifest,
    load_manifests,
    macro_name,
    outcome_counts,
    outcome_table,
    summary,
)

from .conftest import CLAIM_MANIFESTS

BASE = {
    "paper": "momentum_approx",
    "reference": "r",
    "anchor": "docs/momentum_approx.md#e1",
    "statement": "s",
    "provenance": "derived",
    "experiment": "E1",
    "check": "within",
    "expected": 2.0,
    "tolerance": 0.05,
}


def test_matrix_expands_ids_and_metrics_but_leaves_other_braces():
    entry = {
        **BASE,
        "id": "momentum_approx.E1.{g}",
        "metric": "B/{g}/slope",
        "statement": "X_{n+1} for {g}",
        "matrix": {"g": ["g1", "g2"]},
    }
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
        ("within", [1.98, 2.03, 2.01], 2.0, 0.05, (2.03, "pass")),
        ("within", [1.98, 2.07], 2.0, 0.05, (2.07, "fail")),
        ("at_most", [1e-16, 3e-14], 1e-13, None, (3e-14, "pass")),
        ("at_most", 2e-13, 1e-13, None, (2e-13, "fail")),
        ("at_least", [2.4, 0.3], 0.1, None, (0.3, "pass")),
        ("at_least", 0.05, 0.1, None, (0.05, "fail")),
    ],
)
def test_decide(check, values, expected, tolerance, outcome):
    assert decide(check, values, expected, tolerance)[:2] == outcome


@pytest.mark.parametrize(
    ("check", "ci", "status"),
    [
        ("within", (0.85, 1.2), "pass"),
        ("within", (0.65, 1.01), "unresolved"),  # straddles 0.8: the point 0.83 alone passes
        ("within", (1.35, 1.5), "fail"),
        ("at_most", (0.25, 0.97), "unresolved"),
        ("at_most", (0.1, 0.7), "pass"),
        ("at_least", (0.9, 1.1), "pass"),
    ],
)
def test_a_slope_with_a_confidence_interval_is_judged_on_the_interval(check, ci, status):
    expected, tolerance = (1.05, 0.25) if check == "within" else (0.8, None)
    point = sum(ci) / 2
    assert decide(check, point, expected, tolerance, ci)[1] == status


def test_a_straddling_interval_says_which_range_it_straddles():
    _, status, note = decide("within", 0.83, 1.05, 0.25, (0.647, 1.007))
    assert status == "unresolved" and note == (
        "95% CI [0.647, 1.01] straddles a bound of [0.8, 1.3]; "
        "about 36× the samples would resolve it"  # (half-width 0.18 / margin 0.03)²
    )


def test_a_missing_measurement_is_unresolved_not_failed():
    measured, status, note = decide("within", [2.0, np.nan], 2.0, 0.05)
    assert np.isnan(measured) and status == "unresolved" and "did not resolve" in note
    assert decide("within", None, 2.0, 0.05)[1] == "unresolved"


def test_evaluate_reports_worst_value_and_missing_metrics_raise():
    claim = {**BASE, "id": "momentum_approx.E1.x", "metric": "slopes"}
    ledger = evaluate([claim], {("momentum_approx", "E1"): {"slopes": [1.99, 2.2]}})
    row = ledger.iloc[0]
    assert (row["measured"], row["status"], row["kind"]) == (2.2, "fail", "claim")
    with pytest.raises(ClaimError, match="was not measured"):
        evaluate([claim], {("momentum_approx", "E1"): {}})


def test_evaluate_uses_the_metrics_ci_and_a_failed_finding_deviates():
    claim = {**BASE, "id": "momentum_approx.E1.x", "metric": "slope"}
    finding = {**claim, "id": "momentum_approx.E1.y", "kind": "finding"}
    metrics = {("momentum_approx", "E1"): {"slope": 2.2, "slope_ci": [2.1, 2.3]}}
    ledger = evaluate([claim, finding], metrics)
    assert ledger["status"].tolist() == ["fail", "deviates"]
    assert ledger[["ci_low", "ci_high"]].iloc[0].tolist() == [2.1, 2.3]


def test_a_metric_measured_without_its_interval_is_unresolved():
    """An equivalence measured on one seed has no CI: its point value cannot pass."""
    claim = {**BASE, "id": "momentum_approx.E1.x", "metric": "gap", "check": "within"}
    claim |= {"expected": 0.0, "tolerance": 1.0}
    one_seed = {("momentum_approx", "E1"): {"gap": 0.2, "gap_ci": None}}
    assert evaluate([claim], one_seed)["status"].tolist() == ["unresolved"]
    resolved = {("momentum_approx", "E1"): {"gap": 0.2, "gap_ci": [-0.5, 0.9]}}
    assert evaluate([claim], resolved)["status"].tolist() == ["pass"]


def test_summary_counts_each_kind_and_status_and_names_failures():
    ledger = pd.DataFrame(
        {
            "paper": ["p"] * 6 + ["q"],
            "claim_id": ["p.a", "p.b", "p.c", "p.d", "p.e", "p.f", "q.a"],
            "kind": ["claim", "claim", "negative_control", "finding", "identity", "claim", "claim"],
            "status": ["pass", "fail", "pass", "deviates", "pass", "unresolved", "pass"],
        }
    )
    assert summary(ledger) == [
        "p: 1 reproduced, 1 negative controls as predicted, 1 identities hold, "
        "1 deviations (findings), 1 unresolved, 1 failed [failed: p.b] [unresolved: p.f]",
        "q: 1 reproduced",
    ]
    assert set(outcome_counts(ledger)) == set(OUTCOMES.values())


def test_outcome_table_has_a_row_per_paper_of_the_ledger_and_all():
    ledger = pd.DataFrame(
        {
            "paper": ["momentum_approx", "least_squares", "least_squares"],
            "kind": ["claim", "identity", "claim"],
            "status": ["pass", "pass", "unresolved"],
        }
    )
    table = outcome_table(ledger)
    assert list(table.index) == ["momentum_approx", "least_squares", "all"]  # papers that ran
    assert table.loc["least_squares", ["rows", "identities hold", "unresolved"]].tolist() == [
        2,
        1,
        1,
    ]
    assert table.loc["all", "rows"] == 3


def test_project_manifests_are_valid_and_macro_names_are_unique_letters():
    claims = load_manifests(CLAIM_MANIFESTS)
    names = [macro_name(c["id"]) for c in claims]
    assert len(set(names)) == len(names)
    assert all(n.isalpha() for n in names)
    assert macro_name("momentum_approx.E1.B.sde2.g1.terminal") == (
        "MomentumApproxEOneBSdeTwoGOneTerminal"
    )
    kinds = {c.get("kind", "claim") for c in claims}
    assert kinds == {"claim", "negative_control", "identity", "finding"}


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
    ledger = pd.DataFrame(
        {
            "claim_id": ["momentum_approx.E0.lift"],
            "measured": [6.2e-16],
            "status": ["pass"],
            "paper": ["momentum_approx"],
        }
    )
    tex = latex_macros(ledger)
    assert r"\newcommand{\MomentumApproxEZeroLift}{\ensuremath{6.2\times 10^{-16}}}" in tex
    assert r"\newcommand{\MomentumApproxEZeroLiftStatus}{pass}" in tex
    assert r"\newcommand{\LedgerMomentumApprox}{}" in tex  # its report section is on
    assert r"\LedgerLeastSquares" not in tex
