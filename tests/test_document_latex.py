"""The method documents as report sections: anchors, links, cited claims, figures, symbols."""

from importlib import import_module
from pathlib import Path

import pytest

from sgdsde.claims import PAPERS, load_manifests
from sgdsde.document_latex import document_latex, float_files
from sgdsde.experiments import FIGURE_COUNT
from sgdsde.latex import latex_symbols

ROOT = Path(__file__).resolve().parents[1]
DOCUMENT = """# toy: a title the report replaces

Intro, see [the first experiment](#e1) and [a derivation](other.md#lift); the slope is
`toy.E1.slope` (`toy.E1.slope:status`), η ≤ φ̄.

<a id="e1"></a>
### E1: an experiment

<a id="f1"></a>
**F1** (E1): errors against $h$ with η.

<a id="t1"></a>
**T1**: the fitted slopes.
"""
FILES = {
    "figures": {"F1": "../results/toy/figures/F1.pdf"},
    "tables": {"T1": "generated/toy_T1.tex"},
}


def convert(markdown=DOCUMENT, claims=("toy.E1.slope",), **files):
    return document_latex(
        markdown, "toy", papers=("toy", "other"), claims=claims, **(FILES | files)
    )


def test_anchors_links_and_claims_become_labels_references_and_macros():
    tex = convert()
    assert "a title" not in tex  # the report's \section is the title
    assert r"\label{doc:toy:e1}" in tex
    assert r"\hyperref[doc:toy:e1]{the first experiment}" in tex
    assert r"\hyperref[doc:other:lift]{a derivation}" in tex
    assert r"\ToyEOneSlope{}" in tex
    assert r"\ToyEOneSlopeStatus{}" in tex
    assert r"\ensuremath{\eta} \ensuremath{\le} \ensuremath{\bar{\varphi}}" in tex


def test_figure_and_table_paragraphs_place_the_workflow_files():
    tex = convert()
    figure = tex[tex.index(r"\begin{figure}") : tex.index(r"\end{figure}")]
    assert (
        r"{../results/toy/figures/F1.pdf}\caption{\textbf{F1} (E1): errors against \(h\)" in figure
    )
    assert r"\label{doc:toy:f1}" in figure
    assert r"\input{generated/toy_T1.tex}" in tex


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"figures": {**FILES["figures"], "F2": "F2.pdf"}}, "does not place F2"),
        ({"tables": {}}, "makes no table T1"),
        ({"claims": ()}, "cites `toy.E1.slope`: not a claim"),
        ({"markdown": DOCUMENT + "\n`toy.E1.slope:value`\n"}, "cites `toy.E1.slope:value`"),
        ({"markdown": DOCUMENT + "\nA symbol ✓ with no LaTeX.\n"}, "docs/toy.md: no LaTeX for '✓'"),
    ],
)
def test_a_document_that_disagrees_with_the_workflow_is_an_error(change, message):
    with pytest.raises(ValueError, match=message):
        convert(**change)


def test_symbols_in_text_and_math():
    assert (
        latex_symbols("x² — \\(σ\\)", where="t") == r"x\ensuremath{^2} --- \(\ensuremath{\sigma}\)"
    )


def test_float_files_are_named_by_their_label_and_seen_from_the_report():
    files = float_files(["results/p/figures/F10.pdf", "paper/generated/p_T2.tex"])
    assert files == {"F10": "../results/p/figures/F10.pdf", "T2": "generated/p_T2.tex"}


@pytest.mark.parametrize("paper", ["methods", *PAPERS])
def test_every_method_document_converts_with_the_workflow_files(paper):
    """Each document places exactly its paper's figures and tables and cites real claims."""
    claims = [c["id"] for c in load_manifests(sorted((ROOT / "config" / "claims").glob("*.yaml")))]
    count, tables = FIGURE_COUNT.get(paper, 0), {}
    if paper in PAPERS:
        tables = import_module(f"sgdsde.experiments.{paper}.tables").TABLES
    figures = {f"F{i}": f"../results/{paper}/figures/F{i}.pdf" for i in range(1, count + 1)}
    tables = {name: f"generated/{paper}_{name}.tex" for name in tables}
    tex = document_latex(
        (ROOT / "docs" / f"{paper}.md").read_text(),
        paper,
        papers=("methods", *PAPERS),
        claims=claims,
        figures=figures,
        tables=tables,
    )
    assert r"\phantomsection\label{doc:" in tex
