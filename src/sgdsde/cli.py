"""Command line: the Snakemake rules call these, and so can a user.

``python -m sgdsde run momentum_approx.E1 --config resolved.json --out results/momentum_approx/E1``
runs one experiment on a JSON config (the paper's section plus ``seed``), writing each table as
``<name>.parquet`` and ``metrics.json`` into ``--out``.

``python -m sgdsde claims --manifests config/claims/*.yaml --results results --metrics … --csv …
--tex …`` evaluates the ledger on the given ``<results>/<paper>/<experiment>/…/metrics.json``
files (those of one experiment are merged) and prints one summary line per paper.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from importlib import import_module
from pathlib import Path

import pandas as pd

from sgdsde.experiments import experiment
from sgdsde.io import read_json, read_table, write_json, write_table, write_text
from sgdsde.latex import latex_table


def _run(args: argparse.Namespace) -> None:
    paper, label = args.experiment.split(".", 1)
    cfg = json.loads(Path(args.config).read_text()) if args.config else json.loads(args.params)
    start = time.perf_counter()
    result = experiment(paper, label)(cfg, cfg["seed"])
    out = Path(args.out)
    for name, table in result.tables.items():
        write_table(out / f"{name}.parquet", table)
    write_json(out / "metrics.json", result.metrics)
    logging.info("%s done in %.1f s", args.experiment, time.perf_counter() - start)


def _custom(args: argparse.Namespace) -> None:
    from sgdsde import custom

    cfg = json.loads(args.params)
    table, fits = custom.run_study(cfg["study"], cfg["seed"], args.study)
    out = Path(args.out)
    write_table(out / "table.parquet", table)
    write_table(out / "fits.parquet", fits)
    write_table(out / "ledger.parquet", custom.ledger_rows(fits, cfg["study"]))


def load_metrics(paths: list[str], results: str) -> dict[tuple[str, str], dict]:
    """``{(paper, experiment): metrics}`` from ``<results>/<paper>/<experiment>/…/metrics.json``
    files; the files of one experiment (e.g. one per configuration) are merged."""
    metrics: dict[tuple[str, str], dict] = {}
    for path in map(Path, paths):
        paper, exp = path.relative_to(results).parts[:2]
        metrics.setdefault((paper, exp), {}).update(read_json(path))
    return metrics


def _claims(args: argparse.Namespace) -> None:
    from sgdsde import claims as ledger

    claims = ledger.load_manifests(map(Path, args.manifests))
    table = ledger.evaluate(claims, load_metrics(args.metrics, args.results))
    if args.custom:
        table = pd.concat([table, *(read_table(Path(p)) for p in args.custom)], ignore_index=True)
    write_table(Path(args.csv), table)
    write_table(Path(args.outcomes), ledger.outcome_table(table).reset_index())
    write_text(Path(args.tex), ledger.latex_macros(table))
    tex_dir = Path(args.tex).parent
    write_text(tex_dir / "claims_summary.tex", ledger.latex_summary_table(table))
    for paper in ledger.PAPERS:
        write_text(tex_dir / f"claims_{paper}.tex", ledger.latex_claims_table(table, paper))
    print("\n".join(ledger.summary(table)))


def _tables(args: argparse.Namespace) -> None:
    metrics = {exp: m for (_, exp), m in load_metrics(args.metrics, args.results).items()}
    registry = import_module(f"sgdsde.experiments.{args.paper}.tables")
    for name, (build, _) in registry.TABLES.items():
        table = build(metrics)
        write_table(Path(args.out) / f"{name}.csv", table)
        caption = f"{args.paper} {name}: {registry.CAPTIONS[name]}"
        shown = table.rename(columns=registry.LATEX_HEADERS.get(name, {}))
        tex = latex_table(shown, caption, f"tab:{args.paper}:{name}")
        write_text(Path(args.tex_dir) / f"{args.paper}_{name}.tex", tex)


def _notebook(args: argparse.Namespace) -> None:
    from sgdsde.notebooks import execute_notebook  # jupyter stack only where it is needed

    execute_notebook(Path(args.source), Path(args.output), json.loads(args.parameters))


def _provenance(args: argparse.Namespace) -> None:
    from sgdsde import provenance

    record = provenance.collect(json.loads(args.config), Path(args.repo))
    write_json(Path(args.json), record)
    write_text(Path(args.tex), provenance.latex_macros(record))


def _document(args: argparse.Namespace) -> None:
    from sgdsde import document_latex
    from sgdsde.claims import load_manifests

    files = document_latex.float_files(args.files)
    claims = [claim["id"] for claim in load_manifests(map(Path, args.manifests))]
    tex = document_latex.document_latex(
        Path(args.document).read_text(),
        Path(args.document).stem,
        papers=("methods", *args.papers),
        claims=claims,
        figures={k: v for k, v in files.items() if k.startswith("F")},
        tables={k: v for k, v in files.items() if k.startswith("T")},
    )
    write_text(Path(args.tex), tex)


def _data(args: argparse.Namespace) -> None:
    """``data <paper>.<dataset>``: the paper's ``generate(name, section, seed, out)``."""
    paper, name = args.dataset.split(".", 1)
    cfg = json.loads(args.params)
    module = import_module(f"sgdsde.experiments.{paper}.common")
    module.generate(name, cfg["dataset"], cfg["seed"], args.out)


