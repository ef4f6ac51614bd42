"""Weak-error studies of a user's own optimiser (docs/custom.md): the worked example's orders,
a wrong model refuted, and bad modules refused before any study runs, naming the method."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

from sgdsde.coupling import MonteCarlo
from sgdsde.custom import CustomModuleError, build_oracle, load_module, run_study, weak_error_study

from .conftest import REPO

EXAMPLE = REPO / "docs" / "examples" / "sgd_modified_equation.py"
STUDY = {
    "module": str(EXAMPLE), "problem": {"kind": "double_well", "dim": 1}, "noise": 0.5,
    "x0": [0.5], "T": 1.0, "ladder": [3, 6], "test_functions": ["x1", "sq_norm"],
    "mc": {"n_paths": 8192, "fine_steps": 8, "paths_per_block": 1024, "blocks_per_chunk": 4},
    "tolerance": 0.25,
}  # fmt: skip


def test_the_worked_example_measures_its_orders_and_refutes_the_wrong_model():
    table, fits = run_study(STUDY, 3, "sgd")
    assert len(table) == 4 * 3 * 2 and (table["n_diverged"] == 0).all()
    status = fits.set_index(["model", "test_function"])["status"]
    assert (status.loc["sde1"] == "pass").all() and (status.loc["sde2"] == "pass").all()
    assert (status.loc["sde2_wrong_sign"] == "fail").all()
    order = fits.set_index(["model", "test_function"])["order"]
    assert abs(order.loc[("sde2", "x1")] - 2) < 0.25 and order.loc[("sde2_wrong_sign", "x1")] < 1.2


def test_results_do_not_depend_on_the_chunk_size():
    cfgs = [
        {**STUDY, "ladder": [3, 4], "mc": {**STUDY["mc"], "blocks_per_chunk": b}} for b in (1, 8)
    ]
    one, two = (run_study(cfg, 5, "sgd")[0] for cfg in cfgs)
    assert one.equals(two)


def test_the_api_takes_functions_and_a_problem():
    module = load_module(EXAMPLE)
    oracle = build_oracle({"kind": "quartic", "dim": 2}, 0.3)
    tests = {"x1": lambda x: x[:, 0]}
    _, fits = weak_error_study(module.optimizer, module.models, oracle, np.array([0.8, -0.4]),
                               [3, 4, 5], 1.0, MonteCarlo(4096), tests, 1)  # fmt: skip
    assert set(fits["model"]) == {"sde1", "sde2", "sde2_wrong_sign"}
    assert set(fits["status"]) <= {"pass", "fail", "unresolved"}


def _module(tmp_path, body: str):
    path = tmp_path / "mine.py"
    path.write_text(EXAMPLE.read_text() + "\n" + textwrap.dedent(body))
    return {**STUDY, "module": str(path), "ladder": [3, 4]}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("del models\n", r"mine.py: defines no function models"),
        ("SGD.step = lambda self, t, X, z: X[:, :0]\n", r"optimizer.step returned shape \(2, 0\)"),
        ("ModifiedEquation.drift = lambda self, t, X: X * np.nan\n",
         r"models\(\)\['sde1'\].drift returned non-finite values"),
        ("del ModifiedEquation.diffusion\n",
         r"models\(\)\['sde1'\]: ModifiedEquation has no diffusion"),
        ("raise ImportError('broken')\n", r"mine.py: importing it raised"),
    ],
    ids=["no-models", "wrong-shape", "non-finite", "missing-method", "import-error"],
)  # fmt: skip
def test_a_bad_module_is_refused_naming_the_module_and_the_method(tmp_path, body, message):
    with pytest.raises(CustomModuleError, match=message):
        run_study(_module(tmp_path, body), 1, "mine")


def test_unknown_test_functions_and_problems_are_named():
    with pytest.raises(CustomModuleError, match=r"custom\.sgd\.test_functions: unknown"):
        run_study({**STUDY, "test_functions": ["x9"]}, 1, "sgd")
    with pytest.raises(CustomModuleError, match=r"problem\.kind must be one of"):
        run_study({**STUDY, "problem": {"kind": "rosenbrock"}}, 1, "sgd")


def test_the_documented_api_example_runs(monkeypatch):
    """The Python block of docs/custom.md#api, executed as written from the repository root."""
    text = (REPO / "docs" / "custom.md").read_text()
    section = text[text.index('<a id="api"></a>') :]
    code = section[section.index("```python") + len("```python") : section.index("```\n", 10)]
    monkeypatch.chdir(REPO)
    namespace: dict = {}
    exec(compile(code, "docs/custom.md#api", "exec"), namespace)
    assert set(namespace["fits"]["model"]) == {"sde1", "sde2", "sde2_wrong_sign"}
