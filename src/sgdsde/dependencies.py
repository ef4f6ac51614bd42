"""Which library files an experiment's results depend on, read from the imports.

An experiment ``<paper>.<label>`` is the function ``run_<label>`` that the paper's package imports
from one of its modules (its *entry module*). Its results depend on the files of the transitive
closure of the entry module's imports inside ``sgdsde`` (imports anywhere in a file count, also
inside functions), on the command line that runs it (``cli.py``, ``experiments/__init__.py``,
``experiments/<paper>/__init__.py``, and what they import at module level), and on nothing else:
editing a module reruns exactly the experiments that import it. A package's ``__init__`` imports
every experiment of the paper, so for the three dispatch files only their top-level imports
count, and of those not the ones that import only ``run_*`` functions.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def _module_file(name: str, root: Path) -> Path | None:
    """The file of module ``sgdsde.a.b`` under the package directory ``root`` (a module or a
    package's ``__init__``), or None."""
    parts = name.split(".")
    if parts[0] != "sgdsde":
        return None
    base = root.joinpath(*parts[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imported(tree: ast.AST, top_level: bool, root: Path) -> list[str]:
    """Names of the ``sgdsde`` modules a file imports (``from sgdsde import io`` is the module
    ``sgdsde.io`` when that is a file, else the package ``sgdsde``); with ``top_level`` only the
    module-level imports that bring in something other than experiments (``run_*``)."""
    nodes = tree.body if top_level else ast.walk(tree)
    names = []
    for node in nodes:
        experiments_only = isinstance(node, ast.ImportFrom) and all(
            alias.name.startswith("run_") for alias in node.names
        )
        if top_level and experiments_only:
            continue
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                names.append(full if _module_file(full, root) else node.module)
    return [n for n in names if n.split(".")[0] == "sgdsde"]


@functools.cache
def _imports(path: Path, top_level: bool, root: Path) -> tuple[Path, ...]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = (_module_file(name, root) for name in _imported(tree, top_level, root))
    return tuple(sorted({f for f in found if f is not None and f != path}))


def closure(path: Path, root: Path = PACKAGE) -> set[Path]:
    """``path`` and every ``sgdsde`` file under ``root`` it imports, directly or not."""
    seen, todo = set(), [path]
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo += _imports(current, False, root)
    return seen


def entry_module(paper: str, label: str, root: Path = PACKAGE) -> Path:
    """The module of ``run_<label>`` among the paper package's imports."""
    package = root / "experiments" / paper / "__init__.py"
    for node in ast.parse(package.read_text()).body:
        if isinstance(node, ast.ImportFrom) and any(
            alias.name == f"run_{label}" for alias in node.names
        ):
            found = _module_file(node.module, root)
            if found is not None:
                return found
    raise KeyError(f"{paper}: no module of the package defines run_{label}")


def command_sources(paper: str, entry: Path, root: Path = PACKAGE) -> list[Path]:
    """The files of ``entry``'s closure and of the command line that runs a job of ``paper``."""
    experiments = root / "experiments"
    dispatch = [root / "cli.py", experiments / "__init__.py", experiments / paper / "__init__.py"]
    dispatch = [path for path in dispatch if path.is_file()]
    files = closure(entry, root) | set(dispatch)
    for path in dispatch:
        for imported in _imports(path, True, root):
            files |= closure(imported, root)
    return sorted(files)


def experiment_sources(paper: str, label: str, root: Path = PACKAGE) -> list[Path]:
    """Every library file the results of ``<paper>.<label>`` depend on, sorted."""
    return command_sources(paper, entry_module(paper, label, root), root)
