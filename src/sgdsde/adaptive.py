"""RMSprop and Adam with time step τ, and their effective ODE/SDEs
(docs/adaptive_sde.md#effective-equations).

Everything is vectorised over paths: a state is an array ``(n_paths, n_vars, d)`` with the
variables stacked in the order ``(θ, v)`` (RMSprop) or ``(θ, m, v)`` (Adam); Python loops run
over time only. All products, squares, roots and divisions are element-wise.

Each effective equation follows the engine's protocol (:mod:`sgdsde.engine`): ``drift(t, X)``,
``diffusion(t, X, dW)`` with increments ``(n, 2, d)`` (W1, W2; ``(n, 1, d)`` without W2),
``noise_shape`` and ``weak_order``.

The coupled Monte-Carlo engine :func:`coupled_weak_errors` drives the discrete optimiser and any
number of effective equations with the same noise (Brownian bridge, docs/adaptive_sde.md#coupling),
antithetic W2 (docs/adaptive_sde.md#coupling) and the χ² control variate
(docs/adaptive_sde.md#coupling).

Regimes (docs/adaptive_sde.md#regimes): *ballistic* — gradient noise ξ ~ N(0, Σ), v weight cτ;
*batch-equivalent* — noise ξ/√τ, v weight cτ² (the square-root scaling rule: η = √τ, 1−β = cη²,
ε_std = ε/√τ).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from sgdsde.checks import DivergenceError
from sgdsde.engine import Chunk, euler_maruyama
from sgdsde.linalg import matvec

REGIMES = ("ballistic", "batch_equivalent")


def _sqrtm_psd(M: np.ndarray) -> np.ndarray:
    """Symmetric PSD square root by eigendecomposition (``eigh`` then sqrt,
    docs/adaptive_sde.md#setting)."""
    w, U = np.linalg.eigh(M)
    return (U * np.sqrt(np.clip(w, 0.0, None))) @ U.T


@dataclass(frozen=True)
class GaussianDataQuadratic:
    """``f(θ;γ) = ½(θ−γ)ᵀA(θ−γ)``, ``γ ~ N(0, σ²I)`` (docs/adaptive_sde.md#problems): ``∇f = Aθ``,
    ``H = A``, ``ξ = −Aγ ~ N(0, Σ)``, ``Σ = σ²A²``, ``Σ^{1/2} = σA``, ``M = Cov(ξ⊙ξ) = 2Σ∘Σ``."""

    A: np.ndarray
    sigma: float

    def __post_init__(self):
        A = np.asarray(self.A, dtype=float)
        object.__setattr__(self, "A", A)
        object.__setattr__(self, "Sigma", self.sigma**2 * A @ A)
        object.__setattr__(self, "sqrt_Sigma", self.sigma * A)
        object.__setattr__(self, "diag_Sigma", np.diag(self.Sigma).copy())
        object.__setattr__(self, "M", 2.0 * self.Sigma**2)
        object.__setattr__(self, "sqrt_M", _sqrtm_psd(self.M))

    @property
    def d(self) -> int:
        return self.A.shape[0]

    def grad(self, theta: np.ndarray) -> np.ndarray:
        """``∇f(θ) = Aθ`` row-wise."""
        return matvec(self.A, theta)

    def hvp(self, x: np.ndarray) -> np.ndarray:
        """``H x = A x`` row-wise."""
        return matvec(self.A, x)

    def noise(self, z: np.ndarray) -> np.ndarray:
        """``ξ = Σ^{1/2} z`` for standard normals z (the coupling convention of
        docs/adaptive_sde.md#coupling)."""
        return matvec(self.sqrt_Sigma, z)


@dataclass(frozen=True)
class Preconditioner:
    """``D(v) = 1/(√φ(v) + ε s)`` with the regularisation φ of docs/adaptive_sde.md#preconditioner.

    ``kind``: ``relu`` ``φ = max(v, c_reg)``, ``φ' = 1{v > c_reg}`` (the code's); ``exp`` the C¹
    ``φ = v`` for ``v > c_reg`` else ``c_reg·exp(v/c_reg − 1)``; ``none`` ``φ = v``."""

    eps: float
    c_reg: float
    kind: str = "relu"

    def phi(self, v: np.ndarray) -> np.ndarray:
        if self.kind == "none" or self.c_reg <= 0:
            return v
        if self.kind == "relu":
            return np.maximum(v, self.c_reg)
        return np.where(v > self.c_reg, v, self.c_reg * np.exp(np.minimum(v / self.c_reg, 1) - 1))

    def dphi(self, v: np.ndarray) -> np.ndarray:
        if self.kind == "none" or self.c_reg <= 0:
            return np.ones_like(v)
        if self.kind == "relu":
            return (v > self.c_reg).astype(float)
        return np.where(v > self.c_reg, 1.0, np.exp(np.minimum(v / self.c_reg, 1) - 1))

    def D(self, v: np.ndarray, eps_scale=1.0) -> np.ndarray:  # noqa: N802 (spec notation)
        return 1.0 / (np.sqrt(self.phi(v)) + self.eps * eps_scale)

    def active(self, v: np.ndarray) -> np.ndarray:
        """Where φ changes v (``v < c_reg``): the fraction is logged
        (docs/adaptive_sde.md#preconditioner, R1)."""
        return (
            v < self.c_reg if (self.kind != "none" and self.c_reg > 0) else np.zeros_like(v, bool)
        )


def _check_regime(regime: str) -> None:
    if regime not in REGIMES:
        raise ValueError(f"regime must be one of {REGIMES}, got {regime!r}")


# ----------------------------------------------------------------------------- discrete
# (docs/adaptive_sde.md#optimisers)
@dataclass(frozen=True)
class RMSprop:
    """Discrete RMSprop with time step τ (docs/adaptive_sde.md#optimisers; θ uses the *old* v_n)::

    g_n = ∇f(θ_n) + ξ_n          (ballistic)   or  ∇f(θ_n) + ξ_n/√τ   (batch-equivalent)
    v_{n+1} = (1 − cτ) v_n + w g_n²,   w = cτ (ballistic) or cτ² (batch-equivalent)
    θ_{n+1} = θ_n − τ g_n/(√v_n + ε)
    """

    problem: GaussianDataQuadratic
    c: float
    eps: float
    regime: str = "ballistic"
    n_vars: int = field(default=2, init=False)
    cv_rate_name: str = field(default="c", init=False)

    def __post_init__(self):
        _check_regime(self.regime)

    def _gradient(self, theta, xi, tau):
        return self.problem.grad(theta) + (xi if self.regime == "ballistic" else xi / np.sqrt(tau))

    def _weight(self, c, tau):
        return c * tau if self.regime == "ballistic" else c * tau**2

    def step(self, X: np.ndarray, n: int, xi: np.ndarray, tau: float, xi_v=None) -> np.ndarray:
        """One step on a state ``(n_paths, 2, d)``; ``xi_v`` (the B2 diagnostic of
        docs/adaptive_sde.md#experiments) is an independent noise copy used in the v-update only."""
        theta, v = X[:, 0], X[:, 1]
        g = self._gradient(theta, xi, tau)
        gv = g if xi_v is None else self._gradient(theta, xi_v, tau)
        v_new = (1 - self.c * tau) * v + self._weight(self.c, tau) * gv * gv
        return np.stack([theta - tau * g / (np.sqrt(v) + self.eps), v_new], axis=1)

    def cv_rate(self) -> float:
        """The rate of the χ² control variate ``CV_{n+1} = (1−cτ)CV_n + cτ(ξ⊙ξ − diagΣ)``."""
        return self.c


def adam_offsets(indexing: str) -> tuple[int, int]:
    """Bias-correction indices: ``γ1_n = 1 − β1^{n+a1}``, ``γ2_n = 1 − β2^{n+a2}``
    (docs/adaptive_sde.md#optimisers): ``natural`` (1, 0) — m_{n+1} has had n+1 updates, v_n has had
    n; ``code`` (2, 1)."""
    return {"natural": (1, 0), "code": (2, 1)}[indexing]


@dataclass(frozen=True)
class Adam:
    """Discrete Adam with time step τ (docs/adaptive_sde.md#optimisers; θ uses the *new* m and the
    *old* v)::

    m_{n+1} = β1 m_n + c1τ g_n,   v_{n+1} = β2 v_n + w g_n²  (w = c2τ or c2τ²)
    θ_{n+1} = θ_n − τ Γ_n m_{n+1}/(√v_n + ε√γ2_n),   Γ_n = √γ2_n/γ1_n
    β_i = 1 − c_iτ,  γ1_n = 1 − β1^{n+a1},  γ2_n = 1 − β2^{n+a2}  (adam_offsets)
    """

    problem: GaussianDataQuadratic
    c1: float
    c2: float
    eps: float
    regime: str = "ballistic"
    indexing: str = "natural"
    n_vars: int = field(default=3, init=False)

    def __post_init__(self):
        _check_regime(self.regime)
        adam_offsets(self.indexing)

    def step(self, X: np.ndarray, n: int, xi: np.ndarray, tau: float, xi_v=None) -> np.ndarray:
        theta, m, v = X[:, 0], X[:, 1], X[:, 2]
        ballistic = self.regime == "ballistic"
        g = self.problem.grad(theta) + (xi if ballistic else xi / np.sqrt(tau))
        w2 = self.c2 * tau if ballistic else self.c2 * tau**2
        m_new = (1 - self.c1 * tau) * m + self.c1 * tau * g
        v_new = (1 - self.c2 * tau) * v + w2 * g * g
        a1, a2 = adam_offsets(self.indexing)
        gamma1 = 1 - (1 - self.c1 * tau) ** (n + a1)
        gamma2 = 1 - (1 - self.c2 * tau) ** (n + a2)
        Gamma = np.sqrt(gamma2) / gamma1
        theta_new = theta - tau * Gamma * m_new / (np.sqrt(v) + self.eps * np.sqrt(gamma2))
        return np.stack([theta_new, m_new, v_new], axis=1)

    def cv_rate(self) -> float:
        return self.c2


def standard_rmsprop_step(theta, V, g, eta: float, beta: float, eps_std: float):
    """Textbook RMSprop with the code's ordering (θ uses the old V):
    ``V' = βV + (1−β)g²``, ``θ' = θ − η g/(√V + ε_std)`` (docs/adaptive_sde.md#optimisers, standard
    reading)."""
    return theta - eta * g / (np.sqrt(V) + eps_std), beta * V + (1 - beta) * g * g


def stack(*blocks) -> np.ndarray:
    """Stack per-variable blocks ``(d,)`` or ``(n, d)`` into a state ``(n, n_vars, d)``."""
    blocks = [np.atleast_2d(np.asarray(b, dtype=float)) for b in blocks]
    n = max(b.shape[0] for b in blocks)
    return np.stack([np.broadcast_to(b, (n, b.shape[1])) for b in blocks], axis=1)


# ------------------------------------------------------------ effective equations
# (docs/adaptive_sde.md#effective-equations)
@dataclass(frozen=True)
class ModelSpec:
    """Which effective equation: order 1 or 2, whether it has its diffusion, whether W2 (the
    independent BM on v, the paper's key claim) and the W1 cross-term of the v-row are kept, and
    which published-code discrepancies (docs/adaptive_sde.md#code-variants) are switched on."""

    order: int
    diffusion: bool = True
    w2: bool = True
    v_w1: bool = True
    code_terms: frozenset = frozenset()


#: The named models of the experiments. ``code`` switches on every discrepancy of
# docs/adaptive_sde.md#code-variants that
#: applies to the optimiser and regime (rows 1–2 RMSprop; 3, 4, 6–8 Adam).
MODELS = {
    "ode": ModelSpec(1, diffusion=False),
    "sde1": ModelSpec(1),
    "sde1_code": ModelSpec(1, code_terms=frozenset({"code"})),
    "sde2": ModelSpec(2),
    "sde2_no_w2": ModelSpec(2, w2=False),
    "sde2_drift": ModelSpec(2, diffusion=False),
    "sde2_code": ModelSpec(2, code_terms=frozenset({"code"})),
    "sde2_no_v_w1": ModelSpec(2, v_w1=False),
    "sde2_code_hv": ModelSpec(2, diffusion=False, code_terms=frozenset({"hv"})),
    "sde2_code_dt": ModelSpec(2, diffusion=False, code_terms=frozenset({"dt"})),
    "sde2_code_drift": ModelSpec(2, diffusion=False, code_terms=frozenset({"hv", "dt"})),
    "sde2_code_no_v_w1": ModelSpec(2, v_w1=False, code_terms=frozenset({"code"})),
}


def _weak_order(spec: ModelSpec, regime: str) -> int | None:
    """The weak order the theory gives (docs/adaptive_sde.md#effective-equations): 1 for SDE1
    (and the ODE in the ballistic regime, where the noise is O(√τ)), 2 for the complete SDE2;
    None for the ablations and code variants, whose order is what the experiments measure."""
    if spec == ModelSpec(1, diffusion=False):
        return 1 if regime == "ballistic" else None
    return spec.order if spec == ModelSpec(spec.order) else None


def _split(dW: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """``(dW1, dW2)`` of the increments ``(n, 1 or 2, d)``."""
    return dW[:, 0], (dW[:, 1] if dW.shape[1] > 1 else None)


def _has(spec: ModelSpec, term: str) -> bool:
    return term in spec.code_terms or "code" in spec.code_terms


def _malladi(spec: ModelSpec) -> bool:
    """The authors' batch-equivalent order-1 class, ``sde1_code``
    (docs/adaptive_sde.md#code-variants)."""
    return spec.order == 1 and "code" in spec.code_terms


def _preconditioner(name: str, tau: float, eps: float, regime: str, c_reg, regulariser):
    """``D(v)`` of the named model: ``φ = max(v, c_reg)``, ``c_reg = τ`` unless given; the
    authors' batch-equivalent order-1 class (``sde1_code``) uses ``√v`` with no φ, and exists
    only in that regime (docs/adaptive_sde.md#code-variants)."""
    _check_regime(regime)
    if _malladi(MODELS[name]):
        if regime != "batch_equivalent":
            raise ValueError(f"{name} is the authors' batch-equivalent order-1 class")
        return Preconditioner(eps, 0.0, "none")
    return Preconditioner(eps, tau if c_reg is None else c_reg, regulariser)


class _EffectiveEquation:
    """What both optimisers' equations share in the engine's protocol: the increments are
    ``(dW1, dW2)``, W2 only where the model keeps it, and the weak order of the theory."""

    def uses_w2(self) -> bool:
        return self.spec.order == 2 and self.spec.diffusion and self.spec.w2

    @property
    def noise_shape(self) -> tuple[int, int] | None:
        return None if not self.spec.diffusion else (1 + self.uses_w2(), self.problem.d)

    @property
    def weak_order(self) -> int | None:
        return _weak_order(self.spec, self.regime)


@dataclass(frozen=True)
class RMSpropEquation(_EffectiveEquation):
    """Effective equations of RMSprop, state ``(θ, v)`` (docs/adaptive_sde.md#effective-equations
    ballistic, docs/adaptive_sde.md#effective-equations batch-eq).

    ``R = ∇f² + diagΣ − v`` (ballistic) or ``R_b = diagΣ − v`` (batch-eq), ``D = D(v)``::

        ballistic   dθ = [−D∇f − τ/2 (D H(D∇f) + c/2 D³R∇f φ')] dt − √τ D Σ^{1/2}dW1
                    dv = [cR + τ/2 (2c ∇f H(D∇f) + c²R)] dt + √τ [2c∇f Σ^{1/2}dW1 + c M^{1/2}dW2]
        batch-eq    dθ = [same drift with R_b] dt − [DΣ^{1/2}dW1 + τ(½D H(DΣ^{1/2}dW1)
                          + c/4 D³R_b φ' Σ^{1/2}dW1)]
                    dv = [cR_b + τ(c∇f² + ½c²R_b)] dt + 2cτ∇f Σ^{1/2}dW1 + c√τ M^{1/2}dW2

    Order 1 keeps the O(1) terms: the ODE ``dθ = −D∇f``, ``dv = cR`` and "SDE_1order" with the
    θ-noise only (ballistic ``√τ DΣ^{1/2}dW1``; batch-eq Malladi-type ``DΣ^{1/2}dW1``). The
    ``code`` variant: ballistic order 2 without W2 (docs/adaptive_sde.md#code-variants); batch-eq
    H-term of the θ diffusion with coefficient c/2 instead of ½ (row 2)."""

    problem: GaussianDataQuadratic
    spec: ModelSpec
    tau: float
    c: float
    precond: Preconditioner
    regime: str = "ballistic"

    def drift(self, t: float, X: np.ndarray) -> np.ndarray:
        p, c, tau = self.problem, self.c, self.tau
        theta, v = X[:, 0], X[:, 1]
        gr, D = p.grad(theta), self.precond.D(v)
        ballistic = self.regime == "ballistic"
        R = (gr * gr if ballistic else 0.0) + p.diag_Sigma - v
        b_theta, b_v = -D * gr, c * R
        if self.spec.order == 2:
            HDg = p.hvp(D * gr)
            dphi = self.precond.dphi(v)
            b_theta = b_theta - 0.5 * tau * (D * HDg + 0.5 * c * D**3 * R * gr * dphi)
            if ballistic:
                b_v = b_v + 0.5 * tau * (2 * c * gr * HDg + c * c * R)
            else:
                b_v = b_v + tau * (c * gr * gr + 0.5 * c * c * R)
        return np.stack([b_theta, b_v], axis=1)

    def diffusion(self, t: float, X: np.ndarray, dW: np.ndarray) -> np.ndarray:
        """The diffusion applied to the increments ``dW = (dW1, dW2)``, ``(n, 2, d)`` (or
        ``(n, 1, d)`` without W2)."""
        p, c, tau, s = self.problem, self.c, self.tau, self.spec
        dW1, dW2 = _split(dW)
        out = np.zeros_like(X)
        theta, v = X[:, 0], X[:, 1]
        D, xi = self.precond.D(v), p.noise(dW1)
        ballistic = self.regime == "ballistic"
        if ballistic:
            out[:, 0] = -np.sqrt(tau) * D * xi
        else:
            out[:, 0] = -D * xi
            if s.order == 2:
                h_coef = 0.5 * c if _has(s, "code") else 0.5
                R_b = p.diag_Sigma - v
                dphi = self.precond.dphi(v)
                out[:, 0] -= tau * (h_coef * D * p.hvp(D * xi) + 0.25 * c * D**3 * R_b * dphi * xi)
        if s.order == 2:
            gr = p.grad(theta)
            if s.v_w1:
                out[:, 1] = (np.sqrt(tau) if ballistic else tau) * 2 * c * gr * xi
            keep_w2 = s.w2 and not (ballistic and _has(s, "code"))
            if keep_w2 and dW2 is not None:
                out[:, 1] += np.sqrt(tau) * c * matvec(p.sqrt_M, dW2)
        return out


@dataclass(frozen=True)
class AdamEquation(_EffectiveEquation):
    """Effective equations of Adam, state ``(θ, m, v)`` (docs/adaptive_sde.md#effective-equations
    ballistic, docs/adaptive_sde.md#effective-equations batch-eq).

    ``Γ(t) = √γ2(t)/γ1(t)``, ``γ_i(t) = 1 − exp(−(t + a_iτ)S_i)``, ``S_i = −ln(1−c_iτ)/τ`` so
    that ``Γ(nτ) = Γ_n`` of the discrete with the same indexing; ``D = 1/(√φ(v) + ε√γ2)``::

        dθ = [−ΓDm + τ(½c1ΓD(m−∇f) − ¼c2ΓD³mRφ' + ½∂t(ΓD)m)] dt   (+ batch-eq: −½c1τΓDΣ^{1/2}dW1)
        dm = [c1(∇f−m) + τ(½c1ΓH(Dm) + ½c1²(∇f−m))] dt + κ_m Σ^{1/2}dW1
        dv = [c2R + τ(c2Γ∇f H(Dm) + ½c2²R)] dt + κ_v ∇f Σ^{1/2}dW1 + c2√τ M^{1/2}dW2

    ballistic: ``R = ∇f² + diagΣ − v``, ``κ_m = √τc1``, ``κ_v = 2√τc2``; batch-eq: ``R = diagΣ−v``,
    v-drift correction ``τ(c2∇f² + ½c2²R)``, ``κ_m = c1(1 + ½c1τ)``, ``κ_v = 2τc2``.
    Order 1: ODE ``dθ = −ΓDm, dm = c1(∇f−m), dv = c2R``; "SDE_1order" adds the m-noise
    (``√τc1`` ballistic, ``c1`` batch-eq). Code variants (docs/adaptive_sde.md#code-variants):
    ``hv`` ``H(∇f⊙D)`` in b1_v (row 3); ``dt`` ``+½Γγ2'D²/√γ2`` time-derivative term (row 4);
    ``code`` also flips the v-row W1 sign (row 6), drops ``(1+½c1τ)`` (row 7) and c1 in the θ-row
    (row 8), and takes the rates ``S_i`` from the authors' five-term series (``series``)."""

    problem: GaussianDataQuadratic
    spec: ModelSpec
    tau: float
    c1: float
    c2: float
    precond: Preconditioner
    regime: str = "ballistic"
    indexing: str = "natural"

    def _rate(self, c):
        """``S`` with ``1 − e^{−τS} = cτ``, so that ``γ(nτ)`` is the discrete bias correction;
        the code variants take the authors' five-term series ``Σ_{k≤5} c^k τ^{k−1}/k!`` instead
        (it is ``(e^{cτ} − 1)/τ`` truncated: the same to O(τ), ``−c³τ²/6`` apart at O(τ²))."""
        if _malladi(self.spec):
            return c
        if _has(self.spec, "series"):
            return sum(c**k * self.tau ** (k - 1) / math.factorial(k) for k in range(1, 6))
        return -np.log1p(-c * self.tau) / self.tau

    def gammas(self, t: float):
        """``(γ1, γ2, γ1', γ2')`` at time t; the authors' order-1 class (``sde1_code``) takes
        Malladi et al.'s ``γ_i = 1 − e^{−c_i t}``, without the discrete chain's index offsets."""
        a1, a2 = (0, 0) if _malladi(self.spec) else adam_offsets(self.indexing)
        S1, S2 = self._rate(self.c1), self._rate(self.c2)
        e1, e2 = np.exp(-(t + a1 * self.tau) * S1), np.exp(-(t + a2 * self.tau) * S2)
        return 1 - e1, 1 - e2, S1 * e1, S2 * e2

    def drift(self, t: float, X: np.ndarray) -> np.ndarray:
        p, tau, c1, c2 = self.problem, self.tau, self.c1, self.c2
        theta, m, v = X[:, 0], X[:, 1], X[:, 2]
        g1, g2, dg1, dg2 = self.gammas(t)
        Gamma = np.sqrt(g2) / g1
        gr, D = p.grad(theta), self.precond.D(v, np.sqrt(g2))
        ballistic = self.regime == "ballistic"
        R = (gr * gr if ballistic else 0.0) + p.diag_Sigma - v
        b_theta, b_m, b_v = -Gamma * D * m, c1 * (gr - m), c2 * R
        if self.spec.order == 2:
            dGamma = dg2 / (2 * np.sqrt(g2) * g1) - np.sqrt(g2) * dg1 / g1**2
            if _has(self.spec, "dt"):
                dGD = dGamma * D + Gamma * 0.5 * dg2 * D**2 / np.sqrt(g2)
            else:
                dGD = dGamma * D - Gamma * self.precond.eps * D**2 * dg2 / (2 * np.sqrt(g2))
            dphi = self.precond.dphi(v)
            b_theta = b_theta + tau * (
                0.5 * c1 * Gamma * D * (m - gr)
                - 0.25 * c2 * Gamma * D**3 * m * R * dphi
                + 0.5 * dGD * m
            )
            HDm = p.hvp(D * m)
            b_m = b_m + tau * (0.5 * c1 * Gamma * HDm + 0.5 * c1 * c1 * (gr - m))
            Hv = p.hvp(D * gr) if _has(self.spec, "hv") else HDm
            if ballistic:
                b_v = b_v + tau * (c2 * Gamma * gr * Hv + 0.5 * c2 * c2 * R)
            else:
                b_v = b_v + tau * (c2 * gr * gr + 0.5 * c2 * c2 * R)
        return np.stack([b_theta, b_m, b_v], axis=1)

    def diffusion(self, t: float, X: np.ndarray, dW: np.ndarray) -> np.ndarray:
        """The diffusion applied to the increments ``dW = (dW1, dW2)`` (as for RMSprop)."""
        p, tau, c1, c2, s = self.problem, self.tau, self.c1, self.c2, self.spec
        dW1, dW2 = _split(dW)
        out = np.zeros_like(X)
        theta, v = X[:, 0], X[:, 2]
        xi = p.noise(dW1)
        ballistic = self.regime == "ballistic"
        code = "code" in s.code_terms
        if ballistic:
            out[:, 1] = np.sqrt(tau) * c1 * xi
        else:
            out[:, 1] = c1 * (1 if (code or s.order == 1) else 1 + 0.5 * c1 * tau) * xi
            if s.order == 2:
                g1, g2, _, _ = self.gammas(t)
                D = self.precond.D(v, np.sqrt(g2))
                out[:, 0] = -0.5 * (1 if code else c1) * tau * (np.sqrt(g2) / g1) * D * xi
        if s.order == 2:
            if s.v_w1:
                sign = -1.0 if code else 1.0
                out[:, 2] = (
                    sign * (np.sqrt(tau) if ballistic else tau) * 2 * c2 * p.grad(theta) * xi
                )
            if s.w2 and dW2 is not None:
                out[:, 2] += np.sqrt(tau) * c2 * matvec(p.sqrt_M, dW2)
        return out


def rmsprop_equation(
    problem,
    name: str,
    tau: float,
    c: float,
    eps: float,
    regime: str = "ballistic",
    c_reg: float | None = None,
    regulariser: str = "relu",
) -> RMSpropEquation:
    """The named RMSprop model of :data:`MODELS` at time step τ (``c_reg`` defaults to τ)."""
    precond = _preconditioner(name, tau, eps, regime, c_reg, regulariser)
    return RMSpropEquation(problem, MODELS[name], tau, c, precond, regime)


def adam_equation(
    problem,
    name: str,
    tau: float,
    c1: float,
    c2: float,
    eps: float,
    regime: str = "ballistic",
    indexing: str = "natural",
    c_reg: float | None = None,
    regulariser: str = "relu",
) -> AdamEquation:
    """The named Adam model of :data:`MODELS` at time step τ."""
    precond = _preconditioner(name, tau, eps, regime, c_reg, regulariser)
    return AdamEquation(problem, MODELS[name], tau, c1, c2, precond, regime, indexing)


# ------------------------------------------------ reference SMEs of SGD (calibration, E0)
@dataclass(frozen=True)
class _ThetaOnly:
    """A state θ alone, ``(n, d)``, on the Gaussian-data quadratic at step τ, with d-dimensional
    noise, in the engine's protocol."""

    problem: GaussianDataQuadratic
    tau: float
    theta0: np.ndarray

    @property
    def noise_shape(self) -> tuple[int]:
        return (self.problem.d,)

    def initial_state(self) -> np.ndarray:
        return np.asarray(self.theta0, dtype=float)

    def position(self, X: np.ndarray) -> np.ndarray:
        return X


@dataclass(frozen=True)
class SGD(_ThetaOnly):
    """SGD, ``θ_{n+1} = θ_n − τ(Aθ_n + ξ_n)``, ``ξ_n = Σ^{1/2} z_n`` (docs/adaptive_sde.md#e0)."""

    def step(self, t: float, X: np.ndarray, z: np.ndarray) -> np.ndarray:
        return X - self.tau * (self.problem.grad(X) + self.problem.noise(z))


@dataclass(frozen=True)
class LiTaiE(_ThetaOnly):
    """The stochastic modified equations of SGD (Li, Tai and E; docs/adaptive_sde.md#e0)::

        order 1:  dθ = −∇f dt + √τ Σ^{1/2} dW                  (weak order 1)
        order 2:  dθ = −∇(f + τ/4 ‖∇f‖²) dt + √τ Σ^{1/2} dW     (weak order 2)

    on ``f = ½θᵀAθ`` the order-2 drift is ``−(A + τ/2 A²)θ``."""

    order: int = 1

    @property
    def weak_order(self) -> int:
        return self.order

    def drift(self, t: float, X: np.ndarray) -> np.ndarray:
        grad = self.problem.grad(X)
        return -(grad + 0.5 * self.tau * self.problem.hvp(grad)) if self.order == 2 else -grad

    def diffusion(self, t: float, X: np.ndarray, dW: np.ndarray) -> np.ndarray:
        return np.sqrt(self.tau) * self.problem.noise(dW)


# ---------------------------------------------------------------------------------- integrators
def rk4_drift(model, X0: np.ndarray, t0: float, T: float, dt: float) -> np.ndarray:
    """The drift ODE ``Ẋ = b(t, X)`` by classical RK4 (the σ = 0 checks,
    docs/adaptive_sde.md#integrators)."""
    X = np.array(X0, dtype=float)
    for k in range(round((T - t0) / dt)):
        t = t0 + k * dt
        k1 = model.drift(t, X)
        k2 = model.drift(t + dt / 2, X + dt / 2 * k1)
        k3 = model.drift(t + dt / 2, X + dt / 2 * k2)
        k4 = model.drift(t + dt, X + dt * k3)
        X = X + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    return X


def bridge_increments(z: np.ndarray, tau: float, normals: np.ndarray) -> np.ndarray:
    """K i.i.d. ``N(0, τ/K)`` increments ``(K, n, d)`` summing to ``√τ z`` (Brownian bridge,
    docs/adaptive_sde.md#coupling), built from K independent standard normals ``(K, n, d)``: the
    deviations from the mean of i.i.d. Gaussians are independent of their sum."""
    K = normals.shape[0]
    inc = normals * np.sqrt(tau / K)
    return inc - inc.mean(axis=0, keepdims=True) + (np.sqrt(tau) * z / K)[None]


# ------------------------------------------------------------------------- test functions
# (docs/adaptive_sde.md#test-functions)
def _sq(x):
    return (x * x).mean(axis=-1)


def _norm(x):
    return np.sqrt((x * x).sum(axis=-1)) / x.shape[-1]


def evaluate_test_functions(X: np.ndarray) -> dict[str, np.ndarray]:
    """Per-path ``‖θ‖²/d``, ``‖v‖²/d`` (the paper's f1, f2), the code's ``‖θ‖/d``, ``‖v‖/d``,
    Adam's ``‖m‖²/d`` and the diagnostics ``v_1²`` and ``θ_1²v_1``."""
    theta, v = X[:, 0], X[:, -1]
    out = {
        "theta_sq": _sq(theta),
        "v_sq": _sq(v),
        "theta_norm": _norm(theta),
        "v_norm": _norm(v),
        "v1_sq": v[:, 0] ** 2,
        "theta1_sq_v1": theta[:, 0] ** 2 * v[:, 0],
    }
    if X.shape[1] == 3:
        out["m_sq"] = _sq(X[:, 1])
    return out


# ------------------------------------------------------------------------- coupled Monte Carlo
# (docs/adaptive_sde.md#coupling)
@dataclass
class CoupledRun:
    """What :func:`coupled_weak_errors` measured on one chunk of paths, at one τ.

    ``terminal[g]['disc']`` and ``terminal[g][model]`` are per-path values at T (models averaged
    over the antithetic pair); ``cv`` the control variates at T (:func:`control_variates`);
    ``sums[g][model]`` the
    per-grid-time sums of ``g(disc) − g(model)`` and of its square, and of ``g(disc)``,
    ``g(model)`` per seed block, ``(n_blocks, 4, n_times)``, so that chunks merge by
    concatenation and the totals are summed once in block order; ``active[model]`` the number
    of (path, substep) pairs where φ was active."""

    times: np.ndarray
    terminal: dict
    cv: np.ndarray
    sums: dict
    active: dict
    counted: dict


def coupled_weak_errors(
    disc,
    models: dict,
    X0: np.ndarray,
    tau: float,
    T: float,
    skip: int,
    K: int,
    chunk: Chunk,
    antithetic: bool = True,
    independent_v_noise: bool = False,
    label: str = "",
) -> CoupledRun:
    """Drive ``disc`` (RMSprop or Adam) and every model with the same noise
    (docs/adaptive_sde.md#coupling):

    * ``skip`` noise-free discrete steps, then every model starts from the common state at
      ``t = skip·τ``;
    * the paths are the engine's ``chunk`` (:mod:`sgdsde.engine`): every per-path value is the
      same however the seed blocks are grouped into chunks;
    * step n: ``z_n ~ N(0, I)``, ``ξ_n = Σ^{1/2} z_n``; each model takes K Euler–Maruyama substeps
      ``dt = τ/K`` (:func:`sgdsde.engine.euler_maruyama`) with W1 increments bridged to
      ``√τ z_n`` and W2 independent, antithetic (each model path is run with ``±W2`` and the test
      functions averaged);
    * the control variate ``CV_{n+1} = (1−rτ)CV_n + rτ(ξ_n² − diagΣ)`` (exact mean 0, r the
      v-rate) is accumulated for the v-noise;
    * ``independent_v_noise`` (the B2 diagnostic) gives the discrete v-update its own copy ξ'.

    Models without diffusion are integrated once (they are deterministic from the common
    start). Raises :class:`DivergenceError` if a state becomes non-finite."""
    p = disc.problem
    d, n_steps = p.d, round(T / tau)
    n_blocks, n_paths = len(chunk.sizes), chunk.n
    if len(set(chunk.sizes)) > 1:
        raise ValueError(f"{label}: seed blocks of unequal sizes {chunk.sizes}")
    paths_per_block = chunk.sizes[0]
    X = np.broadcast_to(np.asarray(X0, dtype=float), (1, disc.n_vars, d)).copy()
    for n in range(skip):
        X = disc.step(X, n, np.zeros((1, d)), tau)
    X = np.repeat(X, n_paths, axis=0)
    mult = 2 if antithetic else 1
    # a model without diffusion started from the common state is deterministic: one path
    Y = {
        name: X[:1].copy() if model.noise_shape is None else np.repeat(X, mult, axis=0)
        for name, model in models.items()
    }

    def per_path(val):
        if val.shape[0] == 1:
            return np.broadcast_to(val, (n_paths,))
        return val.reshape(mult, n_paths).mean(axis=0)

    cv, r = np.zeros((n_paths, d)), disc.cv_rate()
    cv2 = np.zeros((n_paths, d))
    P, P2 = np.zeros((d, d)), np.zeros((d, d))  # exact E[cv cvᵀ], E[cv2 cv2ᵀ]
    times = tau * np.arange(skip, n_steps + 1)
    sums, counted = {}, {}
    active = {name: 0 for name in models}

    def record(i):
        g_disc = evaluate_test_functions(X)
        for name, Yn in Y.items():
            g_mod = evaluate_test_functions(Yn)
            for g, val in g_mod.items():
                val = per_path(val)
                diff = g_disc[g] - val
                s = sums.setdefault(g, {}).setdefault(name, np.zeros((n_blocks, 4, len(times))))
                for j, term in enumerate((diff, diff * diff, g_disc[g], val)):
                    s[:, j, i] = term.reshape(n_blocks, paths_per_block).sum(axis=1)

    def counter(name, model):
        def count(state):
            active[name] += int(model.precond.active(state[:, -1]).any(axis=-1).sum())

        return count

    record(0)
    dt = tau / K
    for i, n in enumerate(range(skip, n_steps), start=1):
        z = chunk.normals(d)
        xi = p.noise(z)
        xi_v = p.noise(chunk.normals(d)) if independent_v_noise else None
        X = disc.step(X, n, xi, tau, xi_v=xi_v)
        cv = (1 - r * tau) * cv + r * tau * ((xi if xi_v is None else xi_v) ** 2 - p.diag_Sigma)
        P = (1 - r * tau) ** 2 * P + (r * tau) ** 2 * p.M
        inc = bridge_increments(z, tau, chunk.normals(d, lead=(K,)))
        w2 = chunk.normals(d, lead=(K,)) * np.sqrt(tau / K)
        for k in range(K):
            cv2 = (1 - r * tau / K) * cv2 + np.sqrt(tau) * r * matvec(p.sqrt_M, w2[k])
            P2 = (1 - r * tau / K) ** 2 * P2 + tau * r * r * (tau / K) * p.M
        if antithetic:
            inc, w2 = np.concatenate([inc, inc], axis=1), np.concatenate([w2, -w2], axis=1)
        noise = np.stack([inc, w2], axis=2)  # (K, paths, W1/W2, d)
        for name, model in models.items():
            increments = noise if model.noise_shape is None else noise[:, :, : model.noise_shape[0]]
            Y[name] = euler_maruyama(model, Y[name], n * tau, dt, increments, counter(name, model))
        if not np.all(np.isfinite(X)) or not all(np.all(np.isfinite(Yn)) for Yn in Y.values()):
            raise DivergenceError(f"{label}: non-finite state at τ = {tau:g}, step {n}")
        record(i)
    g_disc = evaluate_test_functions(X)
    terminal = {g: {"disc": val} for g, val in g_disc.items()}
    for name, Yn in Y.items():
        for g, val in evaluate_test_functions(Yn).items():
            terminal[g][name] = np.array(per_path(val))
    counted = {name: Y[name].shape[0] * K * (n_steps - skip) for name in models}
    return CoupledRun(times, terminal, control_variates(cv, P, cv2, P2), sums, active, counted)


def control_variates(cv, P, cv2, P2) -> np.ndarray:
    """Exactly-mean-zero control variates at T (docs/adaptive_sde.md#coupling, extended): the
    discrete chain's χ² response ``CV`` and its centred products ``CV_i CV_j − E[CV_i CV_j]``, and
    the products of the SDE's W2 response ``CV2`` (its linear part cancels in the antithetic
    average). ``P`` and ``P2`` are the exact second moments from the linear recursions."""
    i, j = np.triu_indices(cv.shape[1])
    return np.column_stack([cv, cv[:, i] * cv[:, j] - P[i, j], cv2[:, i] * cv2[:, j] - P2[i, j]])
