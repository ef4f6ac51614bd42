"""The README's two commands, CI and the conda environment stay in step with pyproject."""

import re
import tomllib

import yaml

from .conftest import REPO


def _pins():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return sorted(project["dependencies"] + project["optional-dependencies"]["test"])


def readme_commands() -> list[str]:
    """The commands of the README's first code block, which must come before any other text."""
    text = (REPO / "README.md").read_text()
    block = re.search(r"```(?:bash|sh)?\n(.*?)```", text, re.S)
    assert block, "README must start with a code block"
    preamble = text[: block.start()]
    assert all(line.startswith("#") or not line.strip() for line in preamble.splitlines())
    return [line for line in block.group(1).splitlines() if line and not line.startswith("#")]


def test_every_dependency_is_pinned():
    assert all("==" in pin for pin in _pins())


def test_environment_yml_has_the_pyproject_pins():
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert sorted(pip) == _pins()


def test_readme_starts_with_exactly_two_commands():
    reproduce, test = readme_commands()
    assert reproduce.endswith("snakemake")
    assert "pytest" in test


def test_ci_runs_the_readme_test_command():
    ci = (REPO / ".ci" / "run").read_text()
    assert "readme_command 2" in ci


def test_ci_installs_the_system_packages_the_readme_documents():
    readme, ci = (REPO / "README.md").read_text(), (REPO / ".ci" / "run").read_text()
    documented = re.search(r"sudo apt-get install (.+)", readme).group(1).split()
    assert all(package in ci for package in documented)


def test_citation_file_names_the_four_papers():
    citation = yaml.safe_load((REPO / "CITATION.cff").read_text())
    ids = {ref["identifiers"][0]["value"] for ref in citation["references"]}
    assert ids == {f"arXiv:{n}" for n in ("2504.13992", "2307.15196", "2509.21614", "2407.02322")}
