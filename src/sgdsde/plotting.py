"""Figure helpers shared by the notebooks (which only load tables and call these)."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from sgdsde.io import atomic_write

APPROXIMATION_LABELS = {
    "ode": "ODE",
    "sde1": "SDE1",
    "sde2": "SDE2",
    "sde2_noshift": "SDE2, no initial shift",
}


def _reference_line(ax, h: np.ndarray, anchor: float, order: int) -> None:
    """A dashed ``∝ h^order`` guide through ``anchor``/3 at the smallest h, labelled there."""
    ax.plot(h, anchor / 3 * (h / h.min()) ** order, ls="--", c="0.6", lw=1, zorder=0)
    ax.annotate(
        f"∝ h{'²' if order == 2 else ''}",
        (h.min(), anchor / 3),
        fontsize=8,
        color="0.4",
        ha="left",
        va="top",
    )


def weak_error_panels(table: pd.DataFrame, error: str = "error", title: str = "") -> plt.Figure:
    """|error| against h on log-log axes, one panel per test function, one line per model.

    ``table`` has columns ``h``, ``test_function``, ``approximation`` and ``error``.
    """
    data = table.assign(
        abs_error=table[error].abs(), model=table["approximation"].map(APPROXIMATION_LABELS)
    )
    grid = sns.relplot(
        data=data,
        x="h",
        y="abs_error",
        hue="model",
        style="model",
        col="test_function",
        kind="line",
        markers=True,
        dashes=False,
        height=3.0,
        aspect=1.1,
        facet_kws={"sharey": False},
    )
    for g_name, ax in grid.axes_dict.items():
        ax.set(xscale="log", yscale="log", xlabel="step size h", ylabel=f"|{error}|")
        ax.set_title(g_name)
        panel = data[data["test_function"] == g_name]
        h = np.sort(panel["h"].unique())
        smallest = panel[panel["h"] == h.min()]
        first = smallest[smallest["approximation"].isin(["ode", "sde1"])]["abs_error"]
        second = smallest[smallest["approximation"] == "sde2"]["abs_error"]
        if len(first):
            _reference_line(ax, h, float(first.median()), 1)
        if len(second):
            _reference_line(ax, h, float(second.median()), 2)
    grid.figure.suptitle(title, y=1.03)
    return grid.figure


def custom_study_figure(table: pd.DataFrame, fits: pd.DataFrame) -> plt.Figure:
    """A weak-error study (docs/custom.md): |error| against h with 95 % bars, one panel per test
    function and one line per model, each labelled with its fitted order [CI] and the status of
    its claimed order, with a dashed ``∝ h^p`` guide per claimed order p."""
    tests = list(dict.fromkeys(table["test_function"]))
    fig, axes = plt.subplots(
        1, len(tests), figsize=(4.2 * len(tests), 3.6), layout="constrained", squeeze=False
    )
    fit = fits.set_index(["model", "test_function"])
    for ax, g in zip(axes[0], tests, strict=True):
        panel = table[table["test_function"] == g]
        for model, rows in panel.groupby("model", sort=False):
            f = fit.loc[(model, g)]
            label = (
                f"{model}: {f['order']:.2f} [{f['ci_low']:.2f}, {f['ci_high']:.2f}], "
                f"claims {f['claimed_order']} → {f['status']}"
            )
            ax.errorbar(
                rows["h"],
                rows["error"].abs(),
                yerr=1.96 * rows["se"],
                marker="o",
                capsize=3,
                label=label,
            )
        h = np.sort(panel["h"].unique())
        claimed = fits.set_index("model")["claimed_order"].groupby(level=0).first()
        for order in sorted(set(claimed.dropna().astype(int))):
            models = claimed.index[claimed == order]
            smallest = panel[(panel["h"] == h.min()) & panel["model"].isin(models)]["error"]
            _reference_line(ax, h, float(smallest.abs().min()), order)
        ax.set(xscale="log", yscale="log", xlabel="step size h", ylabel="|weak error|", title=g)
        ax.set_xticks(h, [f"$2^{{{round(np.log2(x))}}}$" for x in h])
        ax.minorticks_off()
        ax.legend(fontsize=7)
    return fig


def save_figure(fig: plt.Figure, directory: str | Path, name: str) -> None:
    """Save as ``<name>.pdf`` and ``<name>.png`` (200 dpi), each atomically and without a
    creation date, so that the same figure gives the same bytes."""
    for ext, metadata in (("pdf", {"CreationDate": None}), ("png", {})):
        atomic_write(
            Path(directory) / f"{name}.{ext}",
            lambda p, m=metadata: fig.savefig(p, bbox_inches="tight", dpi=200, metadata=m),
        )


# ---- benchmark suite (issue 7)


def benchmark_figure(tables: dict[str, pd.DataFrame]) -> plt.Figure:
    """The benchmark suite in one figure: engine / Gaussian-fill bound against d (target 0.6),
    peer throughputs on the OU SDE, their means of X_T with 95 % intervals against the exact
    mean, paths needed with and without coupling, and the workflow wall times."""
    fig, axes = plt.subplots(2, 3, figsize=(13, 7.5), layout="constrained")
    engine, peers, vr = tables["engine"], tables["peers"], tables["variance_reduction"]
    ax = axes[0, 0]
    sns.lineplot(
        data=engine, x="d", y="ratio", hue="case", style="case", markers=True, dashes=False, ax=ax
    )
    ax.axhline(0.6, ls="--", c="0.5", lw=1)
    ax.annotate("target 0.6 (d = 10)", (1, 0.6), fontsize=8, color="0.4", va="bottom")
    ax.set(
        xscale="log",
        ylim=(0, 1.05),
        xlabel="dimension d",
        ylabel="engine / bound",
        title="engine throughput / Gaussian-fill bound",
    )
    ax.legend(fontsize=7, title=None)
    ax = axes[0, 1]
    sns.lineplot(
        data=peers,
        x="d",
        y="path_steps_per_s",
        hue="solver",
        style="solver",
        markers=True,
        dashes=False,
        ax=ax,
    )
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="dimension d",
        ylabel="path-steps / s",
        title="Ornstein–Uhlenbeck, Euler: throughput",
    )
    ax.legend(fontsize=8, title=None)
    ax = axes[0, 2]
    for i, (solver, group) in enumerate(peers.groupby("solver", sort=False)):
        x = np.arange(len(group)) + (i - 1) * 0.2
        ax.errorbar(
            x, group["mean"], yerr=1.96 * group["mean_se"], fmt="o", capsize=3, label=solver
        )
    exact = peers.groupby("d", sort=False)["euler_mean"].first()
    ax.scatter(
        np.arange(len(exact)), exact, marker="_", s=400, c="k", label="Euler's exact mean", zorder=3
    )
    ax.set_xticks(np.arange(len(exact)), [f"d = {d}" for d in exact.index])
    ax.set(ylabel="mean of X_T (95 % interval)", title="OU: means of the solvers")
    ax.legend(fontsize=8)
    ax = axes[1, 0]
    labels = ["coupled" if c else "independent" for c in vr["coupled"]]
    ax.bar(labels, vr["paths_needed"], color=["C0", "C3"])
    ax.set(
        yscale="log",
        ylabel="paths for SE ≤ |error|/4",
        title=f"SDE2 weak error at h = 2^-6: variance reduction "
        f"{vr['variance_reduction'].max():.0f}×",
    )
    for x, v in enumerate(vr["paths_needed"]):
        ax.annotate(f"{v:,}", (x, v), ha="center", va="bottom", fontsize=9)
    ax = axes[1, 1]
    speed = peers[peers["solver"] != "sgdsde"]
    sns.barplot(data=speed, x="d", y="speedup_of_sgdsde", hue="solver", ax=ax)
    for target, solver in ((5, "torchsde"), (40, "sdeint")):
        ax.axhline(target, ls="--", lw=1, c="0.5")
        ax.annotate(
            f"target {target}× ({solver})",
            (1.0, target),
            xycoords=("axes fraction", "data"),
            fontsize=8,
            color="0.3",
            ha="right",
            va="bottom",
            zorder=5,
            bbox={"fc": "white", "ec": "none", "alpha": 0.8, "pad": 1},
        )
    ax.set(
        yscale="log",
        xlabel="dimension d",
        ylabel="time of peer / time of sgdsde",
        title="speed-up of sgdsde over the peers",
    )
    ax.legend(fontsize=8, title=None)
    ax = axes[1, 2]
    wall = tables.get("walltime")
    if wall is not None and len(wall):
        ax.bar(wall["run"], wall["span_seconds"] / 60, color="C2", label="span (wall)")
        ax.scatter(
            wall["run"],
            wall["job_seconds"] / 60,
            c="k",
            marker="D",
            zorder=3,
            label="sum of job times",
        )
        ax.set(ylabel="minutes", title="workflow runs (benchmark: files)")
        ax.legend(fontsize=8)
    else:
        ax.text(0.5, 0.5, "no workflow run given", ha="center", va="center")
        ax.set_axis_off()
    load = np.mean([t["load"].mean() for t in tables.values()])
    fig.suptitle(f"sgdsde benchmark suite (mean 1-min load {load:.1f} on {os.cpu_count()} CPUs)")
    return fig
