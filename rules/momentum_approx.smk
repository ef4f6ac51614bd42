# arXiv 2504.13992: heavy ball with time-varying schedules and its ODE/SDE approximations.
# Method: docs/momentum_approx.md. Computation: sgdsde.experiments.momentum_approx.


rule momentum_approx_experiment:
    input:
        code=experiment_code("momentum_approx"),
    output:
        table="results/momentum_approx/{experiment}/table.parquet",
        metrics="results/momentum_approx/{experiment}/metrics.json",
    wildcard_constraints:
        experiment="E0|E1b|E1c|E5|E6|E7|E8",
    params:
        cfg=momentum_approx_params,
        out=subpath(output.metrics, parent=True),
    threads: 1
    resources:
        mem_mb=1000,  # measured max RSS ≤ 650 MB (E4), default config
        runtime=30,  # E2, the slowest, 7 min on a loaded 2-core machine
    conda:
        "../environment.yml"
    log:
        "results/logs/momentum_approx/{experiment}.log",
    benchmark:
        "results/benchmarks/momentum_approx/{experiment}.tsv"
    shell:
        "python -m sgdsde run momentum_approx.{wildcards.experiment} --params {params.cfg:q}"
        " --out {params.out} > {log} 2>&1"


use rule momentum_approx_experiment as momentum_approx_E2 with:
    output:
        table="results/momentum_approx/{experiment}/table.parquet",
        histogram="results/momentum_approx/{experiment}/histogram.parquet",
        moments="results/momentum_approx/{experiment}/moments.parquet",
        metrics="results/momentum_approx/{experiment}/metrics.json",
    wildcard_constraints:
        experiment="E2",


use rule momentum_approx_experiment as momentum_approx_E3 with:
    output:
        table="results/momentum_approx/{experiment}/table.parquet",
        divergence="results/momentum_approx/{experiment}/divergence.parquet",
        moments="results/momentum_approx/{experiment}/moments.parquet",
        metrics="results/momentum_approx/{experiment}/metrics.json",
    wildcard_constraints:
        experiment="E3",


use rule momentum_approx_experiment as momentum_approx_E4 with:
    output:
        table="results/momentum_approx/{experiment}/table.parquet",
        noisy="results/momentum_approx/{experiment}/noisy.parquet",
        metrics="results/momentum_approx/{experiment}/metrics.json",
    wildcard_constraints:
        experiment="E4",


rule momentum_approx_E1:
    input:
        code=experiment_code("momentum_approx", "E1"),
    output:
        table="results/momentum_approx/E1/{config}/table.parquet",
        metrics="results/momentum_approx/E1/{config}/metrics.json",
    params:
        cfg=e1_params,
        out=subpath(output.metrics, parent=True),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../environment.yml"
    log:
        "results/logs/momentum_approx/E1_{config}.log",
    benchmark:
        "results/benchmarks/momentum_approx/E1_{config}.tsv"
    shell:
        "python -m sgdsde run momentum_approx.E1 --params {params.cfg:q} --out {params.out}"
        " > {log} 2>&1"


rule momentum_approx_figures_F1_F4:
    input:
        notebook=source("notebooks/momentum_approx_F1_F4.py"),
        code=library_sources("figures"),
        tables=expand("results/momentum_approx/E1/{config}/table.parquet", config=e1_configs()),
        metrics=expand("results/momentum_approx/E1/{config}/metrics.json", config=e1_configs()),
    output:
        notebook="results/notebooks/momentum_approx_F1_F4.ipynb",
        html=reported_notebook("momentum_approx", "F1_F4"),
        figures=reported_figures("momentum_approx", 1, 4),
    params:
        parameters=lambda wildcards, input: notebook_parameters(
            "momentum_approx",
            e1_tables=list(input.tables), e1_metrics=list(input.metrics)
        ),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../environment.yml"
    log:
        "results/logs/momentum_approx/figures_F1_F4.log",
    benchmark:
        "results/benchmarks/momentum_approx/figures_F1_F4.tsv"
    shell:
        "python -m sgdsde notebook {input.notebook} {output.notebook}"
        " --parameters {params.parameters:q} > {log} 2>&1"



use rule momentum_approx_figures_F1_F4 as momentum_approx_figures_F5_F6 with:
    input:
        notebook=source("notebooks/momentum_approx_F5_F6.py"),
        code=library_sources("figures"),
        e2_table="results/momentum_approx/E2/table.parquet",
        e2_histogram="results/momentum_approx/E2/histogram.parquet",
        e3_table="results/momentum_approx/E3/table.parquet",
        e3_divergence="results/momentum_approx/E3/divergence.parquet",
    output:
        notebook="results/notebooks/momentum_approx_F5_F6.ipynb",
        html=reported_notebook("momentum_approx", "F5_F6"),
        figures=reported_figures("momentum_approx", 5, 6),
    params:
        parameters=lambda wildcards, input: notebook_parameters("momentum_approx", **input),
    log:
        "results/logs/momentum_approx/figures_F5_F6.log",
    benchmark:
        "results/benchmarks/momentum_approx/figures_F5_F6.tsv"


use rule momentum_approx_figures_F1_F4 as momentum_approx_figures_F7_F8 with:
    input:
        notebook=source("notebooks/momentum_approx_F7_F8.py"),
        code=library_sources("figures"),
        e4_table="results/momentum_approx/E4/table.parquet",
        e4_noisy="results/momentum_approx/E4/noisy.parquet",
        e0_table="results/momentum_approx/E0/table.parquet",
    output:
        notebook="results/notebooks/momentum_approx_F7_F8.ipynb",
        html=reported_notebook("momentum_approx", "F7_F8"),
        figures=reported_figures("momentum_approx", 7, 8),
    params:
        parameters=lambda wildcards, input: notebook_parameters("momentum_approx", **input),
    log:
        "results/logs/momentum_approx/figures_F7_F8.log",
    benchmark:
        "results/benchmarks/momentum_approx/figures_F7_F8.tsv"


rule momentum_approx_tables:
    input:
        metrics=momentum_approx_metrics("E1", "E1b", "E2", "E3", "E4", "E7"),
        code=library_sources("tables") + library_sources("latex"),
    output:
        csv=[
            report(f"results/momentum_approx/tables/{table}.csv", category="momentum_approx",
                   caption=f"../report/momentum_approx/{table}.rst",
                   labels={"paper": "momentum_approx", "table": table})
            for table in ("T1", "T2", "T3")
        ],
        tex=expand("paper/generated/momentum_approx_{table}.tex", table=["T1", "T2", "T3"]),
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        "../environment.yml"
    log:
        "results/logs/momentum_approx/tables.log",
    benchmark:
        "results/benchmarks/momentum_approx/tables.tsv"
    shell:
        "python -m sgdsde tables momentum_approx --results results --metrics {input.metrics}"
        " --out results/momentum_approx/tables --tex-dir paper/generated > {log} 2>&1"
