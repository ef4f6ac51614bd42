"""Deterministic experiments of arXiv 2307.15196 (docs/marginal_momentum.md#e1):
the parametrisation identities (E1), the averaged learning rate and coupled trajectory (E2),
the descent lemma by quadrature (E3), Theorem 4.5 by exact moment recursions (E4a, E4c, E4d)
and, in E4a, Appendix B's α = 1 limit, α > 1 and coupled-trajectory distance. No Monte Carlo:
every number is exact up to rounding."""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd
from numpy.polynomial.hermite_e import hermegauss

from sgdsde.experiments import ExperimentResult
from sgdsde.experiments.marginal_momentum.common import PAPER, eta_ladder, one_minus_beta
from sgdsde.momentum_forms import (
    averaged_lr,
    coupled_offset,
    descent_terms,
    form1_step,
    heavy_ball_to_paper,
    linear_gaussian_moments,
    linear_gaussian_path,
    linear_sde_path,
    second_moment,
    sgd_limit,
    sgdm_step,
    standard_step,
    standard_to_paper,
    underdamped_limit,
)
from sgdsde.problems import NC2
from sgdsde.seeding import rng
from sgdsde.stats import exact_order, fit_loglog_slope


def _random_schedule(cfg: dict, gen: np.random.Generator):
    """``γ_k ~ U(γ)``, ``μ_k ~ U(μ)``, ``τ_k ~ U(τ)`` for K steps (docs/marginal_momentum.md#e1)."""
    K = cfg["n_steps"]
    return tuple(gen.uniform(*cfg[name], size=K) for name in ("gamma", "mu", "tau"))


def run_E1(cfg: dict, seed: int) -> ExperimentResult:
    """Lemma A.2 and form (1) ↔ form (3), pathwise on NC2 with shared noise
    (docs/marginal_momentum.md#e1)."""
    c = cfg["E1"]
    problem, gen = NC2(), rng(seed, PAPER, "E1")
    n, K, sigma = c["n_paths"], c["n_steps"], c["sigma"]
    xi = gen.standard_normal((K, n, 2))
    x0 = np.tile(np.array(c["x0"], dtype=float), (n, 1))
    gamma, mu, tau = _random_schedule(c, gen)
    m0_std = gen.standard_normal((n, 2))
    rows, metrics = [], {}
    for z0 in c["z0"]:
        eta, beta, m0 = standard_to_paper(gamma, mu, tau, m0_std, z0)
        x_s, m_s, x_p, m_p = x0, m0_std, x0, m0
        err = 0.0
        for k in range(K):
            x_s, m_s = standard_step(
                x_s, m_s, gamma[k], mu[k], tau[k], problem.sample_gradient(x_s, sigma, xi[k])
            )
            x_p, m_p = sgdm_step(
                x_p, m_p, eta[k], beta[k], problem.sample_gradient(x_p, sigma, xi[k])
            )
            err = max(err, float(np.abs(x_s - x_p).max()))
            rows.append({"case": f"lemma_A2_z0={z0:g}", "k": k + 1, "error": err})
        metrics[f"lemma_A2_z0={z0:g}_max_error"] = err
    # form (1) with constant (γ, β) against form (3) with (γ/(1−β), β), m0 = (1−β) m0^(1)
    g_hb, b_hb = c["heavy_ball"]["gamma"], c["heavy_ball"]["beta"]
    eta, beta, m0 = heavy_ball_to_paper(g_hb, b_hb, m0_std)
    x_h, m_h, x_p, m_p = x0, m0_std, x0, m0
    err = 0.0
    for k in range(K):
        x_h, m_h = form1_step(x_h, m_h, g_hb, b_hb, problem.sample_gradient(x_h, sigma, xi[k]))
        x_p, m_p = sgdm_step(x_p, m_p, eta, beta, problem.sample_gradient(x_p, sigma, xi[k]))
        err = max(err, float(np.abs(x_h - x_p).max()))
        rows.append({"case": "form1_vs_form3", "k": k + 1, "error": err})
    metrics["form1_vs_form3_max_error"] = err
    metrics.update(_torch_conventions(c, gen))
    return ExperimentResult({"table": pd.DataFrame(rows)}, metrics)


