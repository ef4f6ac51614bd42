"""The PyTorch side of arXiv 2307.15196's CPU analogues (docs/marginal_momentum.md#experiments,
docs/marginal_momentum.md#pitfalls): one thread, the hand-written form-(3) optimiser, SVAG as a
loss, the digits data, divergence handling, and the CIFAR-10 scale-up path on a tiny generated copy
in the python-pickle format."""

import pickle

import numpy as np
import pytest
import torch
from torch import nn

from sgdsde.experiments.marginal_momentum.analogues import fig1_summary, table1_selection
from sgdsde.experiments.marginal_momentum.exact import run_E1
from sgdsde.experiments.marginal_momentum.scale_up import run_E10
from sgdsde.momentum_forms import sgdm_step, svag_coefficients
from sgdsde.nets import (
    Momentum,
    digits_split,
    load_cifar10,
    mlp,
    resnet_cifar,
    step_schedule,
    svag_loss,
    train,
)
from sgdsde.torch_runtime import torch_setup


def test_torch_setup_uses_one_thread():
    torch_setup(3)
    assert torch.get_num_threads() == 1


def test_momentum_optimiser_is_form_3(rng):
    w0, beta, eta = rng.standard_normal(3), 0.9, 0.2
    w = torch.tensor(w0, requires_grad=True)
    opt = Momentum([w], beta)
    x, m = w0.copy(), np.zeros(3)
    for _ in range(20):
        w.grad = None
        (0.5 * (w**2).sum() + torch.sin(w).sum()).backward()
        opt.step(eta)
        x, m = sgdm_step(x, m, eta, beta, x + np.cos(x))
    np.testing.assert_allclose(w.detach().numpy(), x, atol=1e-12)


def test_torch_sgd_conventions_match_the_recursions():
    cfg = {
        "E1": {
            "n_steps": 30,
            "n_paths": 2,
            "sigma": 1.0,
            "x0": [1.0, 0.5],
            "gamma": [0.01, 0.1],
            "mu": [0.0, 0.99],
            "tau": [0.0, 0.9],
            "z0": [1.0],
            "heavy_ball": {"gamma": 0.05, "beta": 0.9},
        }
    }
    metrics = run_E1(cfg, 0).metrics
    assert metrics["torch_dampened_vs_form3_max_error"] < 1e-6
    assert metrics["torch_default_vs_form1_max_error"] < 1e-6
    assert metrics["lemma_A2_z0=1_max_error"] < 1e-12


@pytest.mark.parametrize("ell", [1.0, 4.0])
def test_svag_loss_gradient_is_r1_g1_plus_r2_g2(ell):
    torch.manual_seed(0)
    model = nn.Linear(4, 3)
    X1, X2 = torch.randn(8, 4), torch.randn(8, 4)
    y1, y2 = torch.randint(0, 3, (8,)), torch.randint(0, 3, (8,))
    loss_fn = nn.functional.cross_entropy

    def grad(loss):
        model.zero_grad()
        loss.backward()
        return model.weight.grad.clone()

    g1, g2 = grad(loss_fn(model(X1), y1)), grad(loss_fn(model(X2), y2))
    r1, r2 = svag_coefficients(ell)
    combined = grad(svag_loss(model, loss_fn, X1, y1, X2, y2, ell))
    torch.testing.assert_close(combined, r1 * g1 + r2 * g2, rtol=1e-5, atol=1e-6)


def test_digits_split_is_standardised_and_finite():
    data = digits_split()
    assert (len(data.y_train), len(data.y_val), len(data.y_test)) == (1100, 200, 497)
    assert torch.isfinite(data.X_test).all()
    assert data.X_train.mean(0).abs().max() < 1e-5
    assert data.X_test.abs().max() < 100  # constant training pixels are not blown up


def test_step_schedule_warms_up_and_decays():
    mult = step_schedule(100, 0.05, [0.5, 0.75])
    assert mult[0] == pytest.approx(0.2) and mult[4] == 1.0
    assert mult[49] == 1.0 and mult[50] == pytest.approx(0.1) and mult[99] == pytest.approx(0.01)


