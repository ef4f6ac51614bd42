# The reproduction report: provenance record, then the LaTeX report (when TeX is installed).


rule provenance:
    input:
        claims="results/claims.csv",
        code=library_sources("provenance"),
    output:
        json=report("results/provenance.json", caption="../report/provenance.rst",
                    category="ledger", labels={"table": "provenance"}),
        tex="paper/generated/provenance.tex",
    params:
        cfg=json.dumps(config, sort_keys=True),
    threads: 1
    resources:
        mem_mb=300,
        runtime=5,
    conda:
        "../environment.yml"
    log:
        "results/logs/provenance.log",
    benchmark:
        "results/benchmarks/provenance.tsv"
    shell:
        "python -m sgdsde provenance --config {params.cfg:q} --benchmarks results/benchmarks"
        " --json {output.json} --tex {output.tex} > {log} 2>&1"


rule paper:
    input:
        tex="paper/reproduction.tex",
        sections=expand("paper/sections/{name}.tex", name=["methods", *PAPERS]),
        bib="paper/references.bib",
        claims=rules.claims.output,
        tables=rules.momentum_approx_tables.output.tex,
        figures=momentum_approx_figures(),
        marginal_momentum_tables=rules.marginal_momentum_tables.output.tex,
        marginal_momentum_figures=paper_figures("marginal_momentum", 1, 6),
        adaptive_sde_tables=rules.adaptive_sde_tables.output.tex,
        adaptive_sde_figures=adaptive_sde_figures(),
        least_squares_tables=rules.least_squares_tables.output.tex,
        least_squares_figures=least_squares_figures(),
        provenance=rules.provenance.output.tex,
    output:
        pdf="results/paper/reproduction.pdf",
    threads: 1
    resources:
        mem_mb=500,
        runtime=10,
    conda:
        "../environment.yml"
    log:
        "results/logs/paper.log",
    benchmark:
        "results/benchmarks/paper.tsv"
    shell:
        # the PDF's dates from the commit, not the clock: the same sources give the same bytes
        "SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null || echo 0) FORCE_SOURCE_DATE=1"
        " latexmk -pdf -interaction=nonstopmode -halt-on-error -cd"
        " -outdir=../results/paper {input.tex} > {log} 2>&1"
