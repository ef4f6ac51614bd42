"""CPU analogues of Figure 1, Table 1 and Figure 2 of arXiv 2307.15196
(docs/marginal_momentum.md#experiments), on scikit-learn's 8×8 digits with small PyTorch MLPs, one
thread per process. They are
*analogues*: other data, other models, other scale; only the qualitative claims are compared.

Each analogue is split into run jobs (``E7_run`` per batch size, ``E8_run`` per shot count K,
``E9_run`` per (ℓ, η)) that write tidy tables, and an aggregation (``E7``, ``E8``, ``E9``) that
reads those tables (``cfg["inputs"]``) and computes the metrics of the ledger. SGD and SGDM are
both form (3) (SGD is β = 0), so "SGD at γ/(1−β)" is SGD at the same η
(docs/marginal_momentum.md#setting).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import ttest_rel

from sgdsde.experiments import ExperimentResult
from sgdsde.experiments.marginal_momentum.common import json_records
from sgdsde.io import read_table
from sgdsde.stats import paired_difference


def _paired_metrics(key: str, a, b, margin: float | None = None) -> dict:
    """``mean(a − b)`` in points with its SE and 95 % CI (paired by seed,
    docs/methods.md#paired); with a margin M also the mean and CI over M, which an equivalence
    claim checks against [−1, 1]."""
    pd_ = paired_difference(100 * np.asarray(a), 100 * np.asarray(b))
    out = {
        f"{key}_points": pd_.mean,
        f"{key}_points_se": pd_.se,
        f"{key}_points_ci": list(pd_.ci) if pd_.ci else None,
        f"{key}_n_pairs": pd_.n,
    }
    if margin is not None:
        out[f"{key}_over_margin"] = pd_.mean / margin
        out[f"{key}_over_margin_ci"] = [x / margin for x in pd_.ci] if pd_.ci else None
    return out


def _read_inputs(cfg: dict) -> pd.DataFrame:
    return pd.concat([read_table(path) for path in cfg["inputs"]], ignore_index=True)


def _data(c: dict):
    from sgdsde.nets import digits_split

    return digits_split(**c["data"])


# ------------------------------------------------------------------ Figure 1 analogue
# (docs/marginal_momentum.md#e7)


def _train_pair(c: dict, data, seed: int, s: int, eta: float, B: int, mult, **options):
    """SGD (β = 0) and SGDM (β = c["beta"]) from the same init (``seed + s``) on the same batch
    order (``seed + 1000 + s``, pitfall 5): yields ``(name, model, diverged, curve)``."""
    from sgdsde.nets import mlp, train

    for name, beta in (("SGD", 0.0), ("SGDM", c["beta"])):
        model = mlp([64, *c["widths"]], 10, seed + s)
        diverged, curve = train(
            model,
            data.X_train,
            data.y_train,
            eta=eta,
            beta=beta,
            B=B,
            multipliers=mult,
            seed=seed + 1000 + s,
            divergence=c["divergence"],
            **options,
        )
        yield name, model, diverged, curve


def run_E7_run(cfg: dict, seed: int) -> ExperimentResult:
    """One batch size B of the Figure 1 analogue: SGD and SGDM (β, form 3) over the η grid and
    the seeds, E epochs with linear warm-up and three ×0.1 decays (Goyal et al.)."""
    from sgdsde.nets import evaluate, step_schedule
    from sgdsde.torch_runtime import torch_setup

    c, B = cfg["E7"], int(cfg["batch_size"])
    torch_setup(seed)
    data = _data(c)
    K = max(1, round(c["epochs"] * len(data.y_train) / B))
    mult = step_schedule(K, c["warmup"], c["decays"])
    rows = []
    for s in c["seeds"]:
        for eta in c["eta_grid"]:
            for name, model, diverged, _ in _train_pair(c, data, seed, s, eta, B, mult):
                val = evaluate(model, data.X_val, data.y_val)
                test = evaluate(model, data.X_test, data.y_test)
                train_loss = evaluate(model, data.X_train, data.y_train)[0]
                rows.append(
                    {
                        "B": B,
                        "steps": K,
                        "seed": s,
                        "eta": eta,
                        "optimizer": name,
                        "diverged": bool(diverged),
                        "val_acc": 0.0 if diverged else val[1],
                        "test_acc": 0.0 if diverged else test[1],
                        "train_loss": float("nan") if diverged else train_loss,
                    }
                )
    return ExperimentResult({"table": pd.DataFrame(rows)})


def fig1_summary(runs: pd.DataFrame) -> pd.DataFrame:
    """Per B: SGDM's best η by mean validation accuracy, its test accuracy, SGD at that η
    (the paper's protocol, "SGD at γ*/(1−β)"), and SGD at its own best η; mean and std over
    seeds (diverged runs count as accuracy 0)."""
    rows = []
    for B, group in runs.groupby("B"):
        mean_val = group.groupby(["optimizer", "eta"])["val_acc"].mean()
        best = {o: float(mean_val[o].idxmax()) for o in ("SGD", "SGDM")}
        pick = {
            "SGDM": ("SGDM", best["SGDM"]),
            "SGD_at_eta_star": ("SGD", best["SGDM"]),
            "SGD_own_best": ("SGD", best["SGD"]),
        }
        for label, (opt, eta) in pick.items():
            sel = group[(group["optimizer"] == opt) & (group["eta"] == eta)]
            rows.append(
                {
                    "B": B,
                    "series": label,
                    "eta": eta,
                    "test_acc_mean": sel["test_acc"].mean(),
                    "test_acc_std": sel["test_acc"].std(ddof=1) if len(sel) > 1 else 0.0,
                    "n_diverged": int(sel["diverged"].sum()),
                    "n_seeds": len(sel),
                }
            )
    return pd.DataFrame(rows)


def _at(runs: pd.DataFrame, summary: pd.DataFrame, B: int, optimizer: str, series: str):
    """The per-seed test accuracies of one optimiser at batch B and the η the series chose."""
    eta = summary[(summary["B"] == B) & (summary["series"] == series)]["eta"].iloc[0]
    sel = runs[(runs["B"] == B) & (runs["optimizer"] == optimizer) & (runs["eta"] == eta)]
    return sel.sort_values("seed")["test_acc"]


def run_E7(cfg: dict, seed: int) -> ExperimentResult:
    """Figure 1 analogue, aggregated: "comparable at small batch, SGDM ahead only at large batch"
    (pass criteria of docs/marginal_momentum.md#e7)."""
    runs = _read_inputs(cfg)
    summary = fig1_summary(runs)
    wide = summary.pivot(index="B", columns="series", values="test_acc_mean")
    etas = summary[summary["series"] == "SGDM"].set_index("B")["eta"].sort_index()
    small = wide.index <= cfg["E7"]["small_batch_max"]
    gap = 100 * (wide["SGDM"] - wide["SGD_at_eta_star"])
    by = {
        opt: pd.concat([_at(runs, summary, B, opt, series) for B in wide.index[small]])
        for opt, series in (("SGDM", "SGDM"), ("SGD", "SGD_at_eta_star"))
    }
    metrics = {
        **_paired_metrics("small_batch_gap", by["SGDM"], by["SGD"]),
        "largest_batch_gap_points": float(gap.iloc[-1]),
        **_paired_metrics(
            "largest_batch_gap_vs_sgd_best",
            _at(runs, summary, wide.index[-1], "SGDM", "SGDM"),
            _at(runs, summary, wide.index[-1], "SGD", "SGD_own_best"),
        ),
        "best_eta_max_decrease": float(max(0.0, -np.diff(np.log2(etas.to_numpy())).min()))
        if len(etas) > 1
        else 0.0,
        "gap_points": gap.tolist(),
        "best_eta_sgdm": etas.tolist(),
        "summary_rows": json_records(summary),
    }
    return ExperimentResult({"table": runs, "summary": summary}, metrics)


# ------------------------------------------------------------------- Table 1 analogue
# (docs/marginal_momentum.md#e8)


def _pretrain(c: dict, data, seed: int):
    """Source task: digits 0–4, MLP body + 5-way head, SGDM (3) (docs/marginal_momentum.md#e8)."""
    import torch

    from sgdsde.nets import mlp, train

    p = c["pretrain"]
    X, y = data["X"][data["y"] < 5], data["y"][data["y"] < 5]
    perm = np.random.default_rng(0).permutation(len(y))
    X, y = torch.as_tensor(X[perm], dtype=torch.float32), torch.as_tensor(y[perm])
    model = mlp([64, *c["widths"]], 5, seed)
    train(
        model,
        X,
        y,
        eta=p["eta"],
        beta=p["beta"],
        B=p["batch"],
        multipliers=np.ones(p["steps"]),
        seed=seed + 1,
    )
    return model[:-1]  # the body: every layer but the head


def _few_shot_split(X, y, K: int, data_seed: int):
    """K train and K dev images per target class (5–9, relabelled 0–4); the rest is test."""
    gen = np.random.default_rng(data_seed)
    train, dev, test = [], [], []
    for label in range(5, 10):
        idx = gen.permutation(np.flatnonzero(y == label))
        train += list(idx[:K])
        dev += list(idx[K : 2 * K])
        test += list(idx[2 * K :])
    return [(X[i], y[i] - 5) for i in map(np.array, (train, dev, test))]


def run_E8_run(cfg: dict, seed: int) -> ExperimentResult:
    """One shot count K of the Table 1 analogue: pretrain on 0–4, fine-tune on K-shot 5–9 with
    SGD and SGDM over the (B, η) grid, select by dev accuracy per data seed; plus the
    nearest-class-mean "no-fine-tune baseline" on frozen features."""
    import copy

    import torch
    from torch import nn

    from sgdsde.nets import evaluate, standardise, train
    from sgdsde.torch_runtime import torch_setup

    c, K = cfg["E8"], int(cfg["shots"])
    torch_setup(seed)
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = standardise(X / 16.0)[0]
    body = _pretrain(c, {"X": X, "y": y}, seed)
    rows = []
    for data_seed in c["data_seeds"]:
        (Xtr, ytr), (Xdv, ydv), (Xte, yte) = (
            (torch.as_tensor(a, dtype=torch.float32), torch.as_tensor(b))
            for a, b in _few_shot_split(X, y, K, data_seed)
        )
        with torch.no_grad():  # no-fine-tune baseline: nearest class mean of frozen features
            f_tr, f_te = body(Xtr), body(Xte)
            means = torch.stack([f_tr[ytr == k].mean(0) for k in range(5)])
            ncm = float((torch.cdist(f_te, means).argmin(1) == yte).float().mean())
        rows.append(
            {
                "K": K,
                "data_seed": data_seed,
                "method": "no-fine-tune baseline",
                "B": 0,
                "eta": 0.0,
                "dev_acc": float("nan"),
                "test_acc": ncm,
            }
        )
        for B in c["batch_sizes"]:
            steps = max(1, round(c["epochs"] * len(ytr) / B))
            for eta in c["eta_grid"]:
                for name, beta in (("SGD", 0.0), ("SGDM", c["beta"])):
                    torch.manual_seed(data_seed)
                    model = nn.Sequential(copy.deepcopy(body), nn.Linear(c["widths"][-1], 5))
                    diverged, _ = train(
                        model,
                        Xtr,
                        ytr,
                        eta=eta,
                        beta=beta,
                        B=min(B, len(ytr)),
                        multipliers=np.ones(steps),
                        seed=data_seed,
                    )
                    dev, test = evaluate(model, Xdv, ydv)[1], evaluate(model, Xte, yte)[1]
                    rows.append(
                        {
                            "K": K,
                            "data_seed": data_seed,
                            "method": name,
                            "B": B,
                            "eta": eta,
                            "dev_acc": 0.0 if diverged else dev,
                            "test_acc": 0.0 if diverged else test,
                        }
                    )
    return ExperimentResult({"table": pd.DataFrame(rows)})


def table1_selection(runs: pd.DataFrame) -> pd.DataFrame:
    """Per (K, method, data seed) the test accuracy of the grid point with the best dev
    accuracy (ties: the first in grid order)."""
    tuned = runs[runs["method"] != "no-fine-tune baseline"]
    best = tuned.loc[tuned.groupby(["K", "method", "data_seed"])["dev_acc"].idxmax()]
    baseline = runs[runs["method"] == "no-fine-tune baseline"]
    return pd.concat([best, baseline], ignore_index=True)


def run_E8(cfg: dict, seed: int) -> ExperimentResult:
    """Table 1 analogue, aggregated: mean (std) test accuracy over data seeds, and per K the
    paired difference SGDM − SGD over the data seeds against Table 1's standard, a difference
    within one std: margin ``max(std_SGD, std_SGDM)`` (docs/marginal_momentum.md#e8)."""
    runs = _read_inputs(cfg)
    chosen = table1_selection(runs)
    summary = (100 * chosen.groupby(["K", "method"])["test_acc"].agg(["mean", "std"])).reset_index()
    metrics = {}
    for K, group in chosen.groupby("K"):
        sgd = group[group["method"] == "SGD"].sort_values("data_seed")["test_acc"].to_numpy()
        sgdm = group[group["method"] == "SGDM"].sort_values("data_seed")["test_acc"].to_numpy()
        spread = 100 * max(sgd.std(ddof=1), sgdm.std(ddof=1))
        metrics |= _paired_metrics(f"K={K}/difference", sgdm, sgd, margin=spread)
        metrics[f"K={K}/margin_points"] = float(spread)
        p = ttest_rel(sgdm, sgd).pvalue if np.any(sgdm != sgd) else 1.0
        metrics[f"K={K}/paired_t_pvalue"] = float(p)
    metrics["summary_rows"] = json_records(summary)
    return ExperimentResult({"table": runs, "selected": chosen, "summary": summary}, metrics)


# ------------------------------------------------------------------ Figure 2 analogue
# (docs/marginal_momentum.md#e9)


def run_E9_run(cfg: dict, seed: int) -> ExperimentResult:
    """One (ℓ, η) of the Figure 2 analogue: SGD and SGDM (β fixed) with SVAG ℓ, LR η/ℓ, ℓ·K
    steps, ×0.1 decays at the same fractions of the run (original-time units), every seed;
    curves against effective epochs ``steps/(ℓ·steps per epoch)``."""
    from sgdsde.nets import evaluate, step_schedule
    from sgdsde.torch_runtime import torch_setup

    c, ell, eta = cfg["E9"], float(cfg["ell"]), float(cfg["eta"])
    torch_setup(seed)
    data = _data(c)
    K = int(ell * c["base_steps"])
    mult = step_schedule(K, 0.0, c["decays"])
    per_epoch = len(data.y_train) / c["batch"]
    every = max(1, K // c["n_records"])
    rows, curves = [], []
    for s in c["seeds"]:
        pair = _train_pair(
            c,
            data,
            seed,
            s,
            eta,
            c["batch"],
            mult,
            ell=ell,
            record_every=every,
            evaluate_on=(data.X_test, data.y_test),
        )
        for name, model, diverged, curve in pair:
            train_loss = (
                float("inf") if diverged else evaluate(model, data.X_train, data.y_train)[0]
            )
            test_loss, test_acc = evaluate(model, data.X_test, data.y_test)
            rows.append(
                {
                    "ell": ell,
                    "eta": eta,
                    "seed": s,
                    "optimizer": name,
                    "diverged": bool(diverged),
                    "train_loss": train_loss,
                    "test_nll": float("nan") if diverged else test_loss,
                    "test_acc": 0.0 if diverged else test_acc,
                }
            )
            curves += [
                {
                    "ell": ell,
                    "eta": eta,
                    "seed": s,
                    "optimizer": name,
                    "step": k,
                    "effective_epoch": k / (ell * per_epoch),
                    "train_loss": tl,
                    "train_acc": ta,
                    "test_nll": vl,
                    "test_acc": va,
                }
                for k, tl, ta, vl, va in curve
            ]
    return ExperimentResult({"table": pd.DataFrame(rows), "curves": pd.DataFrame(curves)})


def gap_shrinkage(abs_log_R: np.ndarray) -> dict:
    """How ``|log R(ℓ)|`` (ℓ increasing) shrinks, measured from the first ℓ at which SGD did not
    diverge: a diverged run has no finite gap, so it is neither a baseline for the ratio nor an
    increase to compare. ``None`` (unresolved in the ledger) when fewer than two finite values
    remain or a finite gap is followed by a divergence."""
    finite = np.isfinite(abs_log_R)
    start = int(np.argmax(finite)) if finite.any() else len(finite)
    tail = abs_log_R[start:]
    if len(tail) < 2 or not np.isfinite(tail).all():
        return {"abs_log_R_max_increase": None, "abs_log_R_ratio_last_first": None}
    return {
        "abs_log_R_max_increase": float(np.diff(tail).max()),
        "abs_log_R_ratio_last_first": float(tail[-1] / tail[0]),
    }


def run_E9(cfg: dict, seed: int) -> ExperimentResult:
    """Figure 2 analogue, aggregated: ``R(ℓ) = trainloss_SGD / trainloss_SGDM`` (geometric mean
    over seeds; a diverged SGD run gives R = ∞) and the SGD–SGDM test-accuracy gap against ℓ."""
    runs = _read_inputs(cfg)
    rows = []
    for (eta, ell), group in runs.groupby(["eta", "ell"]):
        by = {o: g.sort_values("seed") for o, g in group.groupby("optimizer")}
        loss = {o: np.exp(np.log(g["train_loss"].to_numpy()).mean()) for o, g in by.items()}
        acc = {o: g["test_acc"].to_numpy() for o, g in by.items()}
        rows.append(
            {
                "eta": eta,
                "ell": ell,
                "train_loss_SGD": loss["SGD"],
                "train_loss_SGDM": loss["SGDM"],
                "R": loss["SGD"] / loss["SGDM"],
                "log_R": float(np.log(loss["SGD"] / loss["SGDM"])),
                "test_acc_SGD": acc["SGD"].mean(),
                "test_acc_SGDM": acc["SGDM"].mean(),
                "test_acc_gap_points": 100 * (acc["SGDM"] - acc["SGD"]).mean(),
                "test_acc_gap_se": 100
                * (acc["SGDM"] - acc["SGD"]).std(ddof=1)
                / np.sqrt(len(acc["SGD"]))
                if len(acc["SGD"]) > 1
                else float("nan"),
                "sgd_diverged": int(by["SGD"]["diverged"].sum()),
            }
        )
    summary = pd.DataFrame(rows)
    metrics = {}
    for eta, group in summary.groupby("eta"):
        group = group.sort_values("ell")
        log_R = group["log_R"].to_numpy()
        key = f"eta={eta:g}"
        metrics |= {f"{key}/{name}": v for name, v in gap_shrinkage(np.abs(log_R)).items()}
        metrics[f"{key}/log_R"] = [float(x) if np.isfinite(x) else None for x in log_R]
        metrics[f"{key}/sgd_diverged_ells"] = group.loc[~np.isfinite(log_R), "ell"].tolist()
        metrics[f"{key}/test_acc_gap_points"] = group["test_acc_gap_points"].tolist()
        first = runs[(runs["eta"] == eta) & (runs["ell"] == group["ell"].min())]
        acc = {o: g.sort_values("seed")["test_acc"] for o, g in first.groupby("optimizer")}
        metrics |= _paired_metrics(f"{key}/ell1_test_acc_gap", acc["SGDM"], acc["SGD"])
    metrics["summary_rows"] = json_records(summary)
    return ExperimentResult({"table": runs, "summary": summary}, metrics)
