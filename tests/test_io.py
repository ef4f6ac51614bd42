"""Outputs are written whole, readable by others (the umask's mode) and byte-reproducible."""

import os
import stat
from pathlib import Path

import matplotlib.pyplot as plt
import nbformat
import pytest

from sgdsde.io import atomic_write, write_json
from sgdsde.notebooks import without_volatile_metadata
from sgdsde.plotting import save_figure


def test_results_get_the_umask_mode_not_mkstemps_0600(tmp_path):
    umask = os.umask(0)
    os.umask(umask)
    path = write_json(tmp_path / "metrics.json", {"a": 1.0})
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask


def test_a_failed_write_leaves_neither_the_file_nor_a_temporary(tmp_path):
    def fail(path):
        path.write_text("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(tmp_path / "table.csv", fail)
    assert list(tmp_path.iterdir()) == []


def test_the_same_figure_gives_the_same_bytes(tmp_path):
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    save_figure(fig, tmp_path / "a", "F1")
    save_figure(fig, tmp_path / "b", "F1")
    plt.close(fig)
    for ext in ("pdf", "png"):
        assert (tmp_path / "a" / f"F1.{ext}").read_bytes() == (
            tmp_path / "b" / f"F1.{ext}"
        ).read_bytes()
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["F1.pdf", "F1.png"]


def test_executed_notebooks_lose_timings_and_random_cell_ids():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")])
    nb.metadata["papermill"] = {"start_time": "now", "duration": 1.0, "parameters": {"x": 1}}
    nb.cells[0].metadata["papermill"] = {"start_time": "now", "status": "completed"}
    nb.cells[0].metadata["execution"] = {"iopub.status.busy": "now"}
    clean = without_volatile_metadata(nb)
    assert clean.metadata["papermill"] == {"parameters": {"x": 1}}
    assert clean.cells[0].metadata == {"papermill": {"status": "completed"}}
    assert clean.cells[0]["id"] == "cell-0"
    nbformat.validate(clean)


NOTEBOOK = """# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---
# %% tags=["parameters"]
x = 1
# %%
print(x * 2)
"""


def test_executing_a_notebook_twice_gives_the_same_bytes(tmp_path, monkeypatch):
    from sgdsde.notebooks import execute_notebook

    monkeypatch.chdir(tmp_path)
    Path("nb.py").write_text(NOTEBOOK)
    runs = []
    for _ in range(2):
        execute_notebook(Path("nb.py"), Path("out/nb.ipynb"), {"x": 21})
        runs.append({p.name: p.read_bytes() for p in Path("out").iterdir()})
    assert sorted(runs[0]) == ["nb.html", "nb.ipynb"]
    assert runs[0] == runs[1]
    assert nbformat.reads(runs[0]["nb.ipynb"].decode(), 4).cells[-1].outputs[0]["text"] == "42\n"
