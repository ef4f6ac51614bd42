"""SGD with momentum in the three parametrisations of arXiv 2307.15196 and their exact maps.

docs/marginal_momentum.md#setting. All updates are vectorised over a leading axis of
paths, ``x, m, g`` of shape ``(n_paths, d)``; ``g`` is a gradient sample (the paper's sign
convention: ``x`` moves along ``−g``).

* form (3), the paper's:   ``m_{k+1} = β_k m_k + (1−β_k) g_k``,  ``x_{k+1} = x_k − η_k m_{k+1}``;
* form (1), heavy ball:    ``m_{k+1} = β m_k + g_k``,            ``x_{k+1} = x_k − γ m_{k+1}``;
* Def. A.1, standard:      ``m_{k+1} = μ_k m_k + (1−τ_k) g_k``,  ``x_{k+1} = x_k − γ_k m_{k+1}``.

Lemma A.2 maps Def. A.1 onto form (3) (``z_{k+1} = μ_k z_k + 1 − τ_k``, ``η_k = γ_k z_{k+1}``,
``β_k = μ_k z_k / z_{k+1}``, ``m_0 = m^{std}_0/z_0``); form (1) is the case ``τ = 0`` with the
fixed point ``z ≡ 1/(1−β)``, i.e. "SGDM(γ, β) = SGDM(η = γ/(1−β), β)".
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import expm


def sgdm_step(x, m, eta, beta, g):
    """Form (3) (Def. 3.3): ``m' = βm + (1−β)g``, ``x' = x − η m'``."""
    m_next = beta * m + (1.0 - beta) * g
    return x - eta * m_next, m_next


def form1_step(x, m, gamma, beta, g):
    """Form (1) (PyTorch ``SGD(lr=γ, momentum=β)``): ``m' = βm + g``, ``x' = x − γ m'``."""
    m_next = beta * m + g
    return x - gamma * m_next, m_next


def standard_step(x, m, gamma, mu, tau, g):
    """Def. A.1: ``m' = μm + (1−τ)g`` (6), ``x' = x − γ m'`` (7)."""
    m_next = mu * m + (1.0 - tau) * g
    return x - gamma * m_next, m_next


def sgd_gradient_step(x, eta, g):
    """Vanilla SGD (2): ``x' = x − η g``."""
    return x - eta * g


def standard_to_paper(gamma, mu, tau, m0_std, z0: float = 1.0):
    """Lemma A.2 (docs/marginal_momentum.md#setting): the schedule ``(η_k, β_k)`` and ``m_0`` of
    form (3) whose iterates equal those of Def. A.1 with ``(γ_k, μ_k, τ_k)`` and ``m^{std}_0``, for
    any ``z_0 > 0``.

    ``z_{k+1} = μ_k z_k + 1 − τ_k``; ``η_k = γ_k z_{k+1}``; ``β_k = μ_k z_k/z_{k+1}``;
    ``m_0 = m^{std}_0 / z_0``. Requires ``τ_k < 1`` (then ``z_k > 0``)."""
    gamma, mu, tau = (np.asarray(a, dtype=float) for a in (gamma, mu, tau))
    if z0 <= 0 or np.any(tau >= 1):
        raise ValueError("Lemma A.2 needs z_0 > 0 and τ_k < 1")
    z = np.empty(len(gamma) + 1)
    z[0] = z0
    for k in range(len(gamma)):
        z[k + 1] = mu[k] * z[k] + 1.0 - tau[k]
    return gamma * z[1:], mu * z[:-1] / z[1:], np.asarray(m0_std, dtype=float) / z0


def heavy_ball_to_paper(gamma: float, beta: float, m0_hb):
    """Form (1) → form (3) (docs/marginal_momentum.md#setting): ``η = γ/(1−β)``, same β, ``m_0 =
    (1−β) m^{(1)}_0``."""
    return gamma / (1.0 - beta), beta, (1.0 - beta) * np.asarray(m0_hb, dtype=float)


def averaged_lr(eta, beta, tail: str = "constant") -> np.ndarray:
    """The averaged learning rate (8): ``η̄_k = (1−β_k) Σ_{j≥k} η_j β_{k+1:j}``.

    Backward recursion ``A_k = η_k + β_{k+1} A_{k+1}``, ``η̄_k = (1−β_k) A_k``
    (docs/marginal_momentum.md#coupled-trajectory). ``tail="zero"``: the schedule is 0 after the
    last step (the sums are finite and identity (11) is exact); ``"constant"``: it continues with
    its last values forever, whose sum is the geometric series ``A_K = η_{K−1}/(1−β_{K−1})``
    (pitfall 4)."""
    eta, beta = np.asarray(eta, dtype=float), np.asarray(beta, dtype=float)
    return (1.0 - beta) * _lr_tails(eta, beta, tail)[: len(eta)]


