"""Execute a jupytext notebook with papermill and export it to HTML, in one process.

The figure rules call ``python -m sgdsde notebook SOURCE.py OUTPUT.ipynb --parameters JSON``:
jupytext reads the percent-format source, papermill injects the parameters after the cell
tagged ``parameters`` and runs it in a fresh kernel, nbconvert writes ``OUTPUT.html`` beside it.
One interpreter instead of three saves several seconds per figure rule.
"""

from __future__ import annotations

from pathlib import Path

import jupytext
import nbformat
import papermill
from nbconvert import HTMLExporter

from sgdsde.io import write_text


def execute_notebook(source: Path, output: Path, parameters: dict) -> None:
    """Run ``source`` with ``parameters``; write the executed notebook and its HTML export."""
    notebook = jupytext.read(source)
    output.parent.mkdir(parents=True, exist_ok=True)
    papermill.execute_notebook(notebook, str(output), parameters=parameters,
                               kernel_name="python3", cwd=".", progress_bar=False)  # fmt: skip
    html, _ = HTMLExporter().from_notebook_node(nbformat.read(output, as_version=4))
    write_text(output.with_suffix(".html"), html)
