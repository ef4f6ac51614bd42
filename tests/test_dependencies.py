"""Library inputs follow imports: an experiment depends on the modules it imports, no others."""

from sgdsde.dependencies import PACKAGE, entry_module, experiment_sources


def _names(paper, label):
    return {str(path.relative_to(PACKAGE)) for path in experiment_sources(paper, label)}


def test_an_experiment_depends_on_its_imports_and_its_command_line():
    e0 = _names("marginal_momentum", "E0")
    assert {
        "cli.py",
        "experiments/__init__.py",
        "experiments/marginal_momentum/__init__.py",
        "experiments/marginal_momentum/monte_carlo.py",
        "engine.py",
        "seeding.py",
        "stats.py",
    } <= e0
    assert "nets.py" not in e0 and "experiments/marginal_momentum/analogues.py" not in e0
    assert "nets.py" in _names("marginal_momentum", "E7_run")


def test_presentation_and_other_papers_are_not_inputs_of_an_experiment():
    e4 = _names("adaptive_sde", "E4")
    assert "adaptive.py" in e4
    assert not {"plotting.py", "notebooks.py", "claims.py", "least_squares.py", "nets.py"} & e4
    assert not any(name.startswith("experiments/least_squares") for name in e4)


def test_every_experiment_has_an_entry_module():
    from sgdsde.experiments import momentum_approx

    for label in momentum_approx.EXPERIMENTS:
        assert entry_module("momentum_approx", label).parent.name == "momentum_approx"
