# arXiv 2509.21614: RMSprop and Adam with time step τ, their order-1 and order-2 effective
# equations in the ballistic and batch-equivalent regimes. Method: docs/adaptive_sde.md.
# Computation: sgdsde.adaptive (library) and sgdsde.experiments.adaptive_sde.


rule adaptive_sde_experiment:
    input:
        code=experiment_code("adaptive_sde"),
    output:
        table="results/adaptive_sde/{experiment}/table.parquet",
        metrics="results/adaptive_sde/{experiment}/metrics.json",
    wildcard_constraints:
        experiment="E0|E1|E2|E3|E9",
    params:
        cfg=adaptive_sde_params,
        out=subpath(output.metrics, parent=True),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../environment.yml"
    log:
        "results/logs/adaptive_sde/{experiment}.log",
    benchmark:
        "results/benchmarks/adaptive_sde/{experiment}.tsv"
    shell:
        "python -m sgdsde run adaptive_sde.{wildcards.experiment} --params {params.cfg:q}"
        " --out {params.out} > {log} 2>&1"


use rule adaptive_sde_experiment as adaptive_sde_monte_carlo with:
    output:
        table="results/adaptive_sde/{experiment}/table.parquet",
        trajectory="results/adaptive_sde/{experiment}/trajectory.parquet",
        metrics="results/adaptive_sde/{experiment}/metrics.json",
    wildcard_constraints:
        experiment="E4|E5|E6|E7|E8",
    resources:
        mem_mb=1500,
        runtime=10,


rule adaptive_sde_figures_F1_F5:
    input:
        notebook=source("notebooks/adaptive_sde_F1_F5.py"),
        code=library_sources("figures"),
        tables=adaptive_sde_results("table.parquet"),
        trajectories=adaptive_sde_results("trajectory.parquet", monte_carlo=True),
    output:
        notebook="results/notebooks/adaptive_sde_F1_F5.ipynb",
        html=reported_notebook("adaptive_sde", "F1_F5"),
        figures=reported_figures("adaptive_sde", 1, 5),
    params:
        parameters=lambda wildcards, input: notebook_parameters(
            "adaptive_sde", tables=list(input.tables), trajectories=list(input.trajectories),
            trajectory_tau=str(config["adaptive_sde"]["trajectory_tau"]),
        ),
    threads: 1
    resources:
        mem_mb=1500,
        runtime=5,
    conda:
        "../environment.yml"
    log:
        "results/logs/adaptive_sde/figures_F1_F5.log",
    benchmark:
        "results/benchmarks/adaptive_sde/figures_F1_F5.tsv"
    shell:
        "python -m sgdsde notebook {input.notebook} {output.notebook}"
        " --parameters {params.parameters:q} > {log} 2>&1"


rule adaptive_sde_tables:
    input:
        metrics=adaptive_sde_results("metrics.json"),
        code=library_sources("tables") + library_sources("latex"),
    output:
        csv=[
            report(f"results/adaptive_sde/tables/{table}.csv", category="adaptive_sde",
                   caption=f"../report/adaptive_sde/{table}.rst",
                   labels={"paper": "adaptive_sde", "table": table})
            for table in ADAPTIVE_SDE_TABLES
        ],
        tex=expand("paper/generated/adaptive_sde_{table}.tex", table=ADAPTIVE_SDE_TABLES),
    threads: 1
    resources:
        mem_mb=500,
        runtime=2,
    conda:
        "../environment.yml"
    log:
        "results/logs/adaptive_sde/tables.log",
    benchmark:
        "results/benchmarks/adaptive_sde/tables.tsv"
    shell:
        "python -m sgdsde tables adaptive_sde --results results --metrics {input.metrics}"
        " --out results/adaptive_sde/tables --tex-dir paper/generated > {log} 2>&1"
