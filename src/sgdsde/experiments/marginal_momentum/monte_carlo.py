"""Monte-Carlo experiments of arXiv 2307.15196 (docs/marginal_momentum.md): the §4.1
warm-up (E0), Theorem 4.5 on the non-convex NC2 with coupled noise (E4b), Theorem 5.5 on the
``½(uv−1)²`` toy with its closed-form slow SDE (E5) and the SVAG oracle's moments (E6).

Every Monte-Carlo number carries its standard error; SGD and SGDM share their noise draws
(common random numbers), so a gap's SE is that of the pathwise difference."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import wasserstein_distance

from sgdsde.checks import require_finite
from sgdsde.engine import simulate
from sgdsde.experiments import ExperimentResult
from sgdsde.experiments.marginal_momentum.common import (
    PAPER,
    eta_ladder,
    json_records,
    paths,
)
from sgdsde.momentum_forms import (
    averaged_lr,
    descent_terms,
    sgd_gradient_step,
    sgdm_step,
    svag_coefficients,
    svag_combine,
    warmup_endpoint_variance_sgdm,
    warmup_step_variance_sgdm,
)
from sgdsde.problems import NC2, ManifoldToy
from sgdsde.seeding import rng
from sgdsde.stats import Estimate, fit_loglog_slope, mean_with_se, variance_with_se, weak_error


def _z(estimate: Estimate, exact: float) -> float:
    return abs(estimate.mean - exact) / estimate.se


def run_E0(cfg: dict, seed: int) -> ExperimentResult:
    """§4.1 warm-up (docs/marginal_momentum.md#warm-up): ``g_k ~ N(c, σ²)``, SGD and SGDM (3) from 0
    with ``m_0 = c``. Step variance ``η²σ²(1−β)/(1+β)(1−β^{2(k+1)})``, endpoint variances ``nη²σ²``
    and ``η²σ²S_n(β)``, equal means ``−nηc``; Monte Carlo against each closed form."""
    c = cfg["E0"]
    eta, beta, sigma, mean_g, n = c["eta"], c["beta"], c["sigma"], c["c"], c["n_steps"]
    x_sgd, x_sgdm, steps = [], [], {k: [] for k in c["step_checkpoints"]}
    for chunk in paths(c["n_paths"], c["chunk"]).chunks(seed, PAPER, "E0"):
        xs, xm, m = np.zeros(chunk.n), np.zeros(chunk.n), np.full(chunk.n, mean_g)
        for k in range(n):
            g = mean_g + sigma * chunk.normals()
            xs = sgd_gradient_step(xs, eta, g)
            xm_next, m = sgdm_step(xm, m, eta, beta, g)
            if k in steps:
                steps[k].append(xm_next - xm)
            xm = xm_next
        x_sgd.append(xs)
        x_sgdm.append(xm)
    x_sgd, x_sgdm = np.concatenate(x_sgd), np.concatenate(x_sgdm)
    rows, metrics = [], {}
    exact = {
        "sgd_endpoint_variance": n * eta**2 * sigma**2,
        "sgdm_endpoint_variance": warmup_endpoint_variance_sgdm(eta, sigma, beta, n),
    }
    for name, samples in (("sgd_endpoint_variance", x_sgd), ("sgdm_endpoint_variance", x_sgdm)):
        est = variance_with_se(samples)
        rows.append({"quantity": name, "k": n, "mc": est.mean, "se": est.se, "exact": exact[name]})
        metrics[f"{name}_z"] = _z(est, exact[name])
    step_z = []
    for k, parts in steps.items():
        est, value = (
            variance_with_se(np.concatenate(parts)),
            warmup_step_variance_sgdm(eta, sigma, beta, k),
        )
        rows.append(
            {
                "quantity": "sgdm_step_variance",
                "k": k,
                "mc": est.mean,
                "se": est.se,
                "exact": float(value),
            }
        )
        step_z.append(_z(est, float(value)))
    metrics["sgdm_step_variance_z"] = step_z
    for name, samples in (("sgd_mean", x_sgd), ("sgdm_mean", x_sgdm)):
        est = mean_with_se(samples)
        rows.append(
            {"quantity": name, "k": n, "mc": est.mean, "se": est.se, "exact": -n * eta * mean_g}
        )
        metrics[f"{name}_z"] = _z(est, -n * eta * mean_g)
    # the variance gap is O(η²σ²/(1−β)) for every n: gap / (2βη²σ²/(1−β)) < 1
    n_grid = np.unique(np.geomspace(1, c["gap_horizon"], 60).astype(int))
    gap = n_grid * eta**2 * sigma**2 - warmup_endpoint_variance_sgdm(eta, sigma, beta, n_grid)
    bound = 2 * beta * eta**2 * sigma**2 / (1 - beta)
    metrics["variance_gap_over_bound"] = float(gap.max() / bound)
    metrics["variance_gap_min"] = float(gap.min())
    curve = pd.DataFrame(
        {
            "n": n_grid,
            "sgd_variance": n_grid * eta**2 * sigma**2,
            "sgdm_variance": n_grid * eta**2 * sigma**2 - gap,
            "gap_bound": bound,
        }
    )
    k = np.arange(n)
    step_curve = pd.DataFrame(
        {
            "k": k,
            "sgdm_step_variance": warmup_step_variance_sgdm(eta, sigma, beta, k),
            "sgd_step_variance": eta**2 * sigma**2,
        }
    )
    metrics["rows"] = json_records(pd.DataFrame(rows))
    return ExperimentResult(
        {"table": pd.DataFrame(rows), "curve": curve, "step_curve": step_curve}, metrics
    )


_TEST_FUNCTIONS = {
    "x1": lambda x: x[:, 0],
    "sq_norm": lambda x: (x**2).sum(axis=1),
    "cos": lambda x: np.cos(x[:, 0] + x[:, 1]),
}


def run_E4b(cfg: dict, seed: int) -> ExperimentResult:
    """Theorem 4.5 on NC2 (docs/marginal_momentum.md#e4b): SGDM (3) with ``1−β = c_α η^α`` and SGD
    (η̄ = η for a constant schedule), ``σ = η^{−1/2}``, ``m_0 = ∇L(x_0)``, T = 1, common random
    numbers; ``E h(x_K) − E h(y_K)`` with the SE of the paired difference."""
    c = cfg["E4b"]
    problem = NC2()
    rows = []
    for alpha in c["alphas"]:
        for j, eta in enumerate(eta_ladder(c["eta0"], c["j_max"])):
            beta = 0.9 if alpha == 0 else 1.0 - eta**alpha
            K, sigma = round(c["T"] / eta), eta**-0.5
            ends = []
            keys = (PAPER, "E4b", round(1000 * alpha), j)
            for chunk in paths(c["n_paths"], c["chunk"]).chunks(seed, *keys):
                # SGDM (x) and SGD (y) as one form-(3) array: β = (β, 0), shared ξ
                X = np.tile(np.array(c["x0"], dtype=float), (2, chunk.n, 1))
                M = problem.gradient(X)
                betas = np.array([beta, 0.0])[:, None, None]
                for _ in range(K):
                    g = problem.sample_gradient(X, sigma, chunk.normals(2))
                    X, M = sgdm_step(X, M, eta, betas, g)
                ends.append(require_finite(X, "marginal_momentum.E4b", f"α={alpha:g}, η={eta:g}"))
            x, y = np.concatenate(ends, axis=1)
            for name, h in _TEST_FUNCTIONS.items():
                gap = weak_error(h(x), h(y), coupled=True)
                rows.append(
                    {
                        "alpha": alpha,
                        "j": j,
                        "eta": eta,
                        "beta": beta,
                        "test_function": name,
                        "gap": gap.mean,
                        "se": gap.se,
                    }
                )
    table = pd.DataFrame(rows)
    metrics = {}
    for (alpha, name), group in table.groupby(["alpha", "test_function"]):
        group = group.sort_values("eta")
        last = group.head(c["fit_points"])
        key = f"alpha={alpha:g}/{name}"
        resolved = bool((last["se"] * 4 <= last["gap"].abs()).all())
        fit = fit_loglog_slope(last["eta"], last["gap"], se=last["se"])
        metrics[f"{key}/slope"] = fit.slope if resolved else None  # no rate claimed
        metrics[f"{key}/slope_ci"] = [fit.ci_low, fit.ci_high]
        metrics[f"{key}/gap_ratio"] = float(abs(group["gap"].iloc[0] / group["gap"].iloc[-1]))
    return ExperimentResult({"table": table}, metrics)


# ------------------------------------------------------------------------------ Theorem 5.5


def toy_label_noise_limit(D0: float, sigma_label: float, lam_sq_integral) -> np.ndarray:
    """The slow SDE (T5) with label noise only: ``D(t) = D₀ exp(−σ_L² ∫₀ᵗ λ_s² ds)``."""
    return D0 * np.exp(-(sigma_label**2) * np.asarray(lam_sq_integral))


@dataclass(frozen=True)
class ToySlowSDE:
    """The slow SDE (T5) of ``D = u² − v²`` (docs/marginal_momentum.md#e5), in the engine's
    protocol: ``dD = −σ_L² λ_t² D dt + 2σ_I λ_t (D² + 4)^{1/4} dW``, state ``(n, 1)``. Theorem
    5.5 is a limit (η → 0) with no rate, so no weak order is claimed for it."""

    sigma_label: float
    sigma_iso: float
    schedule: Callable[[float], float]
    noise_shape = (1,)
    weak_order = None

    def drift(self, t: float, D: np.ndarray) -> np.ndarray:
        return -(self.sigma_label**2) * self.schedule(t) ** 2 * D

    def diffusion(self, t: float, D: np.ndarray, dW: np.ndarray) -> np.ndarray:
        return 2 * self.sigma_iso * self.schedule(t) * (D * D + 4) ** 0.25 * dW


def toy_slow_sde(D0, sde: ToySlowSDE, dt, n_paths, seed, keys, checkpoints) -> dict:
    """Euler–Maruyama samples of (T5) from ``D0``: ``{t: samples of D(t)}`` at the checkpoints."""
    steps = {round(t / dt): t for t in checkpoints}
    run = simulate(
        sde, np.array([float(D0)]), paths(n_paths, n_paths), sorted(steps), seed, *keys, dt=dt
    )
    states = run.require_converged(".".join(map(str, keys[:2])), f"dt = {dt:g}")
    return {steps[k]: states[r, :, 0] for r, k in enumerate(run.record_steps)}


def _schedule(spec: dict | None):
    """``λ_t``: 1, or ``values[i]`` on ``[switch_{i−1}, switch_i)`` (a step schedule)."""
    if spec is None:
        return lambda t: 1.0
    return lambda t: spec["values"][int(np.searchsorted(spec["switch"], t, side="right"))]


def _lam_sq_integral(spec: dict | None, t: float) -> float:
    if spec is None:
        return t
    edges = [0.0, *spec["switch"], np.inf]
    return sum(
        v**2 * max(0.0, min(t, b) - a)
        for v, a, b in zip(spec["values"], edges[:-1], edges[1:], strict=True)
    )


def _toy_algorithms(eta: float, beta_fixed: float, K: int, lam) -> dict:
    """Per-step ``(η_k, β_k)`` of each algorithm, all in form (3) (SGD is β = 0): SGD with η̄_k
    of the β-fixed SGDM schedule (Eq. 8), SGDM with β fixed (α = 0), SGDM with β = 1 − √η
    (α = 0.5), the α = 1 SGDM β = 1 − η (outside Thm 5.5, report only) and the negative
    control SGD at the un-rescaled PyTorch LR η(1 − β)."""
    eta_k = eta * np.array([lam(k * eta**2) for k in range(K)])
    const = np.ones(K)
    return {
        "sgd": (averaged_lr(eta_k, beta_fixed * const), 0.0 * const),
        "sgdm_fixed": (eta_k, beta_fixed * const),
        "sgdm_sqrt": (eta_k, (1 - np.sqrt(eta)) * const),
        "sgdm_alpha1": (eta_k, (1 - eta) * const),
        "sgd_wrong_lr": (eta_k * (1 - beta_fixed), 0.0 * const),
    }


def _simulate_toy(toy, x0, algorithms, K, n_paths, checkpoints_k, seed, keys):
    """All algorithms at once, form (3) vectorised over ``(algorithm, path)``, sharing noise,
    in the engine's seed blocks. Returns ``{k: D samples (n_alg, n_paths)}`` and
    ``{k: E|uv − 1|}``."""
    names = list(algorithms)
    eta = np.stack([algorithms[a][0] for a in names], axis=1)[:, :, None, None]
    beta = np.stack([algorithms[a][1] for a in names], axis=1)[:, :, None, None]
    D, dist = {k: [] for k in checkpoints_k}, {k: [] for k in checkpoints_k}
    for chunk in paths(n_paths, n_paths).chunks(seed, *keys):
        x = np.broadcast_to(np.asarray(x0, dtype=float), (len(names), chunk.n, 2)).copy()
        m = np.zeros_like(x)
        for k in range(K):
            g = toy.sample_gradient(x, chunk.normals(3))
            x, m = sgdm_step(x, m, eta[k], beta[k], g)
            if k + 1 in checkpoints_k:
                require_finite(x, "marginal_momentum.E5", f"η = {eta[0, 0, 0, 0]:g}, k = {k + 1}")
                D[k + 1].append(toy.invariant(x))
                dist[k + 1].append(np.abs(x[..., 0] * x[..., 1] - 1))
    D = {k: np.concatenate(v, axis=1) for k, v in D.items()}
    return names, D, {k: np.concatenate(v, axis=1).mean(axis=1) for k, v in dist.items()}


def run_E5(cfg: dict, seed: int) -> ExperimentResult:
    """Theorem 5.5 on ``L = ½(uv − 1)²`` (docs/marginal_momentum.md#e5): over ``t/η²`` steps SGD and
    SGDM follow the slow SDE (T5) of ``D = u² − v²``; label noise only (closed form, also with the
    step schedule λ_t) and label plus isotropic noise (Euler–Maruyama reference)."""
    c = cfg["E5"]
    x0 = np.array(c["x0"], dtype=float)
    D0 = float(ManifoldToy.invariant(x0))
    rows, samples = [], {}
    for case, spec in c["cases"].items():
        toy = ManifoldToy(c["sigma_label"], spec["sigma_iso"])
        lam = _schedule(spec.get("schedule"))
        ref = None
        if spec["sigma_iso"] > 0:
            ref = toy_slow_sde(
                D0,
                ToySlowSDE(c["sigma_label"], spec["sigma_iso"], lam),
                c["reference"]["dt"],
                c["reference"]["n_paths"],
                seed,
                (PAPER, "E5", case, "reference"),
                c["checkpoints"],
            )
        for j, eta in enumerate(eta_ladder(spec.get("eta0", c["eta0"]), spec["j_max"])):
            ks = {t: round(t / eta**2) for t in c["checkpoints"]}
            K = max(ks.values())
            algorithms = _toy_algorithms(eta, c["beta"], K, lam)
            names, D, dist = _simulate_toy(
                toy,
                x0,
                algorithms,
                K,
                spec["n_paths"],
                set(ks.values()),
                seed,
                (PAPER, "E5", case, j),
            )
            for t, k in ks.items():
                if ref is None:
                    target = Estimate(
                        float(
                            toy_label_noise_limit(
                                D0, c["sigma_label"], _lam_sq_integral(spec.get("schedule"), t)
                            )
                        ),
                        0.0,
                    )
                    target_sd = 0.0
                else:
                    target, target_sd = mean_with_se(ref[t]), float(ref[t].std(ddof=1))
                for a, name in enumerate(names):
                    est = mean_with_se(D[k][a])
                    rows.append(
                        {
                            "case": case,
                            "j": j,
                            "eta": eta,
                            "t": t,
                            "algorithm": name,
                            "mean_D": est.mean,
                            "se": float(np.hypot(est.se, target.se)),
                            "sd_D": float(D[k][a].std(ddof=1)),
                            "reference": target.mean,
                            "reference_sd": target_sd,
                            "error": est.mean - target.mean,
                            "dist_over_sqrt_eta": float(dist[k][a] / np.sqrt(eta)),
                        }
                    )
                    samples[(case, j, t, name)] = D[k][a]
    table = pd.DataFrame(rows)
    metrics = _toy_metrics(table, samples, c)
    w1 = [
        {
            "case": cs,
            "j": j,
            "t": t,
            "algorithm": a,
            "w1_to_sgd": wasserstein_distance(s, samples[(cs, j, t, "sgd")]),
        }
        for (cs, j, t, a), s in samples.items()
        if a in ("sgdm_fixed", "sgdm_sqrt")
    ]
    w1 = pd.DataFrame(w1)
    for (case, t, a), group in w1.groupby(["case", "t", "algorithm"]):
        if c["cases"][case]["sigma_iso"] > 0:
            group = group.sort_values("j")
            key = f"{case}/t={t:g}/{a}"
            metrics[f"{key}/w1_smallest_eta"] = float(group["w1_to_sgd"].iloc[-1])
            metrics[f"{key}/w1_increase"] = float(np.diff(group["w1_to_sgd"]).max())
    return ExperimentResult({"table": table, "w1": w1}, metrics)


def _toy_metrics(table: pd.DataFrame, samples: dict, c: dict) -> dict:
    metrics = {}
    for (case, t), group in table.groupby(["case", "t"]):
        key = f"{case}/t={t:g}"
        by = {a: g.sort_values("j") for a, g in group.groupby("algorithm")}
        iso = c["cases"][case]["sigma_iso"] > 0
        if not iso:
            sgd = by["sgd"].tail(4)
            metrics[f"{key}/sgd_slope_last4"] = fit_loglog_slope(
                sgd["eta"], sgd["error"], se=sgd["se"].clip(lower=1e-12)
            ).slope
            for a in ("sgdm_fixed", "sgdm_sqrt"):
                tail = by[a].tail(2)
                excess = tail["error"].abs() - np.maximum(0.01, 3 * tail["se"])
                metrics[f"{key}/{a}/excess_error"] = float(excess.max())
                j0, j1 = c["shrink_pair"]
                diff = (by[a].set_index("j")["mean_D"] - by["sgd"].set_index("j")["mean_D"]).abs()
                metrics[f"{key}/{a}/difference_shrink"] = float(diff[j0] / diff[j1])
            wrong, fixed = by["sgd_wrong_lr"].iloc[-1], by["sgdm_fixed"].iloc[-1]
            metrics[f"{key}/wrong_lr_gap"] = float(abs(wrong["mean_D"] - fixed["mean_D"]))
        else:
            for a in ("sgd", "sgdm_fixed", "sgdm_sqrt"):
                last = by[a].iloc[-1]
                metrics[f"{key}/{a}/mean_excess"] = float(
                    abs(last["error"]) - (3 * last["se"] + 0.03)
                )
                metrics[f"{key}/{a}/sd_error"] = float(abs(last["sd_D"] - last["reference_sd"]))
    return metrics


# ------------------------------------------------------------------------------ SVAG moments


def _minibatch_data(c: dict, gen: np.random.Generator):
    n, d = c["n_data"], c["dim"]
    X = gen.standard_normal((n, d))
    y = X @ gen.standard_normal(d) + c["label_noise"] * gen.standard_normal(n)
    return X, y


def _minibatch_gradients(per_sample: np.ndarray, B: int, n_draws: int, gen) -> np.ndarray:
    """Means of B per-sample gradients drawn without replacement, ``n_draws`` times."""
    idx = gen.random((n_draws, len(per_sample))).argpartition(B, axis=1)[:, :B]
    return per_sample[idx].mean(axis=1)


def run_E6(cfg: dict, seed: int) -> ExperimentResult:
    """SVAG (Def. 6.1, docs/marginal_momentum.md#e6): the coefficients, the first two moments of ``ĝ
    = r₁g₁ + r₂g₂`` for a without-replacement minibatch oracle on least squares, and the
    per-unit-time terms of Lemma 3.4 at LR η/ℓ, ℓ steps and covariance ℓσ²Σ."""
    c = cfg["E6"]
    ells = np.array(c["ells"], dtype=float)
    r = np.array([svag_coefficients(ell) for ell in ells])
    metrics = {
        "coefficient_sum_error": float(np.abs(r.sum(axis=1) - 1).max()),
        "coefficient_square_error": float(np.abs((r**2).sum(axis=1) - ells).max()),
        "r2_at_ell1": float(abs(svag_coefficients(1.0)[1])),
    }
    gen = rng(seed, PAPER, "E6")
    X, y = _minibatch_data(c, gen)
    w = np.zeros(c["dim"])
    per_sample = (X @ w - y)[:, None] * X  # ∇ℓ_i(w) = (x_iᵀw − y_i) x_i
    grad = per_sample.mean(axis=0)
    n, B = len(y), c["batch"]
    cov_g = np.cov(per_sample.T, ddof=0) / B * (n - B) / (n - 1)  # without replacement
    rows = []
    for ell in c["moment_ells"]:

        def svag_draws(gen, size, ell=ell):
            g1 = _minibatch_gradients(per_sample, B, size, gen)
            g2 = _minibatch_gradients(per_sample, B, size, gen)
            return svag_combine(g1, g2, ell)

        keys = (PAPER, "E6", "draws", str(ell))
        chunks = paths(c["n_draws"], c["chunk"]).chunks(seed, *keys)
        draws = np.concatenate([chunk.draw(svag_draws) for chunk in chunks])
        se = float(np.sqrt(np.trace(np.cov(draws.T)) / len(draws)))
        mean_err = float(np.linalg.norm(draws.mean(axis=0) - grad))
        cov_err = float(np.linalg.norm(np.cov(draws.T) - ell * cov_g) / np.linalg.norm(ell * cov_g))
        rows.append({"ell": ell, "mean_error": mean_err, "mean_se": se, "cov_rel_error": cov_err})
        metrics[f"ell={ell:g}/mean_error_over_se"] = mean_err / se
        metrics[f"ell={ell:g}/cov_rel_error"] = cov_err
    # Lemma 3.4 per unit time: ℓ steps at LR η/ℓ with covariance ℓσ²Σ
    hess, cov = X.T @ X / n, np.cov(per_sample.T, ddof=0)
    base = descent_terms(c["eta"], 1.0, grad, hess, cov)
    deviation = {"descent": 0.0, "noise": 0.0, "curvature": 0.0}
    for ell in ells:
        scaled = descent_terms(c["eta"] / ell, np.sqrt(ell), grad, hess, cov)
        predicted = {"descent": 1.0, "noise": 1.0, "curvature": 1.0 / ell}
        for term in deviation:
            ratio = ell * scaled[term] / base[term]
            deviation[term] = max(deviation[term], abs(ratio - predicted[term]))
    metrics.update({f"lemma34_{term}_deviation": v for term, v in deviation.items()})
    return ExperimentResult({"table": pd.DataFrame(rows)}, metrics)
