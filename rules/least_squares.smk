# arXiv 2407.02322: SDE models of least-squares SGD. Method: docs/least_squares.md.
# Computation: sgdsde.experiments.least_squares; datasets: sgdsde.least_squares.


rule least_squares_data:
    input:
        code=dataset_code("least_squares"),
    output:
        data="results/least_squares/data/{dataset}.npz",
    params:
        cfg=least_squares_dataset_params,
    resources:
        mem_mb=500,
        runtime=2,
    threads: 1
    conda:
        "../environment.yml"
    log:
        "results/logs/least_squares/data_{dataset}.log",
    benchmark:
        "results/benchmarks/least_squares/data_{dataset}.tsv"
    shell:
        "python -m sgdsde data least_squares.{wildcards.dataset} --params {params.cfg:q}"
        " --out {output.data} > {log} 2>&1"


rule least_squares_experiment:
    input:
        code=experiment_code("least_squares"),
        data=least_squares_data_inputs,
    output:
        table="results/least_squares/{experiment}/table.parquet",
        metrics="results/least_squares/{experiment}/metrics.json",
    wildcard_constraints:
        experiment="E2|E3|E4|E7|E8|E10",
    params:
        cfg=least_squares_params,
        out=subpath(output.metrics, parent=True),
    resources:
        mem_mb=3000,
        runtime=10,
    threads: 1
    conda:
        "../environment.yml"
    log:
        "results/logs/least_squares/{experiment}.log",
    benchmark:
        "results/benchmarks/least_squares/{experiment}.tsv"
    shell:
        "python -m sgdsde run least_squares.{wildcards.experiment} --params {params.cfg:q}"
        " --out {params.out} > {log} 2>&1"


use rule least_squares_experiment as least_squares_E1 with:
    output:
        table="results/least_squares/{experiment}/table.parquet",
        rates="results/least_squares/{experiment}/rates.parquet",
        metrics="results/least_squares/{experiment}/metrics.json",
    wildcard_constraints:
        experiment="E1",


use rule least_squares_experiment as least_squares_E5 with:
    output:
        table="results/least_squares/{experiment}/table.parquet",
        mc="results/least_squares/{experiment}/mc.parquet",
        metrics="results/least_squares/{experiment}/metrics.json",
    wildcard_constraints:
        experiment="E5",


use rule least_squares_experiment as least_squares_E6 with:
    output:
        table="results/least_squares/{experiment}/table.parquet",
        survival="results/least_squares/{experiment}/survival.parquet",
        alpha_curve="results/least_squares/{experiment}/alpha_curve.parquet",
        moments="results/least_squares/{experiment}/moments.parquet",
        metrics="results/least_squares/{experiment}/metrics.json",
    wildcard_constraints:
        experiment="E6",


use rule least_squares_experiment as least_squares_E9 with:
    output:
        table="results/least_squares/{experiment}/table.parquet",
        histogram="results/least_squares/{experiment}/histogram.parquet",
        kesten="results/least_squares/{experiment}/kesten.parquet",
        metrics="results/least_squares/{experiment}/metrics.json",
    wildcard_constraints:
        experiment="E9",


rule least_squares_figures_F1_F10:
    input:
        notebook=source("notebooks/least_squares_F1_F10.py"),
        code=library_sources("figures"),
        tables=least_squares_figure_tables(),
        metrics=least_squares_metrics(),
    output:
        notebook="results/notebooks/least_squares_F1_F10.ipynb",
        html=reported_notebook("least_squares", "F1_F10"),
        figures=reported_figures("least_squares", 1, 10),
    params:
        parameters=lambda wildcards, input: notebook_parameters(
            "least_squares", results="results/least_squares"
        ),
    resources:
        mem_mb=1500,
        runtime=5,
    threads: 1
    conda:
        "../environment.yml"
    log:
        "results/logs/least_squares/figures_F1_F10.log",
    benchmark:
        "results/benchmarks/least_squares/figures_F1_F10.tsv"
    shell:
        "python -m sgdsde notebook {input.notebook} {output.notebook}"
        " --parameters {params.parameters:q} > {log} 2>&1"


rule least_squares_tables:
    input:
        metrics=least_squares_metrics(),
        code=library_sources("tables") + library_sources("latex"),
    output:
        csv=[
            report(f"results/least_squares/tables/{table}.csv", category="least_squares",
                   caption=f"../report/least_squares/{table}.rst",
                   labels={"paper": "least_squares", "table": table})
            for table in ("T1", "T2", "T3")
        ],
        tex=expand("paper/generated/least_squares_{table}.tex", table=["T1", "T2", "T3"]),
    resources:
        mem_mb=500,
        runtime=2,
    threads: 1
    conda:
        "../environment.yml"
    log:
        "results/logs/least_squares/tables.log",
    benchmark:
        "results/benchmarks/least_squares/tables.tsv"
    shell:
        "python -m sgdsde tables least_squares --results results --metrics {input.metrics}"
        " --out results/least_squares/tables --tex-dir paper/generated > {log} 2>&1"