def _summary(args: argparse.Namespace) -> None:
    from sgdsde import claims as ledger

    print("\n".join(ledger.summary(pd.read_csv(args.csv))))


def _bench(args: argparse.Namespace) -> None:
    from sgdsde import bench

    runs = dict(run.split("=", 1) for run in args.walltime)
    tables = bench.run_suite(Path(args.out), args.size, {k: Path(v) for k, v in runs.items()})
    for name, table in tables.items():
        print(f"{name}:\n{table.to_string(index=False)}\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sgdsde", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run one experiment, e.g. momentum_approx.E1")
    run.add_argument("experiment")
    source = run.add_mutually_exclusive_group(required=True)
    source.add_argument("--config", help="JSON file with the paper's config section and seed")
    source.add_argument("--params", help="the same, as a JSON string")
    run.add_argument("--out", required=True, help="output directory")
    run.set_defaults(func=_run)
    cl = sub.add_parser("claims", help="evaluate the claims ledger")
    cl.add_argument("--manifests", nargs="+", required=True, help="one YAML per paper")
    cl.add_argument("--results", required=True, help="root that the metrics paths start with")
    cl.add_argument("--metrics", nargs="+", required=True, help="metrics.json files")
    cl.add_argument("--csv", required=True)
    cl.add_argument("--tex", required=True)
    cl.add_argument("--outcomes", required=True, help="CSV of rows per paper and outcome")
    cl.add_argument("--custom", nargs="*", default=[], help="ledger.parquet of custom studies")
    cl.set_defaults(func=_claims)
    tb = sub.add_parser("tables", help="assemble a paper's tables from its metrics")
    tb.add_argument("paper")
    tb.add_argument("--results", required=True)
    tb.add_argument("--metrics", nargs="+", required=True)
    tb.add_argument("--out", required=True, help="directory for <table>.csv")
    tb.add_argument("--tex-dir", required=True, help="directory for <paper>_<table>.tex")
    tb.set_defaults(func=_tables)
    nb = sub.add_parser("notebook", help="execute a jupytext notebook with papermill, to HTML")
    nb.add_argument("source")
    nb.add_argument("output", help="the executed .ipynb (the .html is written beside it)")
    nb.add_argument("--parameters", default="{}", help="papermill parameters as JSON")
    nb.set_defaults(func=_notebook)
    pv = sub.add_parser("provenance", help="record commit, packages, platform, config")
    pv.add_argument("--config", required=True, help="the workflow config as JSON")
    pv.add_argument("--repo", default=".")
    pv.add_argument("--json", required=True)
    pv.add_argument("--tex", required=True)
    pv.set_defaults(func=_provenance)
    bn = sub.add_parser("bench", help="benchmark suite: engine, peers, coupling, wall times")
    bn.add_argument("--out", default="results/benchmarks", help="directory for <name>.csv")
    bn.add_argument("--size", choices=["toy", "full"], default="full")
    bn.add_argument(
        "--walltime",
        nargs="*",
        default=[],
        metavar="LABEL=DIR",
        help="Snakemake benchmark directories of workflow runs, e.g. quick=results/benchmarks",
    )
    bn.set_defaults(func=_bench)
    dc = sub.add_parser("document", help="a method document as a section of the report")
    dc.add_argument("document", help="docs/<paper>.md")
    dc.add_argument("--manifests", nargs="+", required=True, help="the claims it may cite")
    dc.add_argument(
        "--papers",
        nargs="+",
        required=True,
        help="the papers in the report (links to others are plain text)",
    )
    dc.add_argument("--files", nargs="*", default=[], help="the figure and table files it places")
    dc.add_argument("--tex", required=True)
    dc.set_defaults(func=_document)
    cu = sub.add_parser("custom", help="a weak-error study of a user's optimiser (docs/custom.md)")
    cu.add_argument("study", help="its name in the config's custom: section")
    cu.add_argument("--params", required=True, help='JSON {"seed": …, "study": {…}}')
    cu.add_argument("--out", required=True, help="directory for table, fits and ledger rows")
    cu.set_defaults(func=_custom)
    da = sub.add_parser("data", help="write one versioned dataset, e.g. least_squares.D1")
    da.add_argument("dataset")
    da.add_argument("--params", required=True, help='JSON {"seed": …, "dataset": {…}}')
    da.add_argument("--out", required=True, help="the .npz file")
    da.set_defaults(func=_data)
    sm = sub.add_parser("summary", help="print the per-paper summary of a claims.csv")

    sm.add_argument("csv")
    sm.set_defaults(func=_summary)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    args.func(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
