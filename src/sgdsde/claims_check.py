"""The claims manifests checked when the workflow starts, not after the whole run.

Each manifest is validated against its schema (``sgdsde.claims.load_manifests``: fields, the
``check`` kind, unique ids), and every claim must name an experiment of its paper's registry
whose ``metrics.json`` the workflow produces. Metric keys are computed by the experiments at run
time, so whether a key exists is decided by the ledger job, which names the claim.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib import import_module
from pathlib import Path

from sgdsde.claims import ClaimError, load_manifests


def measured_experiments(metrics: Iterable[str], results: str = "results") -> set[tuple[str, str]]:
    """``{(paper, experiment)}`` of ``<results>/<paper>/<experiment>/…/metrics.json`` paths."""
    return {Path(path).relative_to(results).parts[:2] for path in metrics}


def check_manifests(paths: Iterable[str], measured: set[tuple[str, str]]) -> int:
    """Raise :class:`ClaimError` naming the manifest entry at fault; the number of claims."""
    claims = load_manifests([Path(p) for p in paths])
    for c in claims:
        registry = import_module(f"sgdsde.experiments.{c['paper']}").EXPERIMENTS
        if c["experiment"] not in registry:
            raise ClaimError(
                f"claim {c['id']}: {c['paper']} has no experiment "
                f"{c['experiment']!r}; known: {', '.join(registry)}"
            )
        if (c["paper"], c["experiment"]) not in measured:
            raise ClaimError(
                f"claim {c['id']}: the workflow does not produce the metrics of "
                f"{c['paper']}.{c['experiment']}"
            )
    return len(claims)
