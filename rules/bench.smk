# The benchmark suite (issue 7; not part of `all`): `snakemake bench`. Computation:
# sgdsde.bench. Reads the benchmark: files of the run it follows (labelled by the config).


rule bench:
    input:
        done=rules.all.input,
        code=library_sources() + library_sources("bench") + library_sources("figures"),
    output:
        csv=report(expand("results/benchmarks/{name}.csv",
                          name=["engine", "peers", "variance_reduction", "walltime", "targets"]),
                   caption="../report/bench.rst", category="benchmarks"),  # fmt: skip
        figure=report("results/benchmarks/bench.png", caption="../report/bench.rst",
                      category="benchmarks"),  # fmt: skip
        pdf="results/benchmarks/bench.pdf",
    params:
        run=bench_run_label,
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    conda:
        "../environment.yml"
    log:
        "results/logs/bench.log",
    benchmark:
        "results/benchmarks/bench/bench.tsv"
    shell:
        "python -m sgdsde bench --out results/benchmarks --size full"
        " --walltime {params.run}=results/benchmarks > {log} 2>&1"