def _torch_conventions(c: dict, gen: np.random.Generator) -> dict:
    """PyTorch's ``SGD(lr=η, momentum=β, dampening=β)`` is form (3) with ``m_0 = g_0``, and
    ``SGD(lr=γ, momentum=β)`` is form (1) with ``m_0 = 0`` (docs/marginal_momentum.md#e1), float32
    on a deterministic quadratic-plus-cosine objective (NC2) without noise."""
    import torch

    from sgdsde.torch_runtime import torch_setup

    torch_setup(0)
    problem, K = NC2(), c["n_steps"]
    x0 = np.array(c["x0"], dtype=np.float32)
    out = {}
    for name, (lr, beta, dampening) in {
        "torch_dampened_vs_form3": (0.3, 0.9, 0.9),
        "torch_default_vs_form1": (0.03, 0.9, 0.0),
    }.items():
        w = torch.tensor(x0.copy(), requires_grad=True)
        opt = torch.optim.SGD([w], lr=lr, momentum=beta, dampening=dampening)
        x, m = x0.astype(np.float64), None
        err = 0.0
        for _ in range(K):
            opt.zero_grad()
            x1, x2 = w[0], w[1]
            loss = 0.5 * (x1**2 + x2**2) + 0.8 * torch.cos(2 * x1) * torch.cos(x2)
            loss.backward()
            opt.step()
            g = problem.gradient(x)
            if dampening:
                m = g if m is None else m  # PyTorch's first buffer is g_0: form (3), m_0 = g_0
                x, m = sgdm_step(x, m, lr, beta, g)
            else:
                m = np.zeros_like(g) if m is None else m
                x, m = form1_step(x, m, lr, beta, g)
            err = max(err, float(np.abs(w.detach().numpy() - x).max()))
        out[f"{name}_max_error"] = err
    return out


def run_E2(cfg: dict, seed: int) -> ExperimentResult:
    """Identity (11) ``x̃_{k+1} = x̃_k − η̄_k g_k`` (g at x_k) with the zero tail, and η̄ = η for
    constant (η, β) with the constant tail (docs/marginal_momentum.md#e2)."""
    c = cfg["E2"]
    problem, gen = NC2(), rng(seed, PAPER, "E2")
    n, K, sigma = c["n_paths"], c["n_steps"], c["sigma"]
    eta = gen.uniform(*c["eta"], size=K)
    beta = gen.uniform(*c["beta"], size=K)
    eta_bar, offset = averaged_lr(eta, beta, tail="zero"), coupled_offset(eta, beta, tail="zero")
    x = np.tile(np.array(c["x0"], dtype=float), (n, 1))
    m = problem.gradient(x)
    rows, err = [], 0.0
    for k in range(K):
        g = problem.sample_gradient(x, sigma, gen.standard_normal((n, 2)))
        x_tilde = x - offset[k] * m
        x, m = sgdm_step(x, m, eta[k], beta[k], g)
        x_tilde_next = x - (offset[k + 1] if k + 1 < K else 0.0) * m
        err = max(err, float(np.abs(x_tilde_next - x_tilde + eta_bar[k] * g).max()))
        rows.append(
            {"k": k, "eta": eta[k], "beta": beta[k], "eta_bar": eta_bar[k], "identity_error": err}
        )
    const = averaged_lr(np.full(K, c["constant"]["eta"]), np.full(K, c["constant"]["beta"]))
    metrics = {
        "identity_max_error": err,
        "constant_eta_bar_error": float(np.abs(const - c["constant"]["eta"]).max()),
    }
    return ExperimentResult({"table": pd.DataFrame(rows)}, metrics)


