# Helpers shared by all rules. Functions live here only (snakemake --lint).
import json
import os
import shutil
from pathlib import Path

from sgdsde.claims import PAPERS, summary
from sgdsde.config import check_config
from sgdsde.custom import check_study
from sgdsde.dependencies import command_sources, experiment_sources
from sgdsde.experiments import FIGURE_COUNT
from sgdsde.experiments.adaptive_sde.common import resolve_problems

import pandas as pd

check_config(config)
for _study, _entry in config.get("custom", {}).items():
    check_study(_entry, _study)
RUN_PAPERS = [paper for paper in PAPERS if paper in config["papers"]]  # in the ledger's order

# Jobs run `python -m sgdsde …` from the active environment (README: activate the venv, or
# conda). They import the library of this very source tree, also in the environments that
# `--use-conda` builds from environment.yml, which cannot hold an editable install.
shell.prefix(f"export PYTHONPATH={SOURCE / 'src'}:$PYTHONPATH; ")


def source(path):
    """A file of this source tree, relative to the working directory (``../…`` when this
    workflow is another one's module, which Snakemake then leaves unprefixed)."""
    return os.path.relpath(SOURCE / path)


def _one_e1_configuration(name):
    """``{"configs": {name: …}}``: one configuration of E1 (CFG-B or CFG-A)."""
    return {"configs": {name: config["momentum_approx"]["E1"]["configs"][name]}}


def e1_params(wildcards):
    """E1's config for one configuration, with the problem and the seed."""
    ma = config["momentum_approx"]
    cfg = {"seed": config["seed"], "problem": ma["problem"],
           "E1": {**ma["E1"], **_one_e1_configuration(wildcards.config)}}  # fmt: skip
    return json.dumps(cfg, sort_keys=True)


def momentum_approx_params(wildcards):
    """The JSON config of one momentum_approx experiment: its section, the seed, and only the
    shared parts it reads (the problem; the one E1 configuration it cross-checks).

    Passed as a param, so Snakemake reruns exactly the jobs whose config changed."""
    ma, name = config["momentum_approx"], wildcards.experiment
    cfg = {"seed": config["seed"], name: ma[name]}
    if name in ("E1c", "E5", "E6", "E7", "E8"):
        cfg["problem"] = ma["problem"]
    if name in ("E1c", "E5", "E6"):
        cfg["E1"] = _one_e1_configuration(ma[name]["config"])
    return json.dumps(cfg, sort_keys=True)


def e1_configs():
    return sorted(config["momentum_approx"]["E1"]["configs"])


def print_claims_summary(path):
    if Path(path).exists():
        print(f"\nClaims ledger ({path}):")
        for line in summary(pd.read_csv(path)):
            print(f"  {line}")


def _figure(paper, i, ext):
    return f"results/{paper}/figures/F{i}.{ext}"


def paper_figures(paper, first, last):
    """The figure files F<first>..F<last> of one paper, PDF and PNG."""
    return [_figure(paper, i, ext) for i in range(first, last + 1) for ext in ("pdf", "png")]


def momentum_approx_figures(first=1, last=FIGURE_COUNT["momentum_approx"]):
    return paper_figures("momentum_approx", first, last)


def report_files(document):
    """The figures (PDF) and generated tables that a paper's document places in the report."""
    if document not in PAPERS:
        return []
    figures = [_figure(document, i, "pdf") for i in range(1, FIGURE_COUNT[document] + 1)]
    return figures + list(getattr(rules, f"{document}_tables").output.tex)


def notebook_parameters(paper, **inputs):
    """papermill parameters: the notebook's input paths (minus the notebook and library code)
    and the paper's figure directory."""
    inputs = {k: v if isinstance(v, str) else list(v) for k, v in inputs.items()
              if k not in ("notebook", "code")}  # fmt: skip
    return json.dumps({**inputs, "figure_dir": f"results/{paper}/figures"})


MOMENTUM_APPROX_EXPERIMENTS = ["E0", "E1b", "E1c", "E2", "E3", "E4", "E5", "E6", "E7", "E8"]


def momentum_approx_metrics(*experiments):
    """metrics.json of the given experiments (E1: one per configuration)."""
    return [
        path
        for e in experiments
        for path in (
            expand("results/momentum_approx/E1/{config}/metrics.json", config=e1_configs())
            if e == "E1"
            else [f"results/momentum_approx/{e}/metrics.json"]
        )
    ]


