"""Small PyTorch networks and hand-written optimisers for the CPU analogues of arXiv 2307.15196
(docs/marginal_momentum.md#experiments): digits MLPs, SGD and SGDM in form (3), SVAG, a step/warm-up
learning-rate schedule, and the CIFAR-10 python-pickle loader and ResNet-32 of the scale-up path.

Every process calls :func:`sgdsde.torch_runtime.torch_setup` (one thread, pitfall N1 of
docs/marginal_momentum.md#pitfalls). Batches come from a ``torch.Generator`` per seed, consumed
identically by SGD and SGDM (common batch order, pitfall 5).
"""

from __future__ import annotations

import itertools
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from sgdsde.momentum_forms import svag_coefficients


@dataclass(frozen=True)
class Dataset:
    """Standardised features and integer labels: train / validation / test tensors."""

    X_train: torch.Tensor
    y_train: torch.Tensor
    X_val: torch.Tensor
    y_val: torch.Tensor
    X_test: torch.Tensor
    y_test: torch.Tensor


def standardise(train: np.ndarray, *others: np.ndarray) -> list[np.ndarray]:
    """``(a − mean)/sd`` with the statistics of ``train`` applied to every array."""
    mean, sd = train.mean(axis=0), train.std(axis=0)
    sd = np.where(sd > 1e-6, sd, 1.0)  # pixels constant on the training set stay unscaled
    return [(a - mean) / sd for a in (train, *others)]


def digits_split(test_size: int = 497, val_size: int = 200, random_state: int = 0) -> Dataset:
    """scikit-learn's 8×8 digits (ships with the package, no download): X/16, stratified
    train/test split (docs/marginal_momentum.md#experiments), ``val_size`` training images held out
    for LR selection."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, test_size=test_size, stratify=y, random_state=random_state
    )
    X_tr, X_va, y_tr, y_va = train_test_split(
        X_tr, y_tr, test_size=val_size, stratify=y_tr, random_state=random_state
    )
    X_tr, X_va, X_te = standardise(X_tr, X_va, X_te)
    f, i = torch.float32, torch.long
    return Dataset(
        *(
            torch.as_tensor(a, dtype=t)
            for a, t in ((X_tr, f), (y_tr, i), (X_va, f), (y_va, i), (X_te, f), (y_te, i))
        )
    )


def mlp(widths: list[int], n_out: int, seed: int) -> nn.Sequential:
    """ReLU MLP ``widths[0] → … → n_out`` with PyTorch's default init under ``seed``."""
    torch.manual_seed(seed)
    layers: list[nn.Module] = []
    for a, b in itertools.pairwise(widths):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(widths[-1], n_out))


def step_schedule(K: int, warmup: float, decays: list[float], factor: float = 0.1) -> np.ndarray:
    """LR multipliers for K steps: linear warm-up over ``warmup·K`` steps, then ×factor at each
    fraction of K in ``decays`` (Goyal et al.: warm-up 5 epochs, decays at 30/60/80 of 90)."""
    k = np.arange(K)
    n_warm = round(warmup * K)
    mult = np.minimum(1.0, (k + 1) / n_warm) if n_warm > 0 else np.ones(K)
    for frac in decays:
        mult = np.where(k >= frac * K, mult * factor, mult)
    return mult


class Momentum:
    """SGDM in form (3) with ``m_0 = 0``: ``m ← βm + (1−β)g``, ``w ← w − η m`` (β = 0 is SGD).
    Written by hand to avoid PyTorch's first-step buffer convention
    (docs/marginal_momentum.md#experiments)."""

    def __init__(self, params, beta: float):
        self.params = [p for p in params if p.requires_grad]
        self.beta = beta
        self.buffers = [torch.zeros_like(p) for p in self.params]

    @torch.no_grad()
    def step(self, lr: float) -> None:
        for p, m in zip(self.params, self.buffers, strict=True):
            m.mul_(self.beta).add_(p.grad, alpha=1.0 - self.beta)
            p.add_(m, alpha=-lr)


def svag_loss(model, loss_fn, X1, y1, X2, y2, ell: float) -> torch.Tensor:
    """SVAG (Def. 6.1) as a loss: ``r₁(ℓ)·loss(B₁) + r₂(ℓ)·loss(B₂)``; its gradient is
    ``ĝ = r₁g₁ + r₂g₂``. For ℓ = 1 (r₂ = 0) it is the plain minibatch loss of B₁. Both batches
    go through one forward pass (the model has no batch statistics)."""
    r1, r2 = svag_coefficients(ell)
    if r2 == 0.0:
        return r1 * loss_fn(model(X1), y1)
    out = model(torch.cat([X1, X2]))
    return r1 * loss_fn(out[: len(y1)], y1) + r2 * loss_fn(out[len(y1) :], y2)