def run_E3(cfg: dict, seed: int) -> ExperimentResult:
    """Lemma 3.4 on NC2: ``E L(x − ηg) − L(x)`` by Gauss–Hermite tensor quadrature against
    descent + noise + curvature terms, for σ = 1 and σ = η^{−1/2} (docs/marginal_momentum.md#e3)."""
    c = cfg["E3"]
    problem = NC2()
    nodes, weights = hermegauss(c["quadrature_nodes"])
    weights = weights / weights.sum()
    Z = np.stack(np.meshgrid(nodes, nodes, indexing="ij"), axis=-1).reshape(-1, 2)
    W = np.outer(weights, weights).ravel()
    eta = c["eta0"] * 2.0 ** -np.arange(c["n_eta"])
    rows, metrics = [], {}
    for i, x in enumerate(map(np.array, c["points"])):
        grad, hess = problem.gradient(x), problem.hessian(x)
        root = problem.noise_sqrt_diag(x)
        for scaling in ("unit", "inverse_sqrt"):
            for e in eta:
                sigma = 1.0 if scaling == "unit" else e**-0.5
                g = grad + sigma * root * Z
                exact = float(W @ problem.value(x - e * g)) - float(problem.value(x))
                terms = descent_terms(e, sigma, grad, hess, np.diag(root**2))
                rows.append(
                    {
                        "point": f"p{i + 1}",
                        "x": f"({x[0]:g}, {x[1]:g})",
                        "scaling": scaling,
                        "eta": e,
                        "exact": exact,
                        **terms,
                        "residual3": exact - sum(terms.values()),
                        "residual2": exact - terms["descent"] - terms["noise"],
                    }
                )
    table = pd.DataFrame(rows)
    for (point, scaling), group in table.groupby(["point", "scaling"]):
        tail = group.nsmallest(c["fit_points"], "eta")
        key = f"{point}/{scaling}"
        metrics[f"{key}/residual3_slope"] = fit_loglog_slope(tail["eta"], tail["residual3"]).slope
        if scaling == "inverse_sqrt":
            metrics[f"{key}/curvature_slope"] = fit_loglog_slope(
                tail["eta"], tail["curvature"]
            ).slope
            for term in ("descent", "noise"):
                per_eta = (group[term] / group["eta"]).abs()
                metrics[f"{key}/{term}_over_eta_spread"] = float(per_eta.max() / per_eta.min() - 1)
    return ExperimentResult({"table": table}, metrics)