def claims_inputs():
    """Every metrics.json the ledger reads."""
    metrics = {
        "momentum_approx": lambda: momentum_approx_metrics("E1", *MOMENTUM_APPROX_EXPERIMENTS),
        "marginal_momentum": marginal_momentum_metrics,
        "adaptive_sde": lambda: adaptive_sde_results("metrics.json"),
        "least_squares": least_squares_metrics,
    }
    return [path for paper in RUN_PAPERS for path in metrics[paper]()]


def custom_studies():
    return list(config.get("custom", {}))


def custom_module(wildcards):
    return config["custom"][wildcards.study]["module"]


def custom_code():
    root = SOURCE / "src" / "sgdsde"
    return _relative(command_sources("custom", root / "custom.py", root))


def custom_params(wildcards):
    return json.dumps({"seed": config["seed"], "study": config["custom"][wildcards.study]},
                      sort_keys=True)  # fmt: skip


def custom_targets():
    """Each study's ledger rows and figure."""
    return [path for study in custom_studies()
            for path in (f"results/custom/{study}/ledger.parquet",
                         f"results/custom/figures/{study}.png")]  # fmt: skip


def paper_targets():
    """The figures and tables of the papers that run (``papers``)."""
    targets = {
        "momentum_approx": lambda: momentum_approx_figures() + rules.momentum_approx_tables.output,
        "marginal_momentum": marginal_momentum_targets,
        "adaptive_sde": lambda: adaptive_sde_figures() + rules.adaptive_sde_tables.output,
        "least_squares": lambda: least_squares_figures() + rules.least_squares_tables.output,
    }
    return [path for paper in RUN_PAPERS for path in targets[paper]()]


TEX_INSTALL = (
    "sudo apt-get install latexmk texlive-latex-recommended texlive-fonts-recommended"
)


def report_pdf():
    """The PDF report is part of the default target when latexmk is installed."""
    return ["results/paper/reproduction.pdf"] if shutil.which("latexmk") else []


def print_tex_hint():
    if not shutil.which("latexmk"):
        print(f"No TeX: results/paper/reproduction.pdf was skipped; install with: {TEX_INSTALL}")


def reported_figures(paper, first, last):
    """Figure outputs F<first>..F<last> of one paper: PDF, and PNG flagged for
    `snakemake --report` with the caption report/<paper>/F<i>.rst."""
    outputs = []
    for i in range(first, last + 1):
        caption = f"../report/{paper}/F{i}.rst"
        labels = {"paper": paper, "figure": f"F{i}"}
        png = report(_figure(paper, i, "png"), caption=caption, category=paper, labels=labels)
        outputs += [png, _figure(paper, i, "pdf")]
    return outputs


def reported_notebook(paper, name):
    """The HTML export of an executed notebook, flagged for `snakemake --report`."""
    return report(f"results/notebooks/{paper}_{name}.html",
                  caption="../report/notebook.rst", category="notebooks",
                  labels={"paper": paper, "notebook": name})  # fmt: skip


def claims_manifests():
    """The claims manifest of each paper that runs, config/claims/<paper>.yaml (relative, so
    that a moved clone does not rerun the ledger)."""
    return [source(f"config/claims/{paper}.yaml") for paper in RUN_PAPERS]


# Snakemake deletes a job's outputs when it starts: the previous ledger is kept aside until the
# run ends (onstart, onsuccess, onerror in the Snakefile), so a failed ledger job never loses it.
LEDGER = ["results/claims.csv", "paper/generated/claims.tex"]
PREVIOUS_LEDGER = "results/.previous-ledger"


# Library code is a rule input, so editing it reruns what it computes (Snakemake itself only
# tracks rule code, params and inputs). An experiment's inputs follow its imports
# (experiment_code); presentation modules are inputs of the rules that present.
PRESENTATION = {
    "plotting.py": "figures", "notebooks.py": "figures", "claims.py": "claims",
    "latex.py": "latex", "provenance.py": "provenance", "tables.py": "tables",
    "document_latex.py": "document",
}  # fmt: skip


def _relative(paths):
    return [os.path.relpath(path) for path in paths]


def experiment_code(paper, label="{experiment}"):
    """Input function: the library files that ``<paper>.<label>`` imports (sgdsde.dependencies),
    so that an edit reruns exactly the experiments that use the edited module."""
    root = SOURCE / "src" / "sgdsde"
    return lambda wildcards: _relative(experiment_sources(paper, label.format(**wildcards), root))


