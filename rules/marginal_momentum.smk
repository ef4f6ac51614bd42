# arXiv 2307.15196: the marginal value of momentum for small learning rate SGD.
# Method: docs/marginal_momentum.md. Computation: sgdsde.experiments.marginal_momentum.
# E0–E6 check the theory (exact where a closed form exists); E7–E9 are CPU analogues of
# Figure 1, Table 1 and Figure 2 (digits, PyTorch, one thread per job), each split into run
# jobs (one per batch size / shot count / (ℓ, η)) and an aggregation; E10 is the CIFAR-10
# scale-up, only scheduled when marginal_momentum.E10.enabled is true.


rule marginal_momentum_experiment:
    input:
        code=experiment_code("marginal_momentum"),
    output:
        table="results/marginal_momentum/{experiment}/table.parquet",
        metrics="results/marginal_momentum/{experiment}/metrics.json",
    wildcard_constraints:
        experiment="E1|E2|E3|E4a|E4b|E4c|E4d|E6|E10",
    params:
        cfg=marginal_momentum_params,
        out=subpath(output.metrics, parent=True),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../environment.yml"
    log:
        "results/logs/marginal_momentum/{experiment}.log",
    benchmark:
        "results/benchmarks/marginal_momentum/{experiment}.tsv"
    shell:
        "OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python -m sgdsde run"
        " marginal_momentum.{wildcards.experiment} --params {params.cfg:q}"
        " --out {params.out} > {log} 2>&1"


use rule marginal_momentum_experiment as marginal_momentum_E0 with:
    output:
        table="results/marginal_momentum/{experiment}/table.parquet",
        curve="results/marginal_momentum/{experiment}/curve.parquet",
        step_curve="results/marginal_momentum/{experiment}/step_curve.parquet",
        metrics="results/marginal_momentum/{experiment}/metrics.json",
    wildcard_constraints:
        experiment="E0",


use rule marginal_momentum_experiment as marginal_momentum_E5 with:
    output:
        table="results/marginal_momentum/{experiment}/table.parquet",
        w1="results/marginal_momentum/{experiment}/w1.parquet",
        metrics="results/marginal_momentum/{experiment}/metrics.json",
    wildcard_constraints:
        experiment="E5",


rule marginal_momentum_analogue_run:
    input:
        code=experiment_code("marginal_momentum", "{analogue}_run"),
    output:
        table="results/marginal_momentum/{analogue}_runs/{run}/table.parquet",
        metrics="results/marginal_momentum/{analogue}_runs/{run}/metrics.json",
    wildcard_constraints:
        analogue="E7|E8",
    params:
        cfg=marginal_momentum_run_params,
        out=subpath(output.metrics, parent=True),
    threads: 1
    resources:
        mem_mb=1500,
        runtime=10,
    conda:
        "../environment.yml"
    log:
        "results/logs/marginal_momentum/{analogue}_run_{run}.log",
    benchmark:
        "results/benchmarks/marginal_momentum/{analogue}_run_{run}.tsv"
    shell:
        "OMP_NUM_THREADS=1 python -m sgdsde run marginal_momentum.{wildcards.analogue}_run"
        " --params {params.cfg:q} --out {params.out} > {log} 2>&1"


use rule marginal_momentum_analogue_run as marginal_momentum_E9_run with:
    output:
        table="results/marginal_momentum/{analogue}_runs/{run}/table.parquet",
        curves="results/marginal_momentum/{analogue}_runs/{run}/curves.parquet",
        metrics="results/marginal_momentum/{analogue}_runs/{run}/metrics.json",
    wildcard_constraints:
        analogue="E9",


rule marginal_momentum_analogue:
    input:
        runs=marginal_momentum_run_tables,
        code=experiment_code("marginal_momentum", "{analogue}"),
    output:
        table="results/marginal_momentum/{analogue}/table.parquet",
        summary="results/marginal_momentum/{analogue}/summary.parquet",
        metrics="results/marginal_momentum/{analogue}/metrics.json",
    wildcard_constraints:
        analogue="E7|E8|E9",
    params:
        cfg=lambda wildcards, input: marginal_momentum_aggregate_params(wildcards, input.runs),
        out=subpath(output.metrics, parent=True),
    threads: 1
    resources:
        mem_mb=500,
        runtime=2,
    conda:
        "../environment.yml"
    log:
        "results/logs/marginal_momentum/{analogue}.log",
    benchmark:
        "results/benchmarks/marginal_momentum/{analogue}.tsv"
    shell:
        "python -m sgdsde run marginal_momentum.{wildcards.analogue} --params {params.cfg:q}"
        " --out {params.out} > {log} 2>&1"