def _thm45_gaps(c: dict, eta: float, alpha: float, schedule: str = "constant") -> dict:
    """Exact ``E‖x_k‖²`` gaps between SGDM and SGD on ``L = ½xᵀHx``, ``σ = η^{−1/2}``, T = c["T"]
    (docs/marginal_momentum.md#e4a/c): ``1−β = c_α η^α``; schedule "drop" divides η by ``drop`` at
    K/2. The constant schedule adds the statements of Appendix B (:func:`_appendix_b_curves`).
    Each reference maps to the gap at k = K and its max over k ≤ K."""
    H, x0 = np.diag(c["H"]), np.array(c["x0"], dtype=float)
    K = round(c["T"] / eta)
    steps = np.full(K, eta)
    if schedule == "drop":
        steps[K // 2 :] /= c["drop"]
    b = 1.0 - one_minus_beta(c, eta, alpha)
    beta = np.full(K, b)
    sigma = eta**-0.5
    path = linear_gaussian_path(H, x0, H @ x0, steps, beta, sigma)
    sgdm = second_moment(*path, len(H))
    references = {"eta_bar": averaged_lr(steps, beta, tail="constant"), "naive": steps}
    if schedule == "constant":
        references = {"eta_bar": steps, "wrong_lr": steps * (1.0 - b)}
    curves = {
        name: sgdm - linear_gaussian_moments(H, x0, None, lr, 0.0, sigma, momentum=False)
        for name, lr in references.items()
    }
    if schedule == "constant":
        curves |= _appendix_b_curves(c, eta, alpha, path, sgdm)
    return {name: (float(abs(v[-1])), float(np.abs(v).max())) for name, v in curves.items()}


def _appendix_b_curves(c: dict, eta: float, alpha: float, path, sgdm) -> dict:
    """For k = 0..K on the constant schedule: at α = 1 the ``E‖x‖²`` gaps of SGDM to its
    underdamped limit and to SGD's SDE on the grid ``t = kη`` (docs/marginal_momentum.md#alpha-one);
    for α < 1 the L² distance ``(E‖x̃_k − x_k‖²)^{1/2} = β_kA_k (E‖m_k‖²)^{1/2}`` to the coupled
    trajectory (Eq. 9, constant tail; docs/marginal_momentum.md#coupled-distance)."""
    d, K = len(c["H"]), round(c["T"] / eta)
    if alpha == 1:
        underdamped, sgd = _limit_moments(c, eta, K)
        return {"underdamped": sgdm - underdamped, "sgd_sde": sgdm - sgd}
    b = 1.0 - one_minus_beta(c, eta, alpha)
    offset = coupled_offset(np.full(K + 1, eta), np.full(K + 1, b), tail="constant")
    mean, cov = path
    return {"coupled": offset * np.sqrt(second_moment(mean[:, d:], cov[:, d:, d:], d))}


def _frozen_gaps(c: dict, eta: float, alpha: float) -> dict:
    """α > 1 over K = T/η steps (docs/marginal_momentum.md#alpha-above-one): the L² distances
    ``(E‖x_k − p_k‖²)^{1/2}`` of SGDM from ``m_0 = 0`` to ``p = x_0`` (reference "x0_zero_m0"),
    and from ``m_0 = Hx_0`` to ``x_0`` ("x0_grad_m0") and to the line ``x_0 − kη m_0``
    ("line_grad_m0"); each at k = K and as the max over k ≤ K."""
    H, x0 = np.diag(c["H"]), np.array(c["x0"], dtype=float)
    K = round(c["T"] / eta)
    beta = 1.0 - one_minus_beta(c, eta, alpha)
    line = x0 - eta * np.arange(K + 1)[:, None] * (H @ x0)
    out = {}
    for name, m0, point in (
        ("x0_zero_m0", np.zeros_like(x0), x0),
        ("x0_grad_m0", H @ x0, x0),
        ("line_grad_m0", H @ x0, line),
    ):
        mean, cov = linear_gaussian_path(H, x0, m0, np.full(K, eta), beta, eta**-0.5)
        dist = np.sqrt(second_moment(mean[:, : len(H)] - point, cov, len(H)))
        out[name] = (float(dist[-1]), float(dist.max()))
    return out


def _ladder_rows(c: dict, alpha: float, gaps=_thm45_gaps) -> list[dict]:
    """One row per η of the ladder and reference of ``gaps(c, η, α)``."""
    j_max = c["j_max_slow"] if alpha in c.get("slow_alphas", []) else c["j_max"]
    rows = []
    for j, eta in enumerate(eta_ladder(c["eta0"], j_max)):
        for reference, (final, worst) in gaps(c, eta, alpha).items():
            rows.append(
                {
                    "alpha": alpha,
                    "j": j,
                    "eta": eta,
                    "reference": reference,
                    "gap_final": final,
                    "gap_max": worst,
                }
            )
    return rows


def _slope_metrics(table: pd.DataFrame, fit_points: int, prefix: str) -> dict:
    metrics = {}
    for (alpha, reference), group in table.groupby(["alpha", "reference"]):
        group = group.sort_values("eta")
        key = f"{prefix}alpha={alpha:g}/{reference}"
        for gap in ("gap_final", "gap_max"):
            tail = group.head(fit_points)
            metrics[f"{key}/{gap}_slope"] = fit_loglog_slope(tail["eta"], tail[gap]).slope
        last4 = group.head(4)
        metrics[f"{key}/gap_final_slope_last4"] = fit_loglog_slope(
            last4["eta"], last4["gap_final"]
        ).slope
        metrics[f"{key}/gap_ratio"] = float(
            group["gap_final"].iloc[0] / group["gap_final"].iloc[-1]
        )
        metrics[f"{key}/gap_smallest_eta"] = float(group["gap_final"].iloc[0])
    return metrics


THM45_REFERENCES = ("eta_bar", "wrong_lr")
"""E4a's Theorem 4.5 comparisons; every other reference is an Appendix B statement."""


def _exact_order_metrics(table: pd.DataFrame) -> dict:
    """Per (α, reference): the exact order of the final and max-over-k gaps with its interval
    (``<metric>_ci``, :func:`sgdsde.stats.exact_order`) and the gap at the smallest η."""
    metrics = {}
    for (alpha, reference), group in table.groupby(["alpha", "reference"]):
        group = group.sort_values("eta", ascending=False)
        key = f"alpha={alpha:g}/{reference}"
        for gap in ("gap_final", "gap_max"):
            fit = exact_order(group["eta"].to_numpy(), group[gap].to_numpy())
            metrics[f"{key}/{gap}_order"] = fit.order
            metrics[f"{key}/{gap}_order_ci"] = [fit.ci_low, fit.ci_high]
        metrics[f"{key}/gap_smallest_eta"] = float(group["gap_final"].iloc[-1])
    return metrics


def _limit_moments(c: dict, dt: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``E‖X_t‖²`` at ``t = k·dt``, k = 0..n, of the α = 1 underdamped limit from
    ``(x_0, Hx_0)`` and of SGD's SDE from ``x_0``, exactly (docs/marginal_momentum.md#alpha-one)."""
    H, x0 = np.diag(c["H"]), np.array(c["x0"], dtype=float)
    z0 = np.concatenate([x0, H @ x0])
    underdamped = linear_sde_path(*underdamped_limit(H, one_minus_beta(c, 1.0, 1.0)), z0, dt, n)
    sgd = linear_sde_path(*sgd_limit(H), x0, dt, n)
    return second_moment(*underdamped, len(H)), second_moment(*sgd, len(H))


def run_E4a(cfg: dict, seed: int) -> ExperimentResult:
    """Theorem 4.5 by exact moments: final and max-over-k gaps of E‖x‖² between SGDM and SGD
    with the averaged LR (here η̄ = η), and the wrong-LR control η(1−β)
    (docs/marginal_momentum.md#e4a); Appendix B's α = 1 limit, coupled-trajectory distance and
    α > 1 displacement with their exact orders (docs/marginal_momentum.md#appendix-b)."""
    c = cfg["E4a"]
    rows = [r for a in c["alphas"] for r in _ladder_rows(c, a)]
    rows += [r for a in c["frozen_alphas"] for r in _ladder_rows(c, a, _frozen_gaps)]
    table = pd.DataFrame(rows)
    theorem = table["reference"].isin(THM45_REFERENCES)
    metrics = _slope_metrics(table[theorem], c["fit_points"], "")
    metrics |= _exact_order_metrics(table[~theorem])
    if 1.0 in c["alphas"]:
        underdamped, sgd = _limit_moments(c, c["T"], 1)
        limits = float(underdamped[-1] - sgd[-1])
        metrics["alpha=1/limits_gap"] = limits
        metrics["alpha=1/sgd_sde/gap_over_limits_gap"] = (
            metrics["alpha=1/sgd_sde/gap_smallest_eta"] / limits
        )
    return ExperimentResult({"table": table}, metrics)


def run_E4c(cfg: dict, seed: int) -> ExperimentResult:
    """Theorem 4.5 with a step decay η → η/drop at K/2: SGD with η̄_k (Eq. 8) against naive SGD
    with η_k (docs/marginal_momentum.md#e4c)."""
    c = {**cfg["E4a"], **cfg["E4c"]}
    table = pd.DataFrame(
        [r for a in c["alphas"] for r in _ladder_rows(c, a, partial(_thm45_gaps, schedule="drop"))]
    )
    metrics = _slope_metrics(table, c["fit_points"], "")
    for alpha, group in table.groupby("alpha"):
        small = group.nsmallest(4 * 2, "eta")  # 4 step sizes × 2 references
        wide = small.pivot(index="eta", columns="reference", values="gap_final")
        metrics[f"alpha={alpha:g}/eta_bar_not_worse_count"] = int(
            (wide["eta_bar"] <= wide["naive"]).sum()
        )
    return ExperimentResult({"table": table}, metrics)


def run_E4d(cfg: dict, seed: int) -> ExperimentResult:
    """SVAG on a Gaussian NGOS is the NGOS with LR η/ℓ and scale √ℓσ run ℓK steps, so it is an
    instance of Theorem 4.5: the exact SGD–SGDM gap decays ∝ 1/ℓ (docs/marginal_momentum.md#e4d)."""
    c, q = cfg["E4d"], cfg["E4a"]
    H, x0 = np.diag(q["H"]), np.array(q["x0"], dtype=float)
    eta, beta, K = c["eta"], c["beta"], round(q["T"] / c["eta"])
    rows = []
    for ell in c["ells"]:
        steps, sigma = np.full(ell * K, eta / ell), np.sqrt(ell / eta)
        sgdm = linear_gaussian_moments(H, x0, H @ x0, steps, beta, sigma)
        sgd = linear_gaussian_moments(H, x0, None, steps, 0.0, sigma, momentum=False)
        rows.append({"ell": ell, "gap_final": float(abs(sgdm[-1] - sgd[-1]))})
    table = pd.DataFrame(rows)
    tail = table[table["ell"] >= c["fit_from"]]
    metrics = {
        "ell_slope": fit_loglog_slope(tail["ell"], tail["gap_final"]).slope,
        "gaps": table["gap_final"].tolist(),
    }
    return ExperimentResult({"table": table}, metrics)