def dataset_code(paper):
    """The library files of ``python -m sgdsde data <paper>.<name>``."""
    root = SOURCE / "src" / "sgdsde"
    return _relative(command_sources(paper, root / "experiments" / paper / "common.py", root))


def library_sources(role="compute"):
    """Library files of one role: compute, figures, claims, latex, provenance, tables or
    document."""
    src = SOURCE / "src" / "sgdsde"
    files = [path for path in src.rglob("*.py") if PRESENTATION.get(path.name, "compute") == role]
    return sorted(_relative(files))


# ---- marginal_momentum (arXiv 2307.15196)

MARGINAL_MOMENTUM_THEORY = ["E0", "E1", "E2", "E3", "E4a", "E4b", "E4c", "E4d", "E5", "E6"]
MARGINAL_MOMENTUM_ANALOGUES = ["E7", "E8", "E9"]
MARGINAL_MOMENTUM_TABLES = ["T1", "T2", "T3", "T4"]
_MM_READS = {"E4c": ["E4a"], "E4d": ["E4a"]}  # shared config an experiment also reads


def marginal_momentum_params(wildcards):
    """The JSON config of one marginal_momentum experiment: its section, the seed and the
    sections it also reads; passed as a param so editing a value reruns exactly its jobs."""
    mm, name = config["marginal_momentum"], wildcards.experiment
    cfg = {"seed": config["seed"], name: mm[name]}
    cfg.update({other: mm[other] for other in _MM_READS.get(name, [])})
    return json.dumps(cfg, sort_keys=True)


def _mm_runs(analogue):
    """The run-job names of one analogue: B<batch>, K<shots> or ell<ℓ>_eta<η>."""
    c = config["marginal_momentum"][analogue]
    if analogue == "E7":
        return [f"B{b}" for b in c["batch_sizes"]]
    if analogue == "E8":
        return [f"K{k}" for k in c["shots"]]
    return [f"ell{ell}_eta{eta:g}" for ell in c["ells"] for eta in c["etas"]]


def marginal_momentum_run_params(wildcards):
    """One analogue run job's config: the analogue's section, the seed and the run's value."""
    mm, analogue, run = config["marginal_momentum"], wildcards.analogue, wildcards.run
    cfg = {"seed": config["seed"], analogue: mm[analogue]}
    if analogue == "E7":
        cfg["batch_size"] = int(run.removeprefix("B"))
    elif analogue == "E8":
        cfg["shots"] = int(run.removeprefix("K"))
    else:
        ell, eta = run.removeprefix("ell").split("_eta")
        cfg.update(ell=int(ell), eta=float(eta))
    return json.dumps(cfg, sort_keys=True)


def marginal_momentum_run_tables(wildcards, name="table"):
    """The run tables an analogue aggregation reads."""
    analogue = wildcards["analogue"] if isinstance(wildcards, dict) else wildcards.analogue
    return [f"results/marginal_momentum/{analogue}_runs/{run}/{name}.parquet"
            for run in _mm_runs(analogue)]  # fmt: skip


def marginal_momentum_aggregate_params(wildcards, runs):
    """An aggregation's config: its section, the seed and the run tables to read."""
    mm = config["marginal_momentum"]
    return json.dumps({"seed": config["seed"], wildcards.analogue: mm[wildcards.analogue],
                       "inputs": list(runs)}, sort_keys=True)  # fmt: skip


def marginal_momentum_metrics():
    """metrics.json of every marginal_momentum experiment the ledger reads (E10 is not in
    the ledger: it only runs on request)."""
    return [f"results/marginal_momentum/{e}/metrics.json"
            for e in MARGINAL_MOMENTUM_THEORY + MARGINAL_MOMENTUM_ANALOGUES]  # fmt: skip


def marginal_momentum_targets():
    """The default targets of this paper: figures, tables and (if enabled) the E10 scale-up."""
    targets = paper_figures("marginal_momentum", 1, FIGURE_COUNT["marginal_momentum"]) + [
        f"results/marginal_momentum/tables/{t}.csv" for t in MARGINAL_MOMENTUM_TABLES
    ]
    if config["marginal_momentum"]["E10"]["enabled"]:
        targets.append("results/marginal_momentum/E10/metrics.json")
    return targets


# ---- bench (issue 7: the benchmark suite, rules/bench.smk)