def _lr_tails(eta, beta, tail):
    """``A_k = Σ_{j≥k} η_j β_{k+1:j}`` for k = 0..K (``A_K`` is the tail after the run)."""
    if tail not in ("zero", "constant"):
        raise ValueError(f"tail must be 'zero' or 'constant', got {tail!r}")
    K = len(eta)
    A = np.empty(K + 1)
    A[K] = eta[-1] / (1.0 - beta[-1]) if tail == "constant" else 0.0
    beta_next = np.append(beta[1:], beta[-1])  # β_K only multiplies A_K (0 for the zero tail)
    for k in range(K - 1, -1, -1):
        A[k] = eta[k] + beta_next[k] * A[k + 1]
    return A


def coupled_offset(eta, beta, tail: str = "zero") -> np.ndarray:
    """``Σ_{j≥k} η_j β_{k:j} = β_k A_k``: the coupled trajectory (9) is
    ``x̃_k = x_k − β_k A_k m_k`` (SGDM's endpoint with all gradients from step k cut off)."""
    eta, beta = np.asarray(eta, dtype=float), np.asarray(beta, dtype=float)
    return beta * _lr_tails(eta, beta, tail)[: len(eta)]


# ----------------------------------------------------------------- §4.1 warm-up
# (docs/marginal_momentum.md#warm-up)


def warmup_step_variance_sgdm(eta: float, sigma: float, beta: float, k) -> np.ndarray:
    """Var of one SGDM step ``x_{k+1} − x_k = −η m_{k+1}`` for ``g ~ N(c, σ²)``, ``m_0 = c``:
    ``η²σ² (1−β)/(1+β) (1 − β^{2(k+1)})`` (docs/marginal_momentum.md#warm-up)."""
    k = np.asarray(k, dtype=float)
    return eta**2 * sigma**2 * (1 - beta) / (1 + beta) * (1 - beta ** (2 * (k + 1)))


def warmup_endpoint_variance_sgdm(eta: float, sigma: float, beta: float, n: int) -> float:
    """``Var x_n = η²σ² S_n(β)``, ``S_n = n − 2β(1−βⁿ)/(1−β) + β²(1−β^{2n})/(1−β²)``
    (docs/marginal_momentum.md#warm-up)."""
    S = n - 2 * beta * (1 - beta**n) / (1 - beta) + beta**2 * (1 - beta ** (2 * n)) / (1 - beta**2)
    return eta**2 * sigma**2 * S


# ----------------------------------------------------------------- SVAG (Def. 6.1,
# docs/marginal_momentum.md#svag-moments)


def svag_coefficients(ell: float) -> tuple[float, float]:
    """``r_{1,2}(ℓ) = (1 ± √(2ℓ−1))/2``: ``r₁ + r₂ = 1`` and ``r₁² + r₂² = ℓ``."""
    if ell < 1:
        raise ValueError(f"SVAG needs ℓ ≥ 1, got {ell}")
    s = np.sqrt(2.0 * ell - 1.0)
    return (1.0 + s) / 2.0, (1.0 - s) / 2.0


def svag_combine(g1, g2, ell: float):
    """SVAG's gradient ``ĝ = r₁(ℓ) g₁ + r₂(ℓ) g₂`` of two i.i.d. oracle draws (Def. 6.1)."""
    r1, r2 = svag_coefficients(ell)
    return r1 * np.asarray(g1) + r2 * np.asarray(g2)


def descent_terms(eta, sigma, grad, hess, cov) -> dict[str, float]:
    """The three terms of Lemma 3.4: descent ``−η‖∇L‖²``, noise ``(η²σ²/2) tr(∇²L Σ)``,
    curvature ``(η²/2) ∇Lᵀ∇²L∇L``."""
    grad, hess, cov = (np.asarray(a, dtype=float) for a in (grad, hess, cov))
    return {
        "descent": float(-eta * grad @ grad),
        "noise": float(eta**2 * sigma**2 / 2 * np.trace(hess @ cov)),
        "curvature": float(eta**2 / 2 * grad @ hess @ grad),
    }


# -------------------------------------------- exact moments, linear-Gaussian
# (docs/marginal_momentum.md#e4a)


