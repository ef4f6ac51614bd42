"""The reproduction report: the PDF, the generated macros and the HTML report, on the quick run.

TeX, poppler and Chromium are system packages (README: "The report"). Locally a test that needs
one skips, naming the install command; under CI (``CI`` set) a missing tool is a failure.
"""

import base64
import io
import os
import re
import shutil
import subprocess
import tempfile

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from sgdsde.claims import PAPERS, macro_name
from sgdsde.latex import latex_number

from .workflow_copy import QUICK, snakemake

pytestmark = pytest.mark.workflow
SYSTEM = (
    "apt-get install latexmk texlive-latex-recommended texlive-fonts-recommended "
    "poppler-utils chromium"
)


def require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{tool} is not installed in CI; install with: {SYSTEM}")
        pytest.skip(f"{tool} not installed; install with: {SYSTEM}")
    return path


def _not_blank(png: bytes) -> bool:
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=float)
    return pixels.std() > 5.0


def test_macros_match_the_ledger(quick_run):
    workdir = quick_run[0]
    ledger = pd.read_csv(workdir / "results" / "claims.csv")
    tex = (workdir / "paper" / "generated" / "claims.tex").read_text()
    for row in ledger.itertuples():
        name = macro_name(row.claim_id)
        assert rf"\newcommand{{\{name}}}{{{latex_number(row.measured)}}}" in tex
        assert rf"\newcommand{{\{name}Status}}{{{row.status}}}" in tex


def test_pdf_report_builds_without_undefined_references(quick_run):
    require("latexmk")
    workdir = quick_run[0]
    pdf = workdir / "results" / "paper" / "reproduction.pdf"
    assert pdf.stat().st_size > 100_000
    log = (workdir / "results" / "paper" / "reproduction.log").read_text(errors="replace")
    assert "undefined" not in log.lower(), re.findall(r".*undefined.*", log)[:5]
    assert "multiply defined" not in log.lower(), re.findall(r".*multiply.*", log)[:5]
    overfull = [float(w) for w in re.findall(r"Overfull \\hbox \(([0-9.]+)pt too wide", log)]
    assert max(overfull, default=0.0) <= 5.0, f"overfull boxes up to {max(overfull)} pt"
    text = subprocess.run(
        [require("pdftotext"), str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "??" not in text
    with tempfile.TemporaryDirectory() as pages:
        subprocess.run(
            [require("pdftoppm"), "-r", "30", "-png", str(pdf), f"{pages}/p"], check=True
        )
        images = sorted(os.listdir(pages))
        assert len(images) >= 10
        for name in images:
            with open(f"{pages}/{name}", "rb") as f:
                assert _not_blank(f.read()), name


def test_pdf_sections_are_the_method_documents(quick_run):
    """Each paper's section is its document: every heading of ``docs/<paper>.md`` (plain text
    ones) is in the PDF, and the Results paragraphs print measured values, not claim ids."""
    require("latexmk")
    workdir = quick_run[0]
    pdf = workdir / "results" / "paper" / "reproduction.pdf"
    text = subprocess.run(
        [require("pdftotext"), str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    words = " ".join(re.findall(r"[A-Za-z0-9]+", text))
    for document in ("methods", *PAPERS):
        markdown = (workdir / "docs" / f"{document}.md").read_text()
        headings = re.findall(r"^#{2,3} ([^$`*\n]+)$", markdown, flags=re.M)
        assert len(headings) >= 4, document
        for heading in headings:
            assert " ".join(re.findall(r"[A-Za-z0-9]+", heading)) in words, (document, heading)
        assert not re.search(rf"{document}\.E\d\w*\.\S+", text), f"a claim id printed ({document})"


def test_html_report_shows_every_figure(quick_run, tmp_path):
    workdir = quick_run[0]
    run = snakemake(workdir, *QUICK, "--report", "results/report.html")
    assert run.returncode == 0, run.stderr[-3000:]
    html = (workdir / "results" / "report.html").read_text()
    images = dict(re.findall(r"filename=(F\d+)\.png;base64,([A-Za-z0-9+/=]+)", html))
    assert {f"F{i}" for i in range(1, 9)} <= set(images)  # papers share the names F1, F2, …
    for name, data in images.items():
        assert _not_blank(base64.b64decode(data)), f"{name} is broken or blank"
    for caption in ("Supports the claims", "claims ledger", "Provenance of these results"):
        assert caption in html
    chromium = require("chromium")
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=10000",
    ]
    url = (workdir / "results" / "report.html").as_uri()
    shot = tmp_path / "report.png"
    subprocess.run(
        [chromium, *flags, "--window-size=1400,1000", f"--screenshot={shot}", url],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert _not_blank(shot.read_bytes()), "the report renders as an empty page"
    dom = subprocess.run(
        [chromium, *flags, "--dump-dom", url],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    for category in ("momentum_approx", "ledger", "notebooks"):
        assert category in dom
