"""How every process that uses PyTorch sets it up (docs/marginal_momentum.md#pitfalls N1, N7).

Its own module, so that the experiments that only check PyTorch's conventions do not depend on
the networks of :mod:`sgdsde.nets`.
"""

from __future__ import annotations


def torch_setup(seed: int) -> None:
    """One intra-op thread (on 2 cores a second thread made a small MLP step 18× slower) and a
    seeded global generator."""
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(seed)
