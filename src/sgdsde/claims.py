"""The claims ledger: evaluate every checkable statement against measured metrics.

A manifest per paper (``config/claims/<paper>.yaml``) lists claims. Each names an experiment,
a metric key of that experiment's ``metrics.json`` and a check:

* ``within``:   every measured value lies within ``tolerance`` of ``expected`` (a slope);
* ``at_most``:  every measured value is ≤ ``expected`` (an error bound);
* ``at_least``: every measured value is ≥ ``expected`` (a discrepancy that must be O(1)).

A metric may be a list (e.g. the last three pairwise slopes); the ledger then reports the value
that decides the check (the worst one). ``pass`` means "behaved as the spec predicts": for a
negative control that is the predicted failure of the thing it controls.

An entry with a ``matrix`` expands into one claim per combination of its values: each
``{key}`` of the matrix is substituted into ``id``, ``statement``, ``reference`` and ``metric``.
"""

from __future__ import annotations

import itertools
import re
from importlib import resources
from pathlib import Path

import jsonschema
import numpy as np
import pandas as pd
import yaml

from sgdsde.latex import escape, latex_number

COLUMNS = [
    "claim_id", "paper", "reference", "statement", "provenance", "kind",
    "experiment", "metric", "check", "measured", "expected", "tolerance", "status",
]  # fmt: skip
_TEMPLATED = ("id", "statement", "reference", "metric")


class ClaimError(ValueError):
    """A manifest entry is malformed or refers to a metric that was not measured."""


def _schema() -> dict:
    return yaml.safe_load(resources.files("sgdsde").joinpath("claims.schema.yaml").read_text())


_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def expand(entry: dict) -> list[dict]:
    """One claim per combination of the entry's ``matrix`` values (itself if none)."""
    matrix = entry.get("matrix", {})
    base = {k: v for k, v in entry.items() if k != "matrix"}
    claims = []
    for combo in itertools.product(*matrix.values()):
        values = dict(zip(matrix, combo, strict=True))
        fill = lambda m, values=values: values.get(m.group(1), m.group(0))  # noqa: E731
        claim = {k: _PLACEHOLDER.sub(fill, v) if k in _TEMPLATED else v for k, v in base.items()}
        for key in ("id", "metric"):
            if left := _PLACEHOLDER.findall(claim[key]):
                raise ClaimError(
                    f"claim {claim['id']}: {key} has placeholders {left} not in matrix"
                )
        claims.append(claim)
    return claims


def load_manifest(path: Path) -> list[dict]:
    """Read, validate and expand one claims manifest."""
    manifest = yaml.safe_load(Path(path).read_text())
    try:
        jsonschema.validate(manifest, _schema())
    except jsonschema.ValidationError as err:
        where = ".".join(map(str, err.absolute_path)) or "<root>"
        raise ClaimError(f"{path}: at {where}: {err.message}") from None
    return [c for entry in manifest["claims"] for c in expand(entry)]


def load_manifests(paths) -> list[dict]:
    """The claims of several manifests (one per paper); ids must be unique across all."""
    claims = [c for path in paths for c in load_manifest(path)]
    ids = [c["id"] for c in claims]
    if dups := sorted({i for i in ids if ids.count(i) > 1}):
        raise ClaimError(f"duplicate claim ids {dups}")
    return claims


def decide(check: str, values: np.ndarray, expected: float, tolerance: float | None):
    """``(deciding value, passed)`` for one check on one or more measured values."""
    values = np.atleast_1d(np.asarray(values if values is not None else np.nan, dtype=float))
    if values.size == 0 or not np.all(np.isfinite(values)):
        return float("nan"), False
    if check == "within":
        i = int(np.argmax(np.abs(values - expected)))
        return float(values[i]), bool(abs(values[i] - expected) <= tolerance)
    if check == "at_most":
        return float(values.max()), bool(values.max() <= expected)
    if check == "at_least":
        return float(values.min()), bool(values.min() >= expected)
    raise ClaimError(f"unknown check {check!r}")


def evaluate(claims: list[dict], metrics: dict[tuple[str, str], dict]) -> pd.DataFrame:
    """The ledger: one row per claim, ``metrics[(paper, experiment)]`` holding the measurements."""
    rows = []
    for c in claims:
        source = metrics.get((c["paper"], c["experiment"]))
        if source is None or c["metric"] not in source:
            raise ClaimError(f"claim {c['id']}: metric {c['metric']!r} of "
                             f"{c['paper']}.{c['experiment']} was not measured")  # fmt: skip
        measured, ok = decide(c["check"], source[c["metric"]], c["expected"], c.get("tolerance"))
        rows.append({
            "claim_id": c["id"], "paper": c["paper"], "reference": c["reference"],
            "statement": c["statement"], "provenance": c["provenance"],
            "kind": c.get("kind", "claim"), "experiment": c["experiment"], "metric": c["metric"],
            "check": c["check"], "measured": measured, "expected": c["expected"],
            "tolerance": c.get("tolerance"), "status": "pass" if ok else "fail",
        })  # fmt: skip
    return pd.DataFrame(rows, columns=COLUMNS)


