"""Reproduction of four papers on ODE/SDE models of stochastic optimisers.

    snakemake                                  # the full reproduction (profiles/default)
    snakemake --configfile config/quick.yaml   # the same DAG at toy sizes

Every computation lives in the `sgdsde` package; rules only call `python -m sgdsde`,
papermill and LaTeX. See README.md and docs/.
"""

from pathlib import Path

from snakemake.utils import min_version, update_config

from sgdsde.claims_check import check_manifests, measured_experiments
from sgdsde.config_files import load_config_file, validate_schema
from sgdsde.io import keep_aside, put_back

min_version("9.0")

# This source tree: the working directory when run here, elsewhere when another workflow uses
# this one as a module (docs/custom.md#module-reuse).
SOURCE = Path(str(workflow.current_basedir))
DEFAULT_CONFIG = SOURCE / "config" / "config.yaml"

# Snakemake's own loader lets a duplicate key win silently: every config file is re-read
# strictly, naming the file and line (the default one before Snakemake reads it).
_defaults = load_config_file(DEFAULT_CONFIG)


configfile: str(DEFAULT_CONFIG)


for _path in workflow.configfiles:
    load_config_file(_path)
# A host workflow's `config:` holds only its overrides of the defaults.
update_config(_defaults, config)
config.update(_defaults)


report: "report/workflow.rst"


# Keys, types and ranges (the JSON schema), then cross-field checks (sgdsde.config), both
# before any job is scheduled: a bad config fails here in one line naming the key.
validate_schema(config, SOURCE / "config" / "config.schema.yaml")


include: "rules/common.smk"
include: "rules/momentum_approx.smk"
include: "rules/marginal_momentum.smk"
include: "rules/adaptive_sde.smk"
include: "rules/least_squares.smk"
include: "rules/custom.smk"
include: "rules/claims.smk"
include: "rules/paper.smk"


# Claims manifests checked now (schema, experiments of the registry that the workflow
# measures), not in the ledger job at the end of the run.
check_manifests(claims_manifests(), measured_experiments(claims_inputs()))


rule all:
    default_target: True
    input:
        "results/claims.csv",
        paper_targets(),
        custom_targets(),
        "results/provenance.json",
        report_pdf(),
        # every experiment job writes its metrics with its tables: a deleted one is rebuilt
        claims_inputs(),


onstart:
    keep_aside(LEDGER, PREVIOUS_LEDGER)


onsuccess:
    put_back(LEDGER, PREVIOUS_LEDGER, restore=False)
    print_claims_summary("results/claims.csv")
    print_tex_hint()


onerror:
    put_back(LEDGER, PREVIOUS_LEDGER)


# The benchmark suite, `snakemake bench` (after rule all: it times the run that built all).
include: "rules/bench.smk"