rule marginal_momentum_figures_F1_F4:
    input:
        notebook=source("notebooks/marginal_momentum_F1_F4.py"),
        code=library_sources("figures"),
        e0_table="results/marginal_momentum/E0/table.parquet",
        e0_curve="results/marginal_momentum/E0/curve.parquet",
        e0_step_curve="results/marginal_momentum/E0/step_curve.parquet",
        e4a_table="results/marginal_momentum/E4a/table.parquet",
        e4b_table="results/marginal_momentum/E4b/table.parquet",
        e4c_table="results/marginal_momentum/E4c/table.parquet",
        e4d_table="results/marginal_momentum/E4d/table.parquet",
        e5_table="results/marginal_momentum/E5/table.parquet",
        e5_w1="results/marginal_momentum/E5/w1.parquet",
    output:
        notebook="results/notebooks/marginal_momentum_F1_F4.ipynb",
        html=reported_notebook("marginal_momentum", "F1_F4"),
        figures=reported_figures("marginal_momentum", 1, 4),
    params:
        parameters=lambda wildcards, input: notebook_parameters("marginal_momentum", **input),
    threads: 1
    resources:
        mem_mb=1500,
        runtime=5,
    conda:
        "../environment.yml"
    log:
        "results/logs/marginal_momentum/figures_F1_F4.log",
    benchmark:
        "results/benchmarks/marginal_momentum/figures_F1_F4.tsv"
    shell:
        "python -m sgdsde notebook {input.notebook} {output.notebook}"
        " --parameters {params.parameters:q} > {log} 2>&1"


use rule marginal_momentum_figures_F1_F4 as marginal_momentum_figures_F5_F6 with:
    input:
        notebook=source("notebooks/marginal_momentum_F5_F6.py"),
        code=library_sources("figures"),
        e7_summary="results/marginal_momentum/E7/summary.parquet",
        e7_table="results/marginal_momentum/E7/table.parquet",
        e9_summary="results/marginal_momentum/E9/summary.parquet",
        e9_curves=marginal_momentum_run_tables({"analogue": "E9"}, "curves"),
    output:
        notebook="results/notebooks/marginal_momentum_F5_F6.ipynb",
        html=reported_notebook("marginal_momentum", "F5_F6"),
        figures=reported_figures("marginal_momentum", 5, 6),
    params:
        parameters=lambda wildcards, input: notebook_parameters("marginal_momentum", **input),
    log:
        "results/logs/marginal_momentum/figures_F5_F6.log",
    benchmark:
        "results/benchmarks/marginal_momentum/figures_F5_F6.tsv"


rule marginal_momentum_tables:
    input:
        metrics=marginal_momentum_metrics(),
        code=library_sources("tables") + library_sources("latex"),
    output:
        csv=[
            report(f"results/marginal_momentum/tables/{table}.csv", category="marginal_momentum",
                   caption=f"../report/marginal_momentum/{table}.rst",
                   labels={"paper": "marginal_momentum", "table": table})
            for table in MARGINAL_MOMENTUM_TABLES
        ],
        tex=expand("paper/generated/marginal_momentum_{table}.tex",
                   table=MARGINAL_MOMENTUM_TABLES),
    threads: 1
    resources:
        mem_mb=500,
        runtime=2,
    conda:
        "../environment.yml"
    log:
        "results/logs/marginal_momentum/tables.log",
    benchmark:
        "results/benchmarks/marginal_momentum/tables.tsv"
    shell:
        "python -m sgdsde tables marginal_momentum --results results --metrics {input.metrics}"
        " --out results/marginal_momentum/tables --tex-dir paper/generated > {log} 2>&1"
