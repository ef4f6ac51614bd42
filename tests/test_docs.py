"""The science lives in the repository: every reference to a method document names an anchor
that exists, every claim links to one, and no tracked file points outside the repository."""

import re
import subprocess

import pytest

from sgdsde.claims import PAPERS, load_manifests

from .conftest import CLAIM_MANIFESTS, REPO

DOC_REFERENCE = re.compile(r"docs/([a-z_]+)\.md#([A-Za-z0-9_-]+)")
OUTSIDE = re.compile(r"shared/|papers/\d{4}\.\d{5}|DESIGN\.md|/work/|\.\./\.\./[a-z]")
TEXT = (".py", ".smk", ".yaml", ".yml", ".md", ".rst", ".tex", ".toml", ".cff", ".bib", ".json")


def tracked_text_files():
    names = subprocess.run(
        ["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    return [REPO / n for n in names if n.endswith(TEXT) or n in ("Snakefile", "run")]


def anchors(doc: str) -> set[str]:
    return set(re.findall(r'<a id="([^"]+)"></a>', (REPO / "docs" / f"{doc}.md").read_text()))


@pytest.fixture(scope="module")
def files():
    found = tracked_text_files()
    if not found:
        pytest.skip("not a git checkout")
    return found


def test_every_paper_has_its_document_with_experiment_anchors():
    for paper in PAPERS:
        assert {"setting", "derivations", "experiments", "e1"} <= anchors(paper), paper


def test_every_document_reference_names_an_existing_anchor(files):
    missing = []
    for path in files:
        for doc, anchor in DOC_REFERENCE.findall(path.read_text(errors="replace")):
            if not (REPO / "docs" / f"{doc}.md").exists() or anchor not in anchors(doc):
                missing.append(f"{path.relative_to(REPO)}: docs/{doc}.md#{anchor}")
    assert not missing, "\n".join(sorted(set(missing)))


def test_links_inside_a_document_resolve():
    for paper in [*PAPERS, "design"]:
        text = (REPO / "docs" / f"{paper}.md").read_text()
        broken = set(re.findall(r"\]\(#([^)]+)\)", text)) - anchors(paper)
        assert not broken, f"docs/{paper}.md: {sorted(broken)}"


def test_no_tracked_file_points_outside_the_repository(files):
    hits = []
    for path in files:
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if OUTSIDE.search(line) and path.name != "test_docs.py":
                hits.append(f"{path.relative_to(REPO)}:{number}: {line.strip()[:80]}")
    assert not hits, "\n".join(hits)


def test_every_claim_links_to_the_section_of_its_experiment():
    for claim in load_manifests(CLAIM_MANIFESTS):
        doc, anchor = DOC_REFERENCE.fullmatch(claim["anchor"]).groups()
        assert doc == claim["paper"] and anchor in anchors(doc), claim["id"]
