"""Guards that turn silent numerical failure into errors naming what failed."""

from __future__ import annotations

import numpy as np


class DivergenceError(RuntimeError):
    """A simulation produced non-finite or exploding values."""


def require_finite(values: np.ndarray, experiment: str, where: str) -> np.ndarray:
    """Return ``values`` unchanged, or raise naming the experiment and the step size."""
    values = np.asarray(values)
    if not np.all(np.isfinite(values)):
        bad = np.size(values) - int(np.isfinite(values).sum())
        raise DivergenceError(f"{experiment}: {bad} non-finite value(s) at {where}")
    return values