PRESENTATION["bench.py"] = "bench"  # benchmarks only: editing them reruns no experiment


def bench_run_label(wildcards=None):
    """The run whose benchmark: files `snakemake bench` reads: the last config file's name
    (`quick` for config/quick.yaml, `default` for config/config.yaml)."""
    stem = Path(workflow.configfiles[-1]).stem if workflow.configfiles else "config"
    return "default" if stem == "config" else stem


# ---- adaptive_sde (arXiv 2509.21614)
ADAPTIVE_SDE_EXPERIMENTS = ["E0", "E1", "E2", "E3", "E4", "E5", "E6", "E7", "E8", "E9"]
ADAPTIVE_SDE_MONTE_CARLO = ["E4", "E5", "E6", "E7", "E8"]
ADAPTIVE_SDE_TABLES = ["T1", "T2", "T3"]


def adaptive_sde_params(wildcards):
    """The JSON config of one adaptive_sde experiment: its section with its named problem(s)
    resolved, and the seed (so editing a problem reruns exactly the jobs that read it)."""
    a, name = config["adaptive_sde"], wildcards.experiment
    cfg = {"seed": config["seed"], name: resolve_problems(a[name], a["problems"])}
    return json.dumps(cfg, sort_keys=True)


def adaptive_sde_results(filename, monte_carlo=False):
    """``results/adaptive_sde/<E>/<filename>`` of every (or every Monte-Carlo) experiment."""
    names = ADAPTIVE_SDE_MONTE_CARLO if monte_carlo else ADAPTIVE_SDE_EXPERIMENTS
    return [f"results/adaptive_sde/{e}/{filename}" for e in names]


def adaptive_sde_figures():
    return paper_figures("adaptive_sde", 1, FIGURE_COUNT["adaptive_sde"])


# ---- least_squares
LEAST_SQUARES_EXPERIMENTS = ["E1", "E2", "E3", "E4", "E5", "E6", "E7", "E8", "E9", "E10"]


def _least_squares_datasets(experiment):
    """The datasets one experiment reads: every dataset name in its config section."""
    ls = config["least_squares"]
    names = set(ls["datasets"])
    found = set()

    def walk(value):
        if isinstance(value, str) and value in names:
            found.add(value)
        elif isinstance(value, list):
            for v in value:
                walk(v)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)

    walk(ls[experiment])
    return sorted(found)


def least_squares_data_inputs(wildcards):
    return [f"results/least_squares/data/{name}.npz"
            for name in _least_squares_datasets(wildcards.experiment)]  # fmt: skip


def least_squares_dataset_params(wildcards):
    """One dataset's section and the seed (its hash goes into the file's metadata)."""
    ls = config["least_squares"]
    return json.dumps({"seed": config["seed"], "dataset": ls["datasets"][wildcards.dataset]},
                      sort_keys=True)  # fmt: skip


def least_squares_params(wildcards):
    """One experiment's section, the seed, the noise variants, and only the datasets it reads
    (their sections, to check the files' hashes, and their paths)."""
    ls, name = config["least_squares"], wildcards.experiment
    used = _least_squares_datasets(name)
    cfg = {"seed": config["seed"], "noise_variants": ls["noise_variants"], name: ls[name],
           "monte_carlo": ls["monte_carlo"], "datasets": {d: ls["datasets"][d] for d in used},
           "data": {d: f"results/least_squares/data/{d}.npz" for d in used}}  # fmt: skip
    return json.dumps(cfg, sort_keys=True)


def least_squares_metrics():
    return [f"results/least_squares/{e}/metrics.json" for e in LEAST_SQUARES_EXPERIMENTS]


LEAST_SQUARES_FIGURE_TABLES = {
    "E1": ["table"], "E2": ["table"], "E3": ["table"], "E4": ["table"], "E5": ["table", "mc"],
    "E6": ["table", "survival", "alpha_curve", "moments"], "E7": ["table"], "E8": ["table"],
    "E9": ["histogram"],
}  # fmt: skip


def least_squares_figure_tables():
    """The parquet tables the figure notebook reads."""
    return [f"results/least_squares/{e}/{name}.parquet"
            for e, names in LEAST_SQUARES_FIGURE_TABLES.items() for name in names]  # fmt: skip


def least_squares_figures(first=1, last=FIGURE_COUNT["least_squares"]):
    return paper_figures("least_squares", first, last)
