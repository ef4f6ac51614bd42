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

from pathlib import Path

import jupytext
import nbformat
import papermill
from nbconvert import HTMLExporter

from sgdsde.io import write_text

_VOLATILE = ("start_time", "end_time", "duration", "execution")


def _drop_volatile(metadata: dict) -> None:
    for meta in (metadata.get("papermill", {}), metadata):
        for key in _VOLATILE:
            meta.pop(key, None)


def without_volatile_metadata(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook with papermill's and Jupyter's timings removed and cell ids numbered."""
    _drop_volatile(notebook.metadata)
    for i, cell in enumerate(notebook.cells):
        if "id" in cell:
            cell["id"] = f"cell-{i}"
        _drop_volatile(cell.metadata)
    return notebook


def execute_notebook(source: Path, output: Path, parameters: dict) -> None:
    """Run ``source`` with ``parameters``; write the executed notebook and its HTML export."""
    notebook = jupytext.read(source)
    # no output path: papermill keeps the executed notebook in memory, written below only
    # when every cell ran
    executed = papermill.execute_notebook(
        notebook, None, parameters=parameters, kernel_name="python3", cwd=".", progress_bar=False
    )
    executed = without_volatile_metadata(executed)
    # papermill records an in-memory input as the whole notebook, random cell ids included
    executed.metadata.papermill |= {"input_path": str(source), "output_path": str(output)}
    html, _ = HTMLExporter().from_notebook_node(executed)
    write_text(output.with_suffix(".html"), html)
    write_text(output, nbformat.writes(executed))
