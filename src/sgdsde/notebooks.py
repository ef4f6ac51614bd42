"""Execute a jupytext notebook with papermill and export it to HTML, in one process.

The figure rules call ``python -m sgdsde notebook SOURCE.py OUTPUT.ipynb --parameters JSON``:
jupytext reads the percent-format source, papermill injects the parameters after the cell
tagged ``parameters`` and runs it in a fresh kernel, nbconvert writes ``OUTPUT.html`` beside it.
One interpreter instead of three saves several seconds per figure rule.

The executed notebook is written only when the whole notebook ran (an interrupted or failed run
leaves no partial notebook), atomically, and without the volatile metadata (timings, random
cell ids), so that the same inputs give the same bytes.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import jupytext
import nbformat
import papermill
from nbconvert import HTMLExporter

from sgdsde.io import write_text

_VOLATILE = ("start_time", "end_time", "duration", "execution")


def without_volatile_metadata(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook with papermill's and Jupyter's timings removed and cell ids numbered."""
    for meta in (notebook.metadata.get("papermill", {}), notebook.metadata):
        for key in _VOLATILE:
            meta.pop(key, None)
    for i, cell in enumerate(notebook.cells):
        if "id" in cell:
            cell["id"] = f"cell-{i}"
        for meta in (cell.metadata.get("papermill", {}), cell.metadata):
            for key in _VOLATILE:
                meta.pop(key, None)
    return notebook


def execute_notebook(source: Path, output: Path, parameters: dict) -> None:
    """Run ``source`` with ``parameters``; write the executed notebook and its HTML export."""
    notebook = jupytext.read(source)
    with tempfile.TemporaryDirectory() as scratch:
        executed = papermill.execute_notebook(
            notebook, str(Path(scratch) / output.name), parameters=parameters,
            kernel_name="python3", cwd=".", progress_bar=False,
        )  # fmt: skip
    executed = without_volatile_metadata(executed)
    html, _ = HTMLExporter().from_notebook_node(executed)
    write_text(output.with_suffix(".html"), html)
    write_text(output, nbformat.writes(executed))
