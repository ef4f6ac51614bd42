"""Atomic writers and checked readers of the workflow's results.

Each file is written to a temporary sibling and moved into place with ``os.replace``, which is
atomic on POSIX file systems, so an interrupted or failed run never leaves a half-written result
(Snakemake additionally deletes the outputs of a failed job). Parquet tables carry a CRC per
page; the readers verify them, so a truncated or corrupted result is an error that names the
file and the command that rebuilds it, never silently used.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd


def _file_mode() -> int:
    """``0o666`` less the umask: what ``open`` would give (``mkstemp`` gives 0600, which hides
    results from the other users of a shared cluster)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


_FILE_MODE = _file_mode()


def atomic_write(path: Path, write: Callable[[Path], None]) -> Path:
    """Call ``write`` on a temporary sibling of ``path`` (same suffix, so writers that infer the
    format from it still work), then move it into place with its ordinary file mode."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, _FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _jsonable(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def write_json(path: Path, data: dict) -> Path:
    """Write ``data`` as indented JSON (NumPy scalars and arrays converted)."""
    text = json.dumps(data, indent=2, sort_keys=True, default=_jsonable, allow_nan=False)
    return atomic_write(path, lambda p: p.write_text(text + "\n"))


def write_text(path: Path, text: str) -> Path:
    return atomic_write(path, lambda p: p.write_text(text))


def write_table(path: Path, table: pd.DataFrame) -> Path:
    """Write a tidy table as Parquet (``.parquet``, with page checksums) or CSV (``.csv``)."""
    path = Path(path)
    if path.suffix == ".parquet":
        return atomic_write(
            path, lambda p: table.to_parquet(p, index=False, write_page_checksum=True)
        )
    return atomic_write(path, lambda p: table.to_csv(p, index=False))


class UnreadableResultError(RuntimeError):
    """A result file that is missing, truncated or corrupted."""


def _unreadable(path: Path, error: Exception) -> UnreadableResultError:
    reason = str(error).splitlines()[0] if str(error) else type(error).__name__
    return UnreadableResultError(
        f"{path}: unreadable ({reason}); rebuild it with: snakemake --forcerun {path}"
    )


def read_table(path: Path) -> pd.DataFrame:
    """A table written by :func:`write_table`, its Parquet page checksums verified."""
    path = Path(path)
    try:
        if path.suffix == ".parquet":
            return pd.read_parquet(path, page_checksum_verification=True)
        return pd.read_csv(path)
    except (OSError, ValueError) as error:  # pyarrow's ArrowInvalid is a ValueError
        raise _unreadable(path, error) from error


def read_json(path: Path) -> dict:
    """A JSON result written by :func:`write_json` (``metrics.json``, …)."""
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as error:  # JSONDecodeError and UnicodeDecodeError too
        raise _unreadable(path, error) from error


def keep_aside(paths: list[str], folder: str) -> None:
    """Copy the existing ``paths`` into ``folder``, before a run that may rebuild them."""
    for path in map(Path, paths):
        if path.exists():
            Path(folder).mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, Path(folder) / path.name)


def put_back(paths: list[str], folder: str, restore: bool = True) -> None:
    """Restore the copies of :func:`keep_aside` whose originals are gone (``restore``), then
    drop ``folder``. The restored files keep their old times, so the next run rebuilds them."""
    for path in map(Path, paths):
        kept = Path(folder) / path.name
        if restore and kept.exists() and not path.exists():
            shutil.copy2(kept, path)
    shutil.rmtree(folder, ignore_errors=True)
