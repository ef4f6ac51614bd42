# Helpers shared by all rules. Functions live here only (snakemake --lint).
import json
import shutil
from pathlib import Path

from sgdsde.claims import PAPERS, summary
from sgdsde.config import check_config

import pandas as pd

check_config(config)

# Jobs run `python -m sgdsde …` from the active environment (README: activate the venv, or
# conda). They import the library of this very source tree, also in the environments that
# `--use-conda` builds from environment.yml, which cannot hold an editable install.
shell.prefix(f"export PYTHONPATH={Path(workflow.basedir) / 'src'}:$PYTHONPATH; ")


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


def momentum_approx_figures(first=1, last=8):
    return paper_figures("momentum_approx", first, last)


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
    return momentum_approx_metrics("E1", *MOMENTUM_APPROX_EXPERIMENTS) + least_squares_metrics()


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
    """One claims manifest per paper: config/claims/<paper>.yaml."""
    return sorted(str(path) for path in Path(workflow.basedir, "config", "claims").glob("*.yaml"))


# Library code is a rule input, so editing it reruns what it computes (Snakemake itself only
# tracks rule code, params and inputs). Presentation modules are inputs of the rules that
# present; everything else is an input of every experiment.
PRESENTATION = {
    "plotting.py": "figures", "notebooks.py": "figures", "claims.py": "claims",
    "latex.py": "latex", "provenance.py": "provenance", "tables.py": "tables",
}  # fmt: skip


def library_sources(role="compute"):
    """Library files of one role: compute, figures, claims, latex, provenance or tables."""
    src = Path(workflow.basedir) / "src" / "sgdsde"
    return sorted(
        str(path.relative_to(workflow.basedir))
        for path in src.rglob("*.py")
        if PRESENTATION.get(path.name, "compute") == role
    )


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
           "datasets": {d: ls["datasets"][d] for d in used},
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


def least_squares_figures(first=1, last=10):
    return paper_figures("least_squares", first, last)
