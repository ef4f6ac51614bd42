"""Command line: the Snakemake rules call these, and so can a user.

``python -m sgdsde run momentum_approx.E1 --config resolved.json --out results/momentum_approx/E1``
runs one experiment on a JSON config (the paper's section plus ``seed``), writing each table as
``<name>.parquet`` and ``metrics.json`` into ``--out``.

``python -m sgdsde claims --manifest config/claims.yaml --results results --metrics … --csv …
--tex …`` evaluates the ledger on the given ``<results>/<paper>/<experiment>/…/metrics.json``
files (those of one experiment are merged) and prints one summary line per paper.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import pandas as pd

from sgdsde import claims as ledger
from sgdsde.experiments import experiment
from sgdsde.io import write_json, write_table, write_text


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


def _claims(args: argparse.Namespace) -> None:
    claims = ledger.load_manifest(Path(args.manifest))
    metrics: dict[tuple[str, str], dict] = {}
    for path in map(Path, args.metrics):
        paper, exp = path.relative_to(args.results).parts[:2]  # <results>/<paper>/<exp>/…
        metrics.setdefault((paper, exp), {}).update(json.loads(path.read_text()))
    table = ledger.evaluate(claims, metrics)
    write_table(Path(args.csv), table)
    write_text(Path(args.tex), ledger.latex_macros(table))
    print("\n".join(ledger.summary(table)))


def _summary(args: argparse.Namespace) -> None:
    print("\n".join(ledger.summary(pd.read_csv(args.csv))))


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
    cl.add_argument("--manifest", required=True)
    cl.add_argument("--results", required=True, help="root that the metrics paths start with")
    cl.add_argument("--metrics", nargs="+", required=True, help="metrics.json files")
    cl.add_argument("--csv", required=True)
    cl.add_argument("--tex", required=True)
    cl.set_defaults(func=_claims)
    sm = sub.add_parser("summary", help="print the per-paper summary of a claims.csv")
    sm.add_argument("csv")
    sm.set_defaults(func=_summary)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    args.func(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
