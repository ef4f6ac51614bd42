# Weak-error studies of users' own optimisers (docs/custom.md): one entry of the config's
# custom: section each, a study job, a figure notebook, and rows in the ledger.


rule custom_study:
    input:
        module=custom_module,
        code=custom_code(),
    output:
        table="results/custom/{study}/table.parquet",
        fits="results/custom/{study}/fits.parquet",
        ledger="results/custom/{study}/ledger.parquet",
    params:
        cfg=custom_params,
        out=subpath(output.table, parent=True),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../environment.yml"
    log:
        "results/logs/custom/{study}.log",
    benchmark:
        "results/benchmarks/custom/{study}.tsv"
    shell:
        "python -m sgdsde custom {wildcards.study} --params {params.cfg:q}"
        " --out {params.out} > {log} 2>&1"


rule custom_figures_study:
    input:
        notebook=source("notebooks/custom_study.py"),
        code=library_sources("figures"),
        table="results/custom/{study}/table.parquet",
        fits="results/custom/{study}/fits.parquet",
    output:
        notebook="results/notebooks/custom_{study}.ipynb",
        figures=multiext("results/custom/figures/{study}", ".pdf", ".png"),
    params:
        parameters=lambda wildcards, input: json.dumps({
            "study": wildcards.study, "table": input.table, "fits": input.fits,
            "figure_dir": "results/custom/figures"}),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../environment.yml"
    log:
        "results/logs/custom/{study}_figure.log",
    benchmark:
        "results/benchmarks/custom/{study}_figure.tsv"
    shell:
        "python -m sgdsde notebook {input.notebook} {output.notebook}"
        " --parameters {params.parameters:q} > {log} 2>&1"
