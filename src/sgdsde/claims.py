"""The claims ledger: evaluate every checkable statement against measured metrics.

A manifest per paper (``config/claims/<paper>.yaml``) lists claims. Each names an experiment,
a metric key of that experiment's ``metrics.json`` and a check, i.e. a claimed range:

* ``within``:   every measured value lies within ``tolerance`` of ``expected`` (a slope);
* ``at_most``:  every measured value is ≤ ``expected`` (an error bound);
* ``at_least``: every measured value is ≥ ``expected`` (a discrepancy that must be O(1)).

A metric may be a list (e.g. the last three pairwise slopes); the ledger then reports the value
that decides the check (the worst one). When the experiment also measured ``<metric>_ci``, the
95 % confidence interval of a Monte-Carlo estimate, the claim is judged on the interval: ``pass``
if it lies inside the claimed range, ``fail`` if it lies outside, ``unresolved`` if it straddles a
bound; a metric the error bars could not resolve (missing value), or whose interval is missing
because the samples were too few (``<metric>_ci: null``), is ``unresolved`` too.

Each claim has a kind, counted apart in the summary:

* ``claim``: a statement an experiment could refute; ``pass`` means it was reproduced;
* ``negative_control``: the predicted failure of the thing it controls; ``pass`` means as predicted;
* ``identity``: holds by construction of the code that computes it (kept as a consistency check,
  never counted as evidence);
* ``finding``: a published criterion that this project found not to hold: it is evaluated as
  published, and its failure is shown as ``deviates`` (``pass`` would mean it now holds).

An entry with a ``matrix`` expands into one claim per combination of its values: each
``{key}`` of the matrix is substituted into ``id``, ``statement``, ``reference`` and ``metric``.
"""

from __future__ import annotations

import itertools
import re
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from sgdsde.config_files import jsonschema, read_yaml
from sgdsde.experiments import PAPERS
from sgdsde.latex import escape, latex_number

COLUMNS = [
    "claim_id",
    "paper",
    "reference",
    "anchor",
    "statement",
    "provenance",
    "kind",
    "experiment",
    "metric",
    "check",
    "measured",
    "ci_low",
    "ci_high",
    "expected",
    "tolerance",
    "status",
    "note",
]
STATUSES = ("pass", "fail", "deviates", "unresolved")
_TEMPLATED = ("id", "statement", "reference", "metric")


class ClaimError(ValueError):
    """A manifest entry is malformed or refers to a metric that was not measured."""


def _schema() -> dict:
    return read_yaml(resources.files("sgdsde").joinpath("claims.schema.yaml").read_text())


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
    manifest = read_yaml(Path(path).read_text())
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


def claimed_range(check: str, expected: float, tolerance: float | None) -> tuple[float, float]:
    """The closed interval of values that a check accepts."""
    if check == "within":
        return expected - tolerance, expected + tolerance
    if check == "at_most":
        return -np.inf, expected
    if check == "at_least":
        return expected, np.inf
    raise ClaimError(f"unknown check {check!r}")


def decide(check: str, values, expected: float, tolerance: float | None, ci=None):
    """``(deciding value, status, note)`` of one check on one or more measured values, and on
    the confidence interval ``ci = (low, high)`` of a single value if it was measured."""
    low, high = claimed_range(check, expected, tolerance)
    values = np.atleast_1d(np.asarray(values if values is not None else np.nan, dtype=float))
    if values.size == 0 or not np.all(np.isfinite(values)):
        return float("nan"), "unresolved", "no value: the error bars did not resolve it"
    outside = np.maximum(low - values, values - high)
    worst = float(values[int(np.argmax(outside))])
    if ci is None:
        return worst, "pass" if outside.max() <= 0 else "fail", ""
    ci_low, ci_high = map(float, ci)
    if not (np.isfinite(ci_low) and np.isfinite(ci_high)):
        return worst, "unresolved", "no confidence interval: the error bars did not resolve it"
    if low <= ci_low and ci_high <= high:
        return worst, "pass", ""
    if ci_high < low or ci_low > high:
        return worst, "fail", ""
    note = f"95% CI [{ci_low:.3g}, {ci_high:.3g}] straddles a bound of [{low:.3g}, {high:.3g}]"
    return worst, "unresolved", note + _samples_to_resolve(worst, (ci_low, ci_high), low, high)


def _samples_to_resolve(value: float, ci, low: float, high: float) -> str:
    """How many times the samples would resolve a straddling interval if the estimate held:
    the half-width shrinks as 1/√n and must fit between the value and its nearest bound."""
    half = (ci[1] - ci[0]) / 2
    margin = min(abs(value - low), abs(value - high))
    if not np.isfinite(margin) or margin <= 0 or half <= 0:
        return ""
    return f"; about {(half / margin) ** 2:.2g}× the samples would resolve it"


