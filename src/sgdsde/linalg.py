"""Row-wise linear algebra whose results do not depend on the batch size.

BLAS kernels block a ``(n, d) @ (d, d)`` product differently for different n, so a path's result
could change in its last bit with the number of paths simulated together. ``einsum`` without
BLAS sums each row in a fixed order: Monte-Carlo results are then bitwise identical whatever
the chunking (tested). For the small d of the papers' toy problems an explicit sum over the
columns (also in a fixed order) is several times faster than ``einsum``.
"""

from __future__ import annotations

import numpy as np

SMALL = 8


def _column_sum(M: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``Σ_j M[..., :, j] x[..., j]``, accumulated in the order j = 0, 1, …"""
    out = M[..., :, 0] * x[..., 0, None]
    for j in range(1, x.shape[-1]):
        out = out + M[..., :, j] * x[..., j, None]
    return out


def matvec(M: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``x_i ↦ M x_i`` for every row of ``x`` (shape ``(..., d)``)."""
    return _column_sum(M, x) if x.shape[-1] <= SMALL else np.einsum("ij,...j->...i", M, x)


def batched_matvec(M: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``M_i x_i`` for matrices ``(n, m, d)`` or one shared ``(1, m, d)``, vectors ``(n, d)``."""
    return _column_sum(M, x) if x.shape[-1] <= SMALL else np.einsum("...ij,...j->...i", M, x)