def summary(ledger: pd.DataFrame) -> list[str]:
    """One line per paper: how many claims behaved as predicted."""
    lines = []
    for paper, group in ledger.groupby("paper", sort=True):
        n_pass = int((group["status"] == "pass").sum())
        failed = ", ".join(group.loc[group["status"] != "pass", "claim_id"])
        line = f"{paper}: {n_pass}/{len(group)} claims reproduced"
        lines.append(line + (f" (not reproduced: {failed})" if failed else ""))
    return lines


_DIGITS = ["Zero", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine"]


def macro_name(claim_id: str) -> str:
    """A LaTeX command name for a claim id: ``momentum_approx.E1.B.sde2.g1.terminal`` →
    ``MomentumApproxEOneBSdeTwoGOneTerminal`` (letters only, digits spelled out)."""
    words = re.split(r"[^A-Za-z0-9]+", claim_id)
    name = "".join(w[:1].upper() + w[1:] for w in words if w)
    return re.sub(r"\d", lambda m: _DIGITS[int(m.group())], name)


def latex_macros(ledger: pd.DataFrame) -> str:
    """``\\newcommand`` definitions: ``\\<Name>`` (measured) and ``\\<Name>Status`` per claim."""
    lines = ["% Generated by `snakemake claims` from results/claims.csv. Do not edit."]
    for row in ledger.itertuples():
        name = macro_name(row.claim_id)
        lines.append(rf"\newcommand{{\{name}}}{{{latex_number(row.measured)}}}")
        lines.append(rf"\newcommand{{\{name}Status}}{{{row.status}}}")
    return "\n".join(lines) + "\n"


PAPERS = ("momentum_approx", "marginal_momentum", "adaptive_sde", "least_squares")


def _expected(row) -> str:
    value = latex_number(row.expected)
    if row.check == "within":
        return rf"{value} $\pm$ {latex_number(row.tolerance)}"
    return (r"$\le$ " if row.check == "at_most" else r"$\ge$ ") + value


def latex_claims_table(ledger: pd.DataFrame, paper: str) -> str:
    """A longtable of one paper's claims: id, statement, provenance, measured, expected, status."""
    rows = ledger[ledger["paper"] == paper]
    if rows.empty:
        return f"% Generated. No claims of {paper} are in the ledger yet.\n" + (
            r"\emph{No claims of this paper are in the ledger yet.}" + "\n"
        )
    lines = [
        "% Generated by `snakemake claims` from results/claims.csv. Do not edit.",
        r"{\footnotesize\setlength{\tabcolsep}{3pt}"
        r"\begin{longtable}{>{\raggedright}p{0.2\textwidth}>{\raggedright\arraybackslash}"
        r"p{0.38\textwidth}lllc}",
        r"\toprule claim & statement & prov. & measured & expected & status \\ \midrule \endhead",
        r"\bottomrule \endfoot",
    ]
    for row in rows.itertuples():
        short = escape(row.claim_id.removeprefix(f"{paper}."))
        short = short.replace(".", r".\allowbreak{}").replace(r"\_", r"\_\allowbreak{}")
        negative = r" \emph{(negative control)}" if row.kind == "negative_control" else ""
        status = r"\textbf{pass}" if row.status == "pass" else r"\textbf{FAIL}"
        lines.append(
            rf"\texttt{{{short}}} & {escape(row.statement)}{negative} & "
            rf"{row.provenance} & {latex_number(row.measured)} & {_expected(row)} & {status} \\"
        )
    lines.append(r"\end{longtable}}")
    return "\n".join(lines) + "\n"


def latex_summary_table(ledger: pd.DataFrame) -> str:
    """Claims per paper: total, reproduced, negative controls, provenance counts."""
    lines = [
        "% Generated by `snakemake claims` from results/claims.csv. Do not edit.",
        r"\begin{tabular}{lrrrrrr}", r"\toprule",
        r"paper & claims & reproduced & negative controls & paper & derived & proposed \\",
        r"\midrule",
    ]  # fmt: skip
    for paper in PAPERS:
        rows = ledger[ledger["paper"] == paper]
        counts = rows["provenance"].value_counts()
        lines.append(
            rf"\texttt{{{escape(paper)}}} & {len(rows)} & {(rows['status'] == 'pass').sum()} & "
            rf"{(rows['kind'] == 'negative_control').sum()} & {counts.get('paper', 0)} & "
            rf"{counts.get('derived', 0)} & {counts.get('proposed', 0)} \\"
        )
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines) + "\n"