def test_training_is_deterministic_and_flags_divergence():
    data = digits_split()

    def run(eta):
        model = mlp([64, 16], 10, seed=1)
        diverged, _ = train(
            model,
            data.X_train,
            data.y_train,
            eta=eta,
            beta=0.9,
            B=32,
            multipliers=np.ones(30),
            seed=2,
        )
        return diverged, [p.detach().clone() for p in model.parameters()]

    (d1, p1), (d2, p2) = run(0.5), run(0.5)
    assert not d1 and not d2
    assert all(torch.equal(a, b) for a, b in zip(p1, p2, strict=True))
    assert run(1e4)[0]


def test_fig1_summary_uses_sgdm_best_eta_for_sgd():
    import pandas as pd

    runs = pd.DataFrame(
        [
            {
                "B": 16,
                "seed": 0,
                "eta": e,
                "optimizer": o,
                "diverged": False,
                "val_acc": v,
                "test_acc": v,
            }
            for (e, o, v) in [(1, "SGD", 0.9), (2, "SGD", 0.5), (1, "SGDM", 0.1), (2, "SGDM", 0.8)]
        ]
    )
    s = fig1_summary(runs).set_index("series")
    assert s.loc["SGDM", "eta"] == 2 and s.loc["SGD_at_eta_star", "test_acc_mean"] == 0.5
    assert s.loc["SGD_own_best", "eta"] == 1


def test_table1_selection_picks_best_dev_accuracy():
    import pandas as pd

    runs = pd.DataFrame(
        [
            {
                "K": 4,
                "data_seed": 13,
                "method": "SGD",
                "B": 4,
                "eta": 0.1,
                "dev_acc": 0.5,
                "test_acc": 0.1,
            },
            {
                "K": 4,
                "data_seed": 13,
                "method": "SGD",
                "B": 4,
                "eta": 0.3,
                "dev_acc": 0.9,
                "test_acc": 0.7,
            },
        ]
    )
    assert table1_selection(runs)["test_acc"].tolist() == [0.7]


def _fake_cifar(directory, n=6, seed=0):
    gen = np.random.default_rng(seed)
    for name in [*(f"data_batch_{i}" for i in range(1, 6)), "test_batch"]:
        batch = {
            b"data": gen.integers(0, 256, (n, 3072), dtype=np.uint8),
            b"labels": gen.integers(0, 10, n).tolist(),
            b"batch_label": name.encode(),
        }
        with open(directory / name, "wb") as f:
            pickle.dump(batch, f)
    return directory


def test_cifar10_loader_reads_the_python_pickle_format(tmp_path):
    X_tr, y_tr, X_te, y_te = load_cifar10(_fake_cifar(tmp_path))
    assert X_tr.shape == (30, 3, 32, 32) and X_te.shape == (6, 3, 32, 32)
    assert X_tr.dtype == np.float32 and X_tr.min() >= 0 and X_tr.max() <= 1
    assert y_tr.shape == (30,) and y_te.dtype == np.int64
    with open(tmp_path / "data_batch_1", "rb") as f:
        raw = pickle.load(f, encoding="bytes")[b"data"]
    np.testing.assert_allclose(X_tr[0, 1, 0, 0], raw[0, 1024] / 255.0)  # channel-major


def test_resnet32_has_the_cifar_shape():
    model = resnet_cifar(32)
    assert model(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
    n_params = sum(p.numel() for p in model.parameters())
    assert 0.4e6 < n_params < 0.5e6  # ResNet-32: 0.46 M parameters


def test_scale_up_smoke_run_on_a_tiny_fake_cifar(tmp_path):
    cfg = {
        "E10": {
            "enabled": True,
            "data_dir": str(_fake_cifar(tmp_path, n=8)),
            "depth": 8,
            "batch": 4,
            "eta": 0.2,
            "eta_convention": "pytorch",
            "beta": 0.9,
            "epochs": 2,
            "decay_epochs": [1],
            "ells": [1, 2],
            "seeds": [0],
            "max_steps": 2,
        }
    }
    result = run_E10(cfg, 0)
    table = result.tables["table"]
    assert len(table) == 4 and set(table["optimizer"]) == {"SGD", "SGDM"}
    assert (table["steps"] == 2).all()