def draw_batch(n: int, B: int, gen: torch.Generator) -> torch.Tensor:
    """B indices without replacement within the batch (i.i.d. across batches)."""
    return torch.randperm(n, generator=gen)[:B]


@torch.no_grad()
def evaluate(model, X: torch.Tensor, y: torch.Tensor, chunk: int = 4096) -> tuple[float, float]:
    """``(mean cross-entropy, accuracy)`` on the whole set, in chunks of ``chunk`` rows."""
    loss, correct = 0.0, 0
    for a in range(0, len(y), chunk):
        out = model(X[a : a + chunk])
        loss += float(nn.functional.cross_entropy(out, y[a : a + chunk], reduction="sum"))
        correct += int((out.argmax(1) == y[a : a + chunk]).sum())
    return loss / len(y), correct / len(y)


def train(
    model,
    X,
    y,
    *,
    eta: float,
    beta: float,
    B: int,
    multipliers: np.ndarray,
    seed: int,
    ell: float = 1.0,
    divergence: float = 10.0,
    record_every: int = 0,
    evaluate_on=None,
):
    """Form-(3) SGDM (β = 0: SGD) with LR ``η·multipliers[k]/ℓ`` for ``len(multipliers)`` steps,
    batches from ``torch.Generator(seed)``; with ``ell > 1`` every step draws two independent
    batches (SVAG). Returns ``(diverged, curve)``; divergence is NaN/inf or a training loss
    above ``divergence`` (docs/marginal_momentum.md#pitfalls N6). ``curve`` rows every
    ``record_every`` steps: (step, train loss, train acc, *evaluate_on metrics)."""
    gen = torch.Generator().manual_seed(seed)
    opt, loss_fn = Momentum(model.parameters(), beta), nn.functional.cross_entropy
    curve = []
    for k, mult in enumerate(multipliers):
        i1 = draw_batch(len(y), B, gen)
        i2 = draw_batch(len(y), B, gen) if ell != 1.0 else i1
        model.zero_grad()
        loss = svag_loss(model, loss_fn, X[i1], y[i1], X[i2], y[i2], ell)
        value = float(loss.detach())
        if not np.isfinite(value) or value > divergence:
            return True, curve
        loss.backward()
        opt.step(eta * float(mult) / ell)
        if record_every and (k + 1) % record_every == 0:
            row = [k + 1, *evaluate(model, X, y)]
            if evaluate_on is not None:
                row += list(evaluate(model, *evaluate_on))
            curve.append(row)
    train_loss, _ = evaluate(model, X, y)
    return not np.isfinite(train_loss) or train_loss > divergence, curve


# ---------------------------------------------------------------- CIFAR-10 scale-up
# (docs/marginal_momentum.md#e10)


def load_cifar10(directory: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """CIFAR-10 in its python-pickle format (``cifar-10-batches-py``): ``data_batch_1..5`` and
    ``test_batch``, each a dict with ``b"data"`` (N × 3072 uint8, channel-major 32×32) and
    ``b"labels"``. Returns ``(X_train, y_train, X_test, y_test)`` with X as float32
    ``(N, 3, 32, 32)`` in [0, 1]."""
    directory = Path(directory)

    def read(name: str):
        with open(directory / name, "rb") as f:
            batch = pickle.load(f, encoding="bytes")
        data = np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
        return data.astype(np.float32) / 255.0, np.asarray(batch[b"labels"], dtype=np.int64)

    train = [read(f"data_batch_{i}") for i in range(1, 6)]
    X_te, y_te = read("test_batch")
    return (
        np.concatenate([a for a, _ in train]),
        np.concatenate([b for _, b in train]),
        X_te,
        y_te,
    )


class _Block(nn.Module):
    """A basic residual block (two 3×3 convolutions with BatchNorm, option-A shortcut)."""

    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.pad = c_out - c_in
        self.stride = stride

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        short = x[:, :, :: self.stride, :: self.stride] if self.stride > 1 else x
        if self.pad:
            short = nn.functional.pad(short, (0, 0, 0, 0, self.pad // 2, self.pad - self.pad // 2))
        return torch.relu(out + short)


def resnet_cifar(depth: int = 32, n_classes: int = 10, width: int = 16) -> nn.Module:
    """He et al.'s CIFAR ResNet-(6n+2): three stages of n blocks, widths 16/32/64."""
    n = (depth - 2) // 6
    layers: list[nn.Module] = [
        nn.Conv2d(3, width, 3, 1, 1, bias=False),
        nn.BatchNorm2d(width),
        nn.ReLU(),
    ]
    c = width
    for stage, c_out in enumerate((width, 2 * width, 4 * width)):
        for i in range(n):
            layers.append(_Block(c, c_out, 2 if stage and i == 0 else 1))
            c = c_out
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, n_classes)]
    return nn.Sequential(*layers)
