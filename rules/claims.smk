# The claims ledger: every claim of config/claims/<paper>.yaml evaluated against the measured metrics.


rule claims:
    input:
        manifests=claims_manifests(),
        metrics=claims_inputs(),
        custom=expand("results/custom/{study}/ledger.parquet", study=custom_studies()),
        code=library_sources("claims") + library_sources("latex"),
    output:
        csv=report("results/claims.csv", caption="../report/claims.rst", category="ledger",
                   labels={"table": "claims"}),
        outcomes=report("results/claims_outcomes.csv", caption="../report/claims_outcomes.rst",
                        category="ledger", labels={"table": "claims per outcome"}),
        tex="paper/generated/claims.tex",
        summary="paper/generated/claims_summary.tex",
        tables=expand("paper/generated/claims_{paper}.tex", paper=PAPERS),
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        "../environment.yml"
    log:
        "results/logs/claims.log",
    benchmark:
        "results/benchmarks/claims.tsv"
    shell:
        "python -m sgdsde claims --manifests {input.manifests} --results results"
        " --metrics {input.metrics} --custom {input.custom}"
        " --csv {output.csv} --outcomes {output.outcomes} --tex {output.tex}"
        " > {log} 2>&1 && cat {log}"