def linear_gaussian_path(H, x0, m0, eta, beta, sigma, momentum: bool = True):
    """Means ``(K+1, n)`` and covariances ``(K+1, n, n)`` of the state for k = 0..K, exactly, for
    ``L = ½xᵀHx``, ``g = Hx + σ_k ξ`` (docs/marginal_momentum.md#e4a); the state is ``(x, m)``
    (n = 2d) for SGDM and ``x`` (n = d) for SGD.

    SGDM (3): ``z = (x, m)``, ``z' = A_k z + B_k ξ`` with
    ``A = [[I − η(1−β)H, −ηβI], [(1−β)H, βI]]``, ``B = [−η(1−β)σI; (1−β)σI]``;
    SGD (``momentum=False``, ``β`` ignored): ``A = I − ηH``, ``B = −ησI``.
    Mean ``μ' = Aμ`` and covariance ``C' = ACAᵀ + BBᵀ``.
    ``eta``, ``beta``, ``sigma`` are per-step arrays (or scalars broadcast to K steps)."""
    H = np.asarray(H, dtype=float)
    eta = np.atleast_1d(np.asarray(eta, dtype=float))
    beta = np.broadcast_to(np.asarray(beta, dtype=float), eta.shape)
    sigma = np.broadcast_to(np.asarray(sigma, dtype=float), eta.shape)
    start = np.concatenate([x0, m0]) if momentum else np.asarray(x0)
    n = len(start)
    mean, cov = np.empty((len(eta) + 1, n)), np.empty((len(eta) + 1, n, n))
    mean[0], cov[0] = start, 0.0
    previous = None
    for k, step in enumerate(zip(eta, beta, sigma, strict=True)):
        if step != previous:  # piecewise-constant schedules: rebuild only when it changes
            A, BB = _transition(H, *step, momentum)
            previous = step
        mean[k + 1] = A @ mean[k]
        cov[k + 1] = A @ cov[k] @ A.T + BB
    return mean, cov


def second_moment(mean, cov, d: int) -> np.ndarray:
    """``E‖x‖² = ‖μ_x‖² + tr C_xx`` of the first d coordinates, at every stored time."""
    return np.sum(mean[:, :d] ** 2, axis=1) + np.trace(cov[:, :d, :d], axis1=1, axis2=2)


def linear_gaussian_moments(H, x0, m0, eta, beta, sigma, momentum: bool = True) -> np.ndarray:
    """``E‖x_k‖²`` for k = 0..K of :func:`linear_gaussian_path` (docs/marginal_momentum.md#e4a)."""
    return second_moment(*linear_gaussian_path(H, x0, m0, eta, beta, sigma, momentum), len(H))


def linear_sde_path(F, Q, z0, dt: float, n: int):
    """Means ``(n+1, D)`` and covariances ``(n+1, D, D)`` of ``dZ = F Z dt + G dW``, ``GGᵀ = Q``,
    ``Z_0 = z0``, at ``t = k·dt``, k = 0..n, exactly (docs/marginal_momentum.md#alpha-one).

    The flow over one interval is ``Φ = e^{F dt}`` and its noise ``∫_0^{dt} e^{Fs} Q e^{Fᵀs} ds``,
    both from one matrix exponential of ``[[−F, Q], [0, Fᵀ]]·dt`` (Van Loan); then
    ``μ' = Φμ``, ``P' = ΦPΦᵀ + Q_dt``, the mean and Lyapunov ODEs solved exactly on the grid."""
    F, Q = np.asarray(F, dtype=float), np.asarray(Q, dtype=float)
    D = len(F)
    block = expm(np.block([[-F, Q], [np.zeros((D, D)), F.T]]) * dt)
    flow = block[D:, D:].T
    noise = flow @ block[:D, D:]
    mean, cov = np.empty((n + 1, D)), np.empty((n + 1, D, D))
    mean[0], cov[0] = z0, 0.0
    for k in range(n):
        mean[k + 1] = flow @ mean[k]
        cov[k + 1] = flow @ cov[k] @ flow.T + noise
    return mean, cov


def underdamped_limit(H, c: float):
    """``(F, GGᵀ)`` of SGDM's limit at α = 1 (1 − β = cη, σ = η^{−1/2}, t = kη, Appendix B.2,
    docs/marginal_momentum.md#alpha-one): ``dX = −M dt``, ``dM = c(HX − M) dt + c dW``."""
    H = np.asarray(H, dtype=float)
    eye, zero = np.eye(len(H)), np.zeros_like(H)
    F = np.block([[zero, -eye], [c * H, -c * eye]])
    return F, np.block([[zero, zero], [zero, c**2 * eye]])


def sgd_limit(H):
    """``(F, GGᵀ)`` of SGD's limit for σ = η^{−1/2}, t = kη: ``dX = −HX dt + dW``
    (docs/marginal_momentum.md#alpha-one)."""
    H = np.asarray(H, dtype=float)
    return -H, np.eye(len(H))


def _transition(H, e, b, s, momentum):
    """``(A, BBᵀ)`` of one step of :func:`linear_gaussian_moments`."""
    eye = np.eye(len(H))
    if not momentum:
        return eye - e * H, (e * s) ** 2 * eye
    A = np.block([[eye - e * (1 - b) * H, -e * b * eye], [(1 - b) * H, b * eye]])
    Bv = np.concatenate([-e * (1 - b) * s * np.ones(len(H)), (1 - b) * s * np.ones(len(H))])
    BB = np.outer(Bv, Bv) * np.tile(eye, (2, 2))  # ξ is shared by the x- and m-blocks
    return A, BB
