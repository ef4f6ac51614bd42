# The reproduction report: provenance record, the method documents as LaTeX sections, then the
# LaTeX report (when TeX is installed).


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
        "python -m sgdsde provenance --config {params.cfg:q} --json {output.json}"
        " --tex {output.tex} > {log} 2>&1"


rule report_document:
    input:
        document=source("docs/{document}.md"),
        manifests=claims_manifests(),
        code=library_sources("document") + library_sources("latex"),
    output:
        tex="paper/generated/{document}_document.tex",
    params:
        # the names of the figures and tables it places; the paper rule needs the files
        files=lambda wildcards: report_files(wildcards.document),
        papers=RUN_PAPERS,
    wildcard_constraints:
        document="|".join(["methods", *PAPERS]),
    threads: 1
    resources:
        mem_mb=300,
        runtime=5,
    conda:
        "../environment.yml"
    log:
        "results/logs/report_document/{document}.log",
    benchmark:
        "results/benchmarks/report_document/{document}.tsv"
    shell:
        "python -m sgdsde document {input.document} --manifests {input.manifests}"
        " --papers {params.papers} --files {params.files} --tex {output.tex} > {log} 2>&1"


rule paper:
    input:
        tex="paper/reproduction.tex",
        documents=expand(rules.report_document.output.tex, document=["methods", *RUN_PAPERS]),
        files=[path for paper in RUN_PAPERS for path in report_files(paper)],
        bib="paper/references.bib",
        claims=rules.claims.output,
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
