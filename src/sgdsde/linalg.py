"""Row-wise linear algebra whose results do not depend on the batch size.

BLAS kernels block a ``(n, d) @ (d, d)`` product differently for different n, so a path's result
could change in its last bit with the number of paths simulated together. ``einsum`` without
BLAS sums each row in a fixed order: Monte-Carlo results are then bitwise identical whatever
the chunking (tested), at a small cost for d ≤ 10.
"""

from __future__ import annotations

import numpy as np


def matvec(M: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``x_i ↦ M x_i`` for every row of ``x`` (shape ``(..., d)``)."""
    return np.einsum("ij,...j->...i", M, x)


def batched_matvec(M: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``M_i x_i`` for a batch of matrices ``(n, m, d)`` and vectors ``(n, d)``."""
    return np.einsum("nij,nj->ni", M, x)
