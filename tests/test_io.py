"""Outputs are written whole, readable by others (the umask's mode) and byte-reproducible;
a truncated or corrupted result is an error naming the file and how to rebuild it."""

import os
import stat
from pathlib import Path

import matplotlib.pyplot as plt
import nbformat
import numpy as np
import pandas as pd
import pytest

from sgdsde.io import (
    UnreadableResultError,
    atomic_write,
    read_json,
    read_table,
    write_json,
    write_table,
)
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


def _table() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"h": np.arange(2000.0), "error": rng.normal(size=2000)})


def test_a_table_reads_back_exactly(tmp_path):
    table = _table()
    assert read_table(write_table(tmp_path / "table.parquet", table)).equals(table)
    assert read_json(write_json(tmp_path / "metrics.json", {"a": 1.5})) == {"a": 1.5}


def _flip_one_bit(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x04
    path.write_bytes(bytes(data))


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


@pytest.mark.parametrize(
    ("name", "damage"),
    [
        ("table.parquet", _truncate),
        ("table.parquet", lambda path: _flip_one_bit(path, 600)),  # inside the first data page
        ("table.parquet", lambda path: _flip_one_bit(path, 20_000)),
        ("metrics.json", _truncate),
        ("metrics.json", lambda path: path.write_bytes(b"\xff\xfe")),
        ("missing.parquet", Path.unlink),
    ],
)
def test_a_damaged_result_is_an_error_naming_it_and_its_rebuild(tmp_path, name, damage):
    path = tmp_path / name
    if name.endswith(".parquet"):
        write_table(path, _table())
    else:
        write_json(path, {f"metric_{i}": float(i) for i in range(50)})
    damage(path)
    read = read_table if name.endswith(".parquet") else read_json
    with pytest.raises(UnreadableResultError, match=rf"{path}: unreadable .*--forcerun {path}$"):
        read(path)


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
