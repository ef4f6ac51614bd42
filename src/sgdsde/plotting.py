"""Figure helpers shared by the notebooks (which only load tables and call these)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

APPROXIMATION_LABELS = {
    "ode": "ODE",
    "sde1": "SDE1",
    "sde2": "SDE2",
    "sde2_noshift": "SDE2, no initial shift",
}


def _reference_line(ax, h: np.ndarray, anchor: float, order: int) -> None:
    """A dashed ``∝ h^order`` guide through ``anchor``/3 at the smallest h, labelled there."""
    ax.plot(h, anchor / 3 * (h / h.min()) ** order, ls="--", c="0.6", lw=1, zorder=0)
    ax.annotate(f"∝ h{'²' if order == 2 else ''}", (h.min(), anchor / 3), fontsize=8,
                color="0.4", ha="left", va="top")  # fmt: skip


def weak_error_panels(table: pd.DataFrame, error: str = "error", title: str = "") -> plt.Figure:
    """|error| against h on log-log axes, one panel per test function, one line per model.

    ``table`` has columns ``h``, ``test_function``, ``approximation`` and ``error``.
    """
    data = table.assign(abs_error=table[error].abs(),
                        model=table["approximation"].map(APPROXIMATION_LABELS))  # fmt: skip
    grid = sns.relplot(data=data, x="h", y="abs_error", hue="model", style="model",
                       col="test_function", kind="line", markers=True, dashes=False,
                       height=3.0, aspect=1.1, facet_kws={"sharey": False})  # fmt: skip
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


def save_figure(fig: plt.Figure, directory: str | Path, name: str) -> None:
    """Save as ``<name>.pdf`` and ``<name>.png`` (200 dpi)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for ext in ("pdf", "png"):
        fig.savefig(directory / f"{name}.{ext}", bbox_inches="tight", dpi=200)
