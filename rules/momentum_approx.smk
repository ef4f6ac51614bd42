# arXiv 2504.13992: heavy ball with time-varying schedules and its ODE/SDE approximations.
# Spec: shared/papers/2504.13992.md. Computation: sgdsde.experiments.momentum_approx.


rule momentum_approx_E0:
    output:
        table="results/momentum_approx/E0/table.parquet",
        metrics="results/momentum_approx/E0/metrics.json",
    params:
        cfg=experiment_params("momentum_approx", "E0"),
        out=subpath(output.metrics, parent=True),
    conda:
        "../environment.yml"
    log:
        "results/logs/momentum_approx/E0.log",
    benchmark:
        "results/benchmarks/momentum_approx/E0.tsv"
    shell:
        "python -m sgdsde run momentum_approx.E0 --params {params.cfg:q} --out {params.out}"
        " > {log} 2>&1"


rule momentum_approx_E1:
    output:
        table="results/momentum_approx/E1/{config}/table.parquet",
        metrics="results/momentum_approx/E1/{config}/metrics.json",
    params:
        cfg=e1_params,
        out=subpath(output.metrics, parent=True),
    conda:
        "../environment.yml"
    log:
        "results/logs/momentum_approx/E1_{config}.log",
    benchmark:
        "results/benchmarks/momentum_approx/E1_{config}.tsv"
    shell:
        "python -m sgdsde run momentum_approx.E1 --params {params.cfg:q} --out {params.out}"
        " > {log} 2>&1"


rule momentum_approx_figures_F1_F2:
    input:
        notebook="notebooks/momentum_approx_F1_F2.py",
        tables=expand("results/momentum_approx/E1/{config}/table.parquet", config=e1_configs()),
    output:
        notebook="results/notebooks/momentum_approx_F1_F2.ipynb",
        html="results/notebooks/momentum_approx_F1_F2.html",
        figures=momentum_approx_figures(),
    params:
        parameters=lambda wildcards, input: json.dumps(
            {"e1_tables": list(input.tables), "figure_dir": "results/momentum_approx/figures"}
        ),
    conda:
        "../environment.yml"
    log:
        "results/logs/momentum_approx/figures_F1_F2.log",
    benchmark:
        "results/benchmarks/momentum_approx/figures_F1_F2.tsv"
    shell:
        "(python -m jupytext --to ipynb --output - {input.notebook}"
        " | python -m papermill --kernel python3 --cwd . - {output.notebook}"
        " --parameters_yaml {params.parameters:q}"
        " && python -m nbconvert --to html {output.notebook}) > {log} 2>&1"