def evaluate(claims: list[dict], metrics: dict[tuple[str, str], dict]) -> pd.DataFrame:
    """The ledger: one row per claim, ``metrics[(paper, experiment)]`` holding the measurements."""
    rows = []
    for c in claims:
        source = metrics.get((c["paper"], c["experiment"]))
        if source is None or c["metric"] not in source:
            raise ClaimError(
                f"claim {c['id']}: metric {c['metric']!r} of "
                f"{c['paper']}.{c['experiment']} was not measured"
            )
        ci = source.get(f"{c['metric']}_ci")
        if ci is None and f"{c['metric']}_ci" in source:
            ci = (np.nan, np.nan)  # measured without an interval: too few samples to decide
        kind = c.get("kind", "claim")
        measured, status, note = decide(
            c["check"], source[c["metric"]], c["expected"], c.get("tolerance"), ci
        )
        if kind == "finding" and status == "fail":
            status = "deviates"
        rows.append(
            {
                "claim_id": c["id"],
                "paper": c["paper"],
                "reference": c["reference"],
                "anchor": c["anchor"],
                "statement": c["statement"],
                "provenance": c["provenance"],
                "kind": kind,
                "experiment": c["experiment"],
                "metric": c["metric"],
                "check": c["check"],
                "measured": measured,
                "ci_low": ci[0] if ci else None,
                "ci_high": ci[1] if ci else None,
                "expected": c["expected"],
                "tolerance": c.get("tolerance"),
                "status": status,
                "note": note,
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS)


# What each (kind, status) of a row counts as, in the order the summary lists them.
OUTCOMES = {
    ("claim", "pass"): "reproduced",
    ("negative_control", "pass"): "negative controls as predicted",
    ("identity", "pass"): "identities hold",
    ("finding", "deviates"): "deviations (findings)",
    ("finding", "pass"): "findings that no longer deviate",
    ("unresolved",): "unresolved",
    ("fail",): "failed",
}


def outcome(kind: str, status: str) -> str:
    """The summary category of a ledger row (every failure and every unresolved row apart)."""
    return OUTCOMES.get((status,)) or OUTCOMES[(kind, status)]


def outcome_counts(rows: pd.DataFrame) -> dict[str, int]:
    """``{category: count}`` of :data:`OUTCOMES` for some ledger rows, zeros included."""
    found = [outcome(k, s) for k, s in zip(rows["kind"], rows["status"], strict=True)]
    return {label: found.count(label) for label in OUTCOMES.values()}


def ledger_papers(ledger: pd.DataFrame) -> list[str]:
    """The papers that have rows in the ledger (the run's ``papers``), in :data:`PAPERS` order."""
    present = set(ledger["paper"])
    return [paper for paper in PAPERS if paper in present]


def outcome_table(ledger: pd.DataFrame) -> pd.DataFrame:
    """Rows per paper (and ``all``) and outcome of :data:`OUTCOMES`, with the paper's row count."""
    groups = {p: ledger[ledger["paper"] == p] for p in ledger_papers(ledger)} | {"all": ledger}
    table = pd.DataFrame(
        [
            {"paper": name, "rows": len(rows), **outcome_counts(rows)}
            for name, rows in groups.items()
        ]
    )
    return table.set_index("paper")


def summary(ledger: pd.DataFrame) -> list[str]:
    """One line per paper: its rows per outcome, then the ids that failed or are unresolved."""
    lines = []
    for paper, group in ledger.groupby("paper", sort=True):
        counts = ", ".join(f"{n} {label}" for label, n in outcome_counts(group).items() if n)
        line = f"{paper}: {counts}"
        for status in ("fail", "unresolved"):
            if ids := ", ".join(group.loc[group["status"] == status, "claim_id"]):
                line += f" [{OUTCOMES[(status,)]}: {ids}]"
        lines.append(line)
    return lines


_DIGITS = ["Zero", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine"]


def macro_name(claim_id: str) -> str:
    """A LaTeX command name for a claim id: ``momentum_approx.E1.B.sde2.g1.terminal`` →
    ``MomentumApproxEOneBSdeTwoGOneTerminal`` (letters only, digits spelled out)."""
    words = re.split(r"[^A-Za-z0-9]+", claim_id)
    name = "".join(w[:1].upper() + w[1:] for w in words if w)
    return re.sub(r"\d", lambda m: _DIGITS[int(m.group())], name)


def latex_macros(ledger: pd.DataFrame) -> str:
    """``\\newcommand`` definitions: ``\\<Name>`` (measured) and ``\\<Name>Status`` per claim,
    and ``\\Ledger<Paper>`` for each paper in the ledger (the report's section switches)."""
    lines = ["% Generated by `snakemake claims` from results/claims.csv. Do not edit."]
    lines += [rf"\newcommand{{\Ledger{macro_name(p)}}}{{}}" for p in ledger_papers(ledger)]
    for row in ledger.itertuples():
        name = macro_name(row.claim_id)
        lines.append(rf"\newcommand{{\{name}}}{{{latex_number(row.measured)}}}")
        lines.append(rf"\newcommand{{\{name}Status}}{{{row.status}}}")
    return "\n".join(lines) + "\n"


def _expected(row) -> str:
    value = latex_number(row.expected)
    if row.check == "within":
        return rf"{value} $\pm$ {latex_number(row.tolerance)}"
    return (r"$\le$ " if row.check == "at_most" else r"$\ge$ ") + value


_KIND_TEX = {
    "negative_control": "negative control",
    "identity": "identity",
    "finding": "finding: the published criterion",
}
_STATUS_TEX = {
    "pass": r"\textbf{pass}",
    "fail": r"\textbf{FAIL}",
    "deviates": r"\textbf{deviates}",
    "unresolved": r"\textbf{unresolved}",
}


def _measured(row) -> str:
    """The deciding value, with its 95 % confidence interval (on its own line) when measured."""
    value = latex_number(row.measured)
    if row.ci_low is None or not np.isfinite(row.ci_low):
        return value
    return rf"{value}\newline [{latex_number(row.ci_low)}, {latex_number(row.ci_high)}]"


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
        r"\begin{longtable}{>{\raggedright}p{0.17\textwidth}>{\raggedright}p{0.33\textwidth}l"
        r">{\raggedright}p{0.12\textwidth}>{\raggedright\arraybackslash}p{0.1\textwidth}l}",
        r"\toprule claim & statement & prov. & measured & expected & status \\ \midrule \endhead",
        r"\bottomrule \endfoot",
    ]
    for row in rows.itertuples():
        short = escape(row.claim_id.removeprefix(f"{paper}."))
        short = short.replace(".", r".\allowbreak{}").replace(r"\_", r"\_\allowbreak{}")
        kind = rf" \emph{{({_KIND_TEX[row.kind]})}}" if row.kind in _KIND_TEX else ""
        note = rf" \emph{{{escape(row.note)}}}" if isinstance(row.note, str) and row.note else ""
        link = "../../" + row.anchor.replace("#", r"\#")  # relative to results/paper/
        status = _STATUS_TEX[row.status]
        lines.append(
            rf"\href{{{link}}}{{\texttt{{{short}}}}} & {escape(row.statement)}{kind}{note} & "
            rf"{row.provenance} & {_measured(row)} & {_expected(row)} & {status} \\"
        )
    lines.append(r"\end{longtable}}")
    return "\n".join(lines) + "\n"


def latex_summary_table(ledger: pd.DataFrame) -> str:
    """A column per paper; lines: its rows, rows per outcome (:data:`OUTCOMES`), per provenance."""
    papers = ledger_papers(ledger)
    groups = [ledger[ledger["paper"] == paper] for paper in papers]
    blocks = [
        [("rows", [len(rows) for rows in groups])],
        [(label, [outcome_counts(rows)[label] for rows in groups]) for label in OUTCOMES.values()],
        [
            (f"provenance: {p}", [int((rows["provenance"] == p).sum()) for rows in groups])
            for p in ("paper", "derived", "proposed")
        ],
    ]
    heads = [
        r"\shortstack{\texttt{" + escape(p).replace(r"\_", r"\_}\\\texttt{") + "}}" for p in papers
    ]
    lines = [
        "% Generated by `snakemake claims` from results/claims.csv. Do not edit.",
        r"{\footnotesize\setlength{\tabcolsep}{4pt}",
        r"\begin{tabular}{l" + "r" * (len(papers) + 1) + "}",
        r"\toprule",
        " & " + " & ".join(heads) + r" & all \\",
    ]
    for block in blocks:
        lines.append(r"\midrule")
        for label, values in block:
            cells = " & ".join(map(str, values))
            lines.append(rf"{escape(label)} & {cells} & {sum(values)} \\")
    lines += [r"\bottomrule", r"\end{tabular}}"]
    return "\n".join(lines) + "\n"
