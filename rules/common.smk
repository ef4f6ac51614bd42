# Helpers shared by all rules. Functions live here only (snakemake --lint).
import json
from pathlib import Path

from sgdsde.claims import summary
from sgdsde.config import check_config

import pandas as pd

check_config(config)

# Jobs run `python -m sgdsde …` from the active environment (README: activate the venv, or
# conda). They import the library of this very source tree, also in the environments that
# `--use-conda` builds from environment.yml, which cannot hold an editable install.
shell.prefix(f"export PYTHONPATH={Path(workflow.basedir) / 'src'}:$PYTHONPATH; ")


def experiment_params(paper, *sections):
    """The JSON config of one experiment: its sections of the paper's config plus the seed.

    Passed as a param, so Snakemake reruns exactly the jobs whose config changed."""
    return json.dumps(
        {"seed": config["seed"], **{s: config[paper][s] for s in sections}}, sort_keys=True
    )


def e1_params(wildcards):
    """E1's config restricted to one configuration (CFG-B or CFG-A)."""
    e1 = dict(config["momentum_approx"]["E1"])
    e1["configs"] = {wildcards.config: e1["configs"][wildcards.config]}
    cfg = {"seed": config["seed"], "problem": config["momentum_approx"]["problem"], "E1": e1}
    return json.dumps(cfg, sort_keys=True)


def e1_configs():
    return sorted(config["momentum_approx"]["E1"]["configs"])


def print_claims_summary(path):
    if Path(path).exists():
        print(f"\nClaims ledger ({path}):")
        for line in summary(pd.read_csv(path)):
            print(f"  {line}")


def momentum_approx_figures():
    return expand("results/momentum_approx/figures/{fig}.{ext}", fig=["F1", "F2"], ext=["pdf", "png"])


def claims_inputs():
    """Every metrics.json the ledger reads."""
    return [
        "results/momentum_approx/E0/metrics.json",
        *expand("results/momentum_approx/E1/{config}/metrics.json", config=e1_configs()),
    ]
