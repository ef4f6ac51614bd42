"""The original-scale Figure 2 of arXiv 2307.15196 (docs/marginal_momentum.md#e10): ResNet-32 on
CIFAR-10, B = 512, SGDM η = 0.2 in form (3) (β = 0.9, so PyTorch's lr would be 0.02), ×0.1 decays at
epochs 80 and 120 of 160, SGD and SGDM with SVAG ℓ. Off by default
(``marginal_momentum.E10.enabled``); it needs a local copy of CIFAR-10 in its python-pickle format
(``E10.data_dir``) and GPU-scale time on a CPU (about a day per run on 2 cores). ``max_steps`` cuts
every run short for a smoke test. Same optimiser code as the analogues (:mod:`sgdsde.nets`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sgdsde.experiments import ExperimentResult


def run_E10(cfg: dict, seed: int) -> ExperimentResult:
    """SGD vs SGDM with SVAG ℓ on CIFAR-10 / ResNet-32: final test accuracy and train loss."""
    import torch

    from sgdsde.nets import evaluate, load_cifar10, resnet_cifar, step_schedule, train
    from sgdsde.torch_runtime import torch_setup

    c = cfg["E10"]
    torch_setup(seed)
    X_tr, y_tr, X_te, y_te = (torch.as_tensor(a) for a in load_cifar10(c["data_dir"]))
    mean = X_tr.mean(dim=(0, 2, 3), keepdim=True)
    sd = X_tr.std(dim=(0, 2, 3), keepdim=True)
    X_tr, X_te = (X_tr - mean) / sd, (X_te - mean) / sd
    per_epoch = max(1, len(y_tr) // c["batch"])
    # docs/marginal_momentum.md#e10: "η = 0.2" is Def. 3.3's η (literal reading) or PyTorch's lr γ
    # (η = γ/(1−β))
    eta = c["eta"] if c["eta_convention"] == "form3" else c["eta"] / (1 - c["beta"])
    decays = [e / c["epochs"] for e in c["decay_epochs"]]
    rows = []
    for ell in c["ells"]:
        K = int(ell * c["epochs"] * per_epoch)
        mult = step_schedule(K, 0.0, decays)[: c["max_steps"] or K]
        for s in c["seeds"]:
            for name, beta in (("SGD", 0.0), ("SGDM", c["beta"])):
                torch.manual_seed(seed + s)
                model = resnet_cifar(c["depth"])
                model.train()
                diverged, _ = train(
                    model,
                    X_tr,
                    y_tr,
                    eta=eta,
                    beta=beta,
                    B=c["batch"],
                    multipliers=mult,
                    seed=seed + 1000 + s,
                    ell=ell,
                )
                model.eval()
                loss, acc = evaluate(model, X_te, y_te)
                rows.append(
                    {
                        "ell": ell,
                        "seed": s,
                        "optimizer": name,
                        "steps": len(mult),
                        "diverged": bool(diverged),
                        "test_loss": loss,
                        "test_acc": 0.0 if diverged else acc,
                    }
                )
    table = pd.DataFrame(rows)
    gap = table.pivot_table(index="ell", columns="optimizer", values="test_acc")
    metrics = {
        "test_acc_gap_points": (100 * (gap["SGDM"] - gap["SGD"])).tolist(),
        "ells": [float(v) for v in np.asarray(gap.index)],
    }
    return ExperimentResult({"table": table}, metrics)
