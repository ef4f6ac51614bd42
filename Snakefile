"""Reproduction of four papers on ODE/SDE models of stochastic optimisers.

    snakemake                                  # the full reproduction (profiles/default)
    snakemake --configfile config/quick.yaml   # the same DAG at toy sizes

Every computation lives in the `sgdsde` package; rules only call `python -m sgdsde`,
papermill and LaTeX. See README.md and shared/DESIGN.md.
"""

from snakemake.utils import min_version, validate

min_version("9.0")


configfile: "config/config.yaml"


report: "report/workflow.rst"


# Keys, types and ranges (the JSON schema), then cross-field checks (sgdsde.config), both
# before any job is scheduled: a bad config fails here, naming the key.
validate(config, "config/config.schema.yaml")


include: "rules/common.smk"
include: "rules/momentum_approx.smk"
include: "rules/marginal_momentum.smk"
include: "rules/adaptive_sde.smk"
include: "rules/least_squares.smk"
include: "rules/claims.smk"
include: "rules/paper.smk"


rule all:
    default_target: True
    input:
        "results/claims.csv",
        momentum_approx_figures(),
        rules.momentum_approx_tables.output,
        marginal_momentum_targets(),
        adaptive_sde_figures(),
        rules.adaptive_sde_tables.output,
        least_squares_figures(),
        rules.least_squares_tables.output,
        "results/provenance.json",
        report_pdf(),


onsuccess:
    print_claims_summary("results/claims.csv")
    print_tex_hint()


# The benchmark suite, `snakemake bench` (after rule all: it times the run that built all).
include: "rules/bench.smk"
