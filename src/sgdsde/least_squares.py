"""Least-squares SGD and its SDE models (docs/least_squares.md#setting,
docs/least_squares.md#derivations).

Training loss ``L̂(θ) = (1/2n)‖Xθ − y‖²``, population loss ``L(θ) = ½(θ−θ*)ᵀH(θ−θ*) + σ²/2``
with Gaussian features. The SDE ``dθ = −∇L dt + σ(θ) dB`` has ``σσᵀ = γ Σ_κ(θ)``: κ = 1 (V1) the
exact covariance of the SGD martingale term, κ = 0 (V0) its uncentred second moment
(docs/least_squares.md#setting).

Everything is affine in θ, so the first two moments solve closed linear equations
(docs/least_squares.md#moment-equations): they are computed on Sym(d) in an orthonormal basis
(:class:`SymOperators`). Simulations use the factorised noise of
docs/least_squares.md#setting/docs/least_squares.md#euler-maruyama, never a matrix square root:
training ``√(γΔ/n) Xᵀ(r ⊙ P_κ ξ)``, population ``√(γΔ)[√(ηᵀHη+σ²) H^{1/2}ζ + √c' (Hη) ζ']`` (H
diagonal in its eigenbasis).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
from scipy import integrate, optimize, special
from scipy.linalg import expm

DATA_VERSION = 1
NOISE_VARIANTS = {"V0": 0, "V1": 1}


# ---------------------------------------------------------------------------- datasets
# (docs/least_squares.md#experiments)
def spectrum(spec: dict) -> np.ndarray:
    """Eigenvalues of H: ``{"values": [...]}`` or ``{"power": β, "d": d}`` (``λ_k = k^{−β}``)."""
    if "values" in spec:
        return np.asarray(spec["values"], dtype=float)
    return np.arange(1, spec["d"] + 1, dtype=float) ** (-float(spec["power"]))


def config_hash(section: dict) -> str:
    """SHA-256 (16 hex digits) of a config section, stored in each dataset's metadata."""
    return hashlib.sha256(json.dumps(section, sort_keys=True).encode()).hexdigest()[:16]


def make_training_set(cfg: dict, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Gaussian design ``x_i ~ N(0, diag(λ))`` with labels ``y = Xθ_true + noise·ξ``
    (docs/least_squares.md#experiments).

    ``theta_true`` is a list, or ``"gaussian"`` for ``θ_true ~ N(0, I)``; ``noise = 0`` gives
    noiseless labels, ``n < d`` an over-parametrised (interpolable) set."""
    lam = spectrum(cfg["spectrum"])
    d, n = len(lam), cfg["n"]
    X = rng.standard_normal((n, d)) * np.sqrt(lam)
    theta = cfg["theta_true"]
    theta = rng.standard_normal(d) if theta == "gaussian" else np.asarray(theta, dtype=float)
    y = X @ theta + cfg["noise"] * rng.standard_normal(n)
    return {"X": X, "y": y, "theta_true": theta}


def make_population(cfg: dict, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Population law (H = diag(λ), θ* = 0, label noise σ) and a finite sample of its online
    stream ``(x_k, y_k)``, ``x ~ N(0, H)``, ``y = ε ~ N(0, σ²)`` (used to check Σ_0,
    docs/least_squares.md#setting)."""
    lam = spectrum(cfg["spectrum"])
    n = cfg["stream_samples"]
    x = rng.standard_normal((n, len(lam))) * np.sqrt(lam)
    return {
        "lam": lam,
        "theta_star": np.zeros(len(lam)),
        "sigma": np.array(cfg["sigma"]),
        "stream_x": x,
        "stream_y": cfg["sigma"] * rng.standard_normal(n),
    }


def write_dataset(path: Path, arrays: dict[str, np.ndarray], meta: dict) -> None:
    """``.npz`` with the arrays and a JSON ``meta`` record (version, config hash, seed, …)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.npz")
    np.savez_compressed(tmp, meta=np.array(json.dumps(meta, sort_keys=True)), **arrays)
    tmp.replace(path)


def read_dataset(path: str | Path, expected_hash: str | None = None) -> tuple[dict, dict]:
    """``(arrays, meta)``; refuses a file of another version or config hash."""
    with np.load(path) as f:
        meta = json.loads(str(f["meta"]))
        arrays = {k: f[k] for k in f.files if k != "meta"}
    if meta["version"] != DATA_VERSION:
        raise ValueError(f"{path}: data version {meta['version']} != {DATA_VERSION}; rerun data")
    if expected_hash is not None and meta["config_hash"] != expected_hash:
        raise ValueError(f"{path}: config hash {meta['config_hash']} != {expected_hash}")
    return arrays, meta


# ---------------------------------------------------------------- training problem
# (docs/least_squares.md#setting)
@dataclass(frozen=True)
class TrainingProblem:
    """Training least squares: ``H = XᵀX/n``, ``θ̂`` the least-squares solution closest to
    ``θ_0`` (minimum norm for θ_0 = 0), residual ``ε̂ = y − Xθ̂``, and the constants of
    docs/least_squares.md#rates."""

    X: np.ndarray
    y: np.ndarray
    theta0: np.ndarray | None = None

    @property
    def n(self) -> int:
        return self.X.shape[0]

    @property
    def d(self) -> int:
        return self.X.shape[1]

    @cached_property
    def H(self) -> np.ndarray:  # noqa: N802 (spec notation)
        return self.X.T @ self.X / self.n

    @cached_property
    def theta_hat(self) -> np.ndarray:
        """``θ_0 − X⁺(Xθ_0 − y)``: the minimiser closest to θ_0 (docs/least_squares.md#setting)."""
        t0 = np.zeros(self.d) if self.theta0 is None else np.asarray(self.theta0, float)
        return t0 - np.linalg.pinv(self.X) @ (self.X @ t0 - self.y)

    @cached_property
    def eps_hat(self) -> np.ndarray:
        return self.y - self.X @ self.theta_hat

    @property
    def L_star(self) -> float:  # noqa: N802 (spec notation)
        return float(self.eps_hat @ self.eps_hat / (2 * self.n))

    @cached_property
    def range_basis(self) -> np.ndarray:
        """Orthonormal basis ``V_r`` (d × r) of Range(Xᵀ) = Range(H)."""
        _, s, Vt = np.linalg.svd(self.X, full_matrices=False)
        return Vt[s > s.max() * 1e-10].T

    def reduced(self) -> TrainingProblem:
        """The same problem in coordinates of Range(Xᵀ) (features ``X V_r``): the SDE never
        leaves ``θ_0 + Range(Xᵀ)`` (docs/least_squares.md#setting), so moments are computed there,
        with H_r ≻ 0."""
        V = self.range_basis
        return TrainingProblem(self.X @ V, self.y, V.T @ self.theta_hat)

    def loss(self, theta: np.ndarray) -> np.ndarray:
        """``L̂(θ)`` row by row."""
        return 0.5 * np.mean((theta @ self.X.T - self.y) ** 2, axis=-1)

    @property
    def eigenvalues(self) -> np.ndarray:
        return np.linalg.eigvalsh(self.H)

    @property
    def mu(self) -> float:
        """``λ_min^+(H)``."""
        lam = self.eigenvalues
        return float(lam[lam > lam.max() * 1e-10].min())

    @property
    def L_H(self) -> float:  # noqa: N802 (spec notation)
        return float(self.eigenvalues.max())

    @property
    def K_R2(self) -> float:  # noqa: N802 (spec notation)
        """``max_i ‖x_i‖²`` (docs/least_squares.md#rates)."""
        return float(np.max(np.sum(self.X**2, axis=1)))

    @property
    def K_opt(self) -> float:  # noqa: N802 (spec notation)
        """``λ_max(H^{−1/2} [(1/n)Σ‖x_i‖²x_ix_iᵀ] H^{−1/2})`` on Range(H)
        (docs/least_squares.md#rates)."""
        r = self.reduced()
        w, U = np.linalg.eigh(r.H)
        Hm = U @ np.diag(w**-0.5) @ U.T
        F = (r.X.T * np.sum(r.X**2, axis=1)) @ r.X / r.n
        return float(np.linalg.eigvalsh(Hm @ F @ Hm).max())

    @property
    def trH(self) -> float:  # noqa: N802 (spec notation)
        return float(np.trace(self.H))

    @property
    def K_cons(self) -> float:  # noqa: N802 (spec notation)
        """``max(K_R2, tr H)``; ``γ_max = 1/(3 K_cons)`` (docs/least_squares.md#rates)."""
        return max(self.K_R2, self.trH)

    @property
    def gamma_max(self) -> float:
        return 1.0 / (3.0 * self.K_cons)


def sigma_factor(problem: TrainingProblem, theta: np.ndarray, gamma: float, kappa: int):
    """The d × n noise factor of docs/least_squares.md#setting: ``√(γ/n) Xᵀ diag(r(θ)) P_κ``, P_1 =
    I − 𝟙𝟙ᵀ/n."""
    n = problem.n
    r = problem.X @ theta - problem.y
    P = np.eye(n) - kappa * np.ones((n, n)) / n
    return np.sqrt(gamma / n) * (problem.X.T * r) @ P


def noise_covariance(problem: TrainingProblem, theta: np.ndarray, kappa: int) -> np.ndarray:
    """``Σ_κ(θ) = (1/n)Xᵀdiag(r)²X − κ ∇L̂∇L̂ᵀ`` (docs/least_squares.md#setting), for θ of shape
    ``(…, d)``."""
    X, n = problem.X, problem.n
    r = theta @ X.T - problem.y
    grad = r @ X / n
    return np.einsum("...n,ni,nj->...ij", r**2, X, X) / n - kappa * (
        grad[..., :, None] * grad[..., None, :]
    )


def homogeneous_noise(problem: TrainingProblem, kappa: int):
    """``S ↦ Σ_hom(S) = (1/n)Σ(x_iᵀs)²x_ix_iᵀ − κHssᵀH``: the noise of the GBM part (ε̂ = 0) that
    sets the tail index (docs/least_squares.md#lyapunov-exponent)."""
    noiseless = TrainingProblem(problem.X, np.zeros(problem.n))
    return lambda S: noise_covariance(noiseless, S, kappa)


# ---------------------------------------------------------- moments on Sym(d)
# (docs/least_squares.md#moment-equations, docs/least_squares.md#discrete-recursions)
def sym_basis(d: int) -> np.ndarray:
    """Orthonormal basis of Sym(d) (Frobenius), shape ``(d(d+1)/2, d, d)``."""
    basis = []
    for i in range(d):
        for j in range(i, d):
            E = np.zeros((d, d))
            E[i, j] = E[j, i] = 1.0 if i == j else 2**-0.5
            basis.append(E)
    return np.array(basis)


class SymOperators:
    """The linear maps of docs/least_squares.md#moment-equations as matrices on Sym(d) in the basis
    :func:`sym_basis`: ``𝓛(M) = HM + MH``, ``𝒯(M) = (1/n)Σ(x_iᵀMx_i)x_ix_iᵀ``, ``HMH``, and
    ``𝒞(m)``, ``S_0``. Built on the reduced problem (Range H), where all inverses exist."""

    def __init__(self, problem: TrainingProblem):
        full = problem.range_basis.shape[1] == problem.d
        self.problem = p = problem if full else problem.reduced()
        self.basis = np.eye(problem.d) if full else problem.range_basis  # d × r
        self.d = p.d
        self.E = sym_basis(p.d)
        X, H, n = p.X, p.H, p.n
        q = np.einsum("ni,bij,nj->bn", X, self.E, X)
        self.T = self._project(np.einsum("bn,ni,nj->bij", q, X, X) / n)
        self.L = self._project(H @ self.E + self.E @ H)
        self.HMH = self._project(H @ self.E @ H)
        C = np.einsum("n,nk,ni,nj->kij", p.eps_hat, X, X, X) / n
        self.C = self._project(C)  # (m_sym, d): column k = vec 𝒞(e_k)
        self.S0 = self.vec((X.T * p.eps_hat**2) @ X / n)

    def _project(self, images: np.ndarray) -> np.ndarray:
        return np.einsum("aij,bij->ab", self.E, images)

    def vec(self, M: np.ndarray) -> np.ndarray:
        return np.einsum("aij,...ij->...a", self.E, M)

    def unvec(self, v: np.ndarray) -> np.ndarray:
        return np.einsum("...a,aij->...ij", v, self.E)

    def S(self, kappa: int) -> np.ndarray:  # noqa: N802 (spec notation)
        """``𝒮_κ = 𝒯 − κ H·H``."""
        return self.T - kappa * self.HMH

    def A(self, gamma: float, kappa: int) -> np.ndarray:  # noqa: N802 (spec notation)
        """``𝒜_γ = −𝓛 + γ𝒮_κ`` (docs/least_squares.md#e1)."""
        return -self.L + gamma * self.S(kappa)


def spectral_abscissa(matrix: np.ndarray) -> float:
    return float(np.linalg.eigvals(matrix).real.max())


def l2_rate(ops: SymOperators, gamma: float, kappa: int) -> float:
    """``ρ_2(γ) = −s(𝒜_γ)``: the exact L² rate of the noiseless SDE (docs/least_squares.md#e1)."""
    return -spectral_abscissa(ops.A(gamma, kappa))


def critical_gamma(ops: SymOperators, kappa: int) -> float:
    """``γ_2 = 1/ρ(𝓛⁻¹𝒮_κ)``, where ρ_2 vanishes and the stationary 2nd moment blows up
    (docs/least_squares.md#moment-equations)."""
    return 1.0 / float(np.abs(np.linalg.eigvals(np.linalg.solve(ops.L, ops.S(kappa)))).max())


def stationary_second_moment(ops: SymOperators, gamma: float, kappa: int) -> np.ndarray:
    """``M_∞``: the Lyapunov-type equation ``𝓛(M) − γ𝒮_κ(M) = γS_0`` (docs/least_squares.md#e5), in
    reduced coords."""
    return ops.unvec(np.linalg.solve(-ops.A(gamma, kappa), gamma * ops.S0))


def _affine_generator(ops: SymOperators, gamma_kappa: tuple[float, int]) -> np.ndarray:
    """Generator of ``z = (m, vec M, 1)``: ``ṁ = −Hm``, ``Ṁ = 𝒜_γ M − 2γ𝒞(m) + γS_0``."""
    gamma, kappa = gamma_kappa
    d, m = ops.d, len(ops.E)
    G = np.zeros((d + m + 1, d + m + 1))
    G[:d, :d] = -ops.problem.H
    G[d : d + m, :d] = -2 * gamma * ops.C
    G[d : d + m, d : d + m] = ops.A(gamma, kappa)
    G[d : d + m, -1] = gamma * ops.S0
    return G


def moment_flow(ops, gamma, kappa, m0, M0, times) -> tuple[np.ndarray, np.ndarray]:
    """Exact ``(E η_t, E η_tη_tᵀ)`` of the SDE at ``times`` (η = θ − θ̂, reduced coordinates),
    by ``expm`` of the affine generator (docs/least_squares.md#moment-equations)."""
    G = _affine_generator(ops, (gamma, kappa))
    z0 = np.concatenate([m0, ops.vec(M0), [1.0]])
    z = np.array([expm(t * G) @ z0 for t in times])
    return z[:, : ops.d], ops.unvec(z[:, ops.d : -1])


def sgd_moment_step_matrix(ops: SymOperators, gamma: float) -> np.ndarray:
    """The exact SGD recursion of docs/least_squares.md#discrete-recursions on ``(m, vec M, 1)``:
    ``m ← (I − γH)m``, ``M ← M − γ𝓛(M) + γ²(𝒯(M) − 2𝒞(m) + S_0)``."""
    d, m = ops.d, len(ops.E)
    G = np.eye(d + m + 1)
    G[:d, :d] -= gamma * ops.problem.H
    G[d : d + m, :d] = -2 * gamma**2 * ops.C
    G[d : d + m, d : d + m] += -gamma * ops.L + gamma**2 * ops.T
    G[d : d + m, -1] = gamma**2 * ops.S0
    return G


def em_moment_step_matrix(ops: SymOperators, gamma: float, kappa: int, dt: float):
    """Euler–Maruyama's exact moment recursion on ``(m, vec M, 1)``
    (docs/least_squares.md#discrete-recursions): ``m ← (I − ΔH)m``, ``M ← (I−ΔH)M(I−ΔH) + Δγ(𝒮_κ(M)
    − 2𝒞(m) + S_0)``."""
    d, m = ops.d, len(ops.E)
    G = np.eye(d + m + 1)
    G[:d, :d] -= dt * ops.problem.H
    G[d : d + m, :d] = -2 * dt * gamma * ops.C
    G[d : d + m, d : d + m] += -dt * ops.L + dt**2 * ops.HMH + dt * gamma * ops.S(kappa)
    G[d : d + m, -1] = dt * gamma * ops.S0
    return G


def recursion_moments(ops, step_matrix, m0, M0, steps) -> tuple[np.ndarray, np.ndarray]:
    """``(m_k, M_k)`` of an exact moment recursion (SGD or EM) at the step counts ``steps``."""
    z = np.concatenate([m0, ops.vec(M0), [1.0]])
    out, k = [], 0
    for target in steps:
        z = np.linalg.matrix_power(step_matrix, int(target) - k) @ z
        k = int(target)
        out.append(z)
    out = np.array(out)
    return out[:, : ops.d], ops.unvec(out[:, ops.d : -1])


def sgd_stationary_second_moment(ops: SymOperators, gamma: float) -> np.ndarray:
    """Fixed point of the SGD recursion: ``γ𝓛(M) − γ²𝒯(M) = γ²S_0``
    (docs/least_squares.md#discrete-recursions)."""
    return ops.unvec(np.linalg.solve(gamma * ops.L - gamma**2 * ops.T, gamma**2 * ops.S0))


def em_stationary_second_moment(ops: SymOperators, gamma: float, kappa: int, dt: float):
    """Stationary 2nd moment of Euler–Maruyama with step Δ
    (docs/least_squares.md#discrete-recursions): ``M = (I−ΔH)M(I−ΔH) + Δγ(𝒮_κ(M) + S_0)``."""
    lhs = dt * ops.L - dt**2 * ops.HMH - dt * gamma * ops.S(kappa)
    return ops.unvec(np.linalg.solve(lhs, dt * gamma * ops.S0))


# ------------------------------------------------------------------- simulations
# (docs/least_squares.md#euler-maruyama): models in the engine's protocol (sgdsde.engine)
@dataclass(frozen=True)
class TrainingSDE:
    """The training SDE with factorised noise, weak order 1 in γ
    (docs/least_squares.md#euler-maruyama): ``dθ = −∇L̂(θ) dt + √(γ/n) Xᵀ(r(θ) ⊙ P_κ dB)``,
    ``r = Xθ − y``, B an n-dimensional Brownian motion, ``P_1 = I − 𝟙𝟙ᵀ/n``; state ``(N, d)``.
    Its products go through BLAS, so the engine advances it one seed block at a time."""

    problem: TrainingProblem
    gamma: float
    kappa: int
    weak_order = 1
    rowwise = False

    @property
    def noise_shape(self) -> tuple[int]:
        return (self.problem.n,)

    def drift(self, t: float, theta: np.ndarray) -> np.ndarray:
        """``−∇L̂(θ) = −H(θ − θ̂)``, with ``θ̂`` the least-squares solution (``Xᵀε̂ = 0``)."""
        return (self.problem.theta_hat - theta) @ self.problem.H

    def diffusion(self, t: float, theta: np.ndarray, dB: np.ndarray) -> np.ndarray:
        p = self.problem
        if self.kappa:
            dB = dB - dB.mean(axis=1, keepdims=True)
        return np.sqrt(self.gamma / p.n) * ((theta @ p.X.T - p.y) * dB) @ p.X


@dataclass(frozen=True)
class TrainingSGD:
    """Multi-pass SGD ``θ ← θ − γ(⟨θ, x_i⟩ − y_i)x_i``, ``i ~ Unif{1..n}``
    (docs/least_squares.md#setting), as the engine's discrete optimiser."""

    problem: TrainingProblem
    gamma: float

    def draw(self, chunk) -> np.ndarray:
        return chunk.draw(lambda gen, size: gen.integers(0, self.problem.n, size=size))

    def step(self, t: float, theta: np.ndarray, i: np.ndarray) -> np.ndarray:
        x = self.problem.X[i]
        return theta - self.gamma * (np.sum(theta * x, axis=1) - self.problem.y[i])[:, None] * x


@dataclass(frozen=True)
class TimeAveraged:
    """A model together with the running integral of its state, ``dS = X dt``, state
    ``(N, 2, …)`` = (X, S): ``S_T/T`` is the Polyak–Ruppert average of docs/least_squares.md#e7."""

    model: object

    @property
    def noise_shape(self):
        return self.model.noise_shape

    @property
    def weak_order(self):
        return self.model.weak_order

    @property
    def rowwise(self) -> bool:
        return getattr(self.model, "rowwise", True)

    def drift(self, t: float, XS: np.ndarray) -> np.ndarray:
        return np.stack([self.model.drift(t, XS[:, 0]), XS[:, 0]], axis=1)

    def diffusion(self, t: float, XS: np.ndarray, dW: np.ndarray) -> np.ndarray:
        noise = self.model.diffusion(t, XS[:, 0], dW)
        return np.stack([noise, np.zeros_like(noise)], axis=1)


@dataclass(frozen=True)
class ScalarTraining:
    """d = 1 training SDE in law, ``dη = −hη dt + √D(η) dW``, ``D(η) = γ(Aη² − 2bη + c)``, weak
    order 1 in γ, in the engine's protocol with state ``(N,)``
    (docs/least_squares.md#pearson-iv), with ``h = ⟨x²⟩``, ``a = ⟨x⁴⟩``, ``b = ⟨x³ε̂⟩``, ``c =
    ⟨x²ε̂²⟩``, ``A = a − κh²``."""

    h: float
    A: float
    b: float
    c: float
    gamma: float

    @classmethod
    def from_problem(cls, problem: TrainingProblem, gamma: float, kappa: int):
        x, e = problem.X[:, 0], problem.eps_hat
        h = float(np.mean(x**2))
        A = float(np.mean(x**4)) - kappa * h**2
        return cls(h, A, float(np.mean(x**3 * e)), float(np.mean(x**2 * e**2)), gamma)

    def diffusion_coefficient(self, eta: np.ndarray) -> np.ndarray:
        """``D(η)``, clipped at 0 against rounding."""
        return np.maximum(self.gamma * (self.A * eta**2 - 2 * self.b * eta + self.c), 0.0)

    @property
    def alpha(self) -> float:
        """Tail index ``α = 1 + 2h/(γA)`` (docs/least_squares.md#pearson-iv)."""
        return 1 + 2 * self.h / (self.gamma * self.A)

    @property
    def ell(self) -> float:
        return self.b / self.A

    @property
    def delta(self) -> float:
        return float(np.sqrt((self.A * self.c - self.b**2) / self.A**2))

    @property
    def nu(self) -> float:
        return self.h / (self.gamma * self.A)

    def moments(self, p_max: int) -> np.ndarray:
        """Stationary ``m_p``, p = 0..p_max (< α): the fixed point of :meth:`moment_generator`,
        ``m_p = −p(p−1)γ(c m_{p−2}/2 − b m_{p−1})/(−ph + p(p−1)γA/2)``
        (docs/least_squares.md#pearson-iv)."""
        m = np.zeros(p_max + 1)
        m[0] = 1.0
        for p in range(2, p_max + 1):
            growth = -p * self.h + p * (p - 1) * self.gamma * self.A / 2
            m[p] = -(p * (p - 1) * self.gamma * (self.c * m[p - 2] / 2 - self.b * m[p - 1]))
            m[p] /= growth
        return m

    def moment_generator(self, p_max: int) -> np.ndarray:
        """Matrix of the triangular moment ODE ``ṁ_p = (−ph + p(p−1)γA/2)m_p − p(p−1)γb m_{p−1}
        + (p(p−1)/2)γc m_{p−2}``, p = 0..p_max (docs/least_squares.md#pearson-iv)."""
        G = np.zeros((p_max + 1, p_max + 1))
        for p in range(1, p_max + 1):
            G[p, p] = -p * self.h + p * (p - 1) * self.gamma * self.A / 2
            if p >= 1:
                G[p, p - 1] = -p * (p - 1) * self.gamma * self.b
            if p >= 2:
                G[p, p - 2] = p * (p - 1) / 2 * self.gamma * self.c
        return G

    noise_shape = ()
    weak_order = 1

    def drift(self, t: float, eta: np.ndarray) -> np.ndarray:
        return -self.h * eta

    def diffusion(self, t: float, eta: np.ndarray, dW: np.ndarray) -> np.ndarray:
        """``√D(η) dW`` (the 1-D factorisation; docs/least_squares.md#euler-maruyama)."""
        return np.sqrt(self.diffusion_coefficient(eta)) * dW


class PearsonIV:
    """The exact invariant law of :class:`ScalarTraining` (docs/least_squares.md#pearson-iv):
    density ``∝ [(η−ℓ)²+δ²]^{−(1+ν)} exp(−(2νℓ/δ) arctan((η−ℓ)/δ))``, handled in ``u =
    arctan((η−ℓ)/δ)`` where it is ``∝ cos^{2ν}u · e^{−(2νℓ/δ)u}`` on (−π/2, π/2): CDF, quantiles,
    i.i.d. samples."""

    def __init__(self, model: ScalarTraining, n_grid: int = 100_001):
        self.model = model
        self.ell, self.delta, self.nu = model.ell, model.delta, model.nu
        u = np.linspace(-np.pi / 2, np.pi / 2, n_grid)
        logw = (
            2 * self.nu * np.log(np.maximum(np.cos(u), 1e-300))
            - 2 * self.nu * self.ell / self.delta * u
        )
        w = np.exp(logw - logw.max())
        cdf = integrate.cumulative_trapezoid(w, u, initial=0.0)
        self.norm = cdf[-1] * np.exp(logw.max())
        self.u, self.cdf_grid = u, cdf / cdf[-1]

    def pdf(self, eta: np.ndarray) -> np.ndarray:
        z = (np.asarray(eta) - self.ell) / self.delta
        logp = -(1 + self.nu) * np.log1p(z**2) - 2 * self.nu * self.ell / self.delta * np.arctan(z)
        # density in η: w(u) du/dη, w(u) = cos^{2ν} e^{…} ⇒ p(η) = (1+z²)^{−(1+ν)}e^{…}/(δ·norm)
        return np.exp(logp) / (self.delta * self.norm)

    def cdf(self, eta: np.ndarray) -> np.ndarray:
        u = np.arctan((np.asarray(eta) - self.ell) / self.delta)
        return np.interp(u, self.u, self.cdf_grid)

    def ppf(self, q: np.ndarray) -> np.ndarray:
        u = np.interp(q, self.cdf_grid, self.u)
        return self.ell + self.delta * np.tan(u)

    def sample(self, size: int, rng: np.random.Generator) -> np.ndarray:
        return self.ppf(rng.uniform(size=size))

    def survival(self, r: np.ndarray) -> np.ndarray:
        """``P(|η| > r)``."""
        return 1 - self.cdf(r) + self.cdf(-np.asarray(r))


# ------------------------------------------------------------ population model
# (docs/least_squares.md#population)
def c_prime(kappa: int) -> int:
    """``c' = 2 − κ``: Gaussian ``Σ_κ = (ηᵀHη+σ²)H + c'Hηηᵀ H`` (docs/least_squares.md#setting)."""
    return 2 - kappa


def population_covariance(lam, eta, sigma, kappa) -> np.ndarray:
    """``Σ_κ(θ)`` of the online gradient for x ~ N(0, diag λ) (Isserlis,
    docs/least_squares.md#setting), for η of shape ``(…, d)``."""
    H_eta = lam * eta
    amp = np.sum(eta * H_eta, axis=-1)[..., None, None] + sigma**2
    return amp * np.diag(lam) + c_prime(kappa) * H_eta[..., :, None] * H_eta[..., None, :]


def population_homogeneous_noise(lam, kappa: int):
    """``S ↦ (sᵀHs)H + c'HssᵀH``: Σ_κ at σ = 0, the GBM part whose moment Lyapunov exponents set
    the tail index (docs/least_squares.md#lyapunov-exponent)."""
    return lambda S: population_covariance(lam, S, 0.0, kappa)


@dataclass(frozen=True)
class PopulationSDE:
    """The Gaussian population SDE in H's eigenbasis (docs/least_squares.md#euler-maruyama), weak
    order 1 in γ, η = θ − θ*, state ``(N, d)``, noise ``(ζ, ζ')`` of shape ``(N, d + 1)``:
    ``dη = −Hη dt + √γ[√(ηᵀHη+σ²) √λ⊙dζ + √c' (λ⊙η) dζ']``."""

    lam: np.ndarray
    sigma: float
    gamma: float
    kappa: int
    weak_order = 1

    @property
    def noise_shape(self) -> tuple[int]:
        return (len(self.lam) + 1,)

    def drift(self, t: float, eta: np.ndarray) -> np.ndarray:
        return -self.lam * eta

    def diffusion(self, t: float, eta: np.ndarray, dW: np.ndarray) -> np.ndarray:
        H_eta = self.lam * eta
        amp = np.sqrt(np.sum(eta * H_eta, axis=1, keepdims=True) + self.sigma**2)
        zeta, zeta1 = dW[:, :-1], dW[:, -1:]
        scale, cp = np.sqrt(self.gamma), np.sqrt(c_prime(self.kappa))
        return scale * (amp * np.sqrt(self.lam) * zeta + cp * H_eta * zeta1)


def risk_generator(lam: np.ndarray, gamma: float, kappa: int) -> np.ndarray:
    """``B_γ = −2Λ + γ(λλᵀ + c'Λ²)``: ``ṁ = B_γ m + γσ²λ`` for ``m_k = E⟨u_k,η⟩²``
    (docs/least_squares.md#population). Symmetric: one ``eigh`` solves the flow exactly."""
    return np.diag(-2 * lam + gamma * c_prime(kappa) * lam**2) + gamma * np.outer(lam, lam)


def S_gamma(lam, gamma, kappa) -> float:  # noqa: N802 (spec notation)
    """``S(γ) = Σ_k λ_k/(2 − γc'λ_k)`` (docs/least_squares.md#population)."""
    return float(np.sum(lam / (2 - gamma * c_prime(kappa) * lam)))


def population_gamma2(lam, kappa) -> float:
    """``γ_2``: root of ``γS(γ) = 1`` below ``2/(c'λ_max)`` (docs/least_squares.md#population)."""
    top = 2 / (c_prime(kappa) * lam.max()) * (1 - 1e-12)
    return optimize.brentq(lambda g: g * S_gamma(lam, g, kappa) - 1, 1e-12, top, xtol=1e-14)


def population_stationary(lam, sigma, gamma, kappa) -> tuple[np.ndarray, float]:
    """``(m^∞, R_∞)``: ``m_k^∞ = γ(R_∞+σ²)/(2 − γc'λ_k)``, ``R_∞ = γσ²S/(1−γS)``
    (docs/least_squares.md#population)."""
    S = S_gamma(lam, gamma, kappa)
    R = gamma * sigma**2 * S / (1 - gamma * S)
    return gamma * (R + sigma**2) / (2 - gamma * c_prime(kappa) * lam), R


def risk_flow(lam, gamma, kappa, m0, times, sigma=0.0):
    """Exact ``m(t)`` of ``ṁ = B_γm + γσ²λ`` at ``times`` by one ``eigh``
    (docs/least_squares.md#e4(b), docs/least_squares.md#e8)."""
    w, V = np.linalg.eigh(risk_generator(lam, gamma, kappa))
    m_inf = -V @ ((V.T @ (gamma * sigma**2 * lam)) / w) if sigma else np.zeros_like(lam)
    c = V.T @ (m0 - m_inf)
    return m_inf + (np.exp(np.outer(times, w)) * c) @ V.T


def isotropic_alpha(lam: float, gamma: float, d: int, kappa: int) -> float:
    """``α = 2 + (2/(γλ) − d − c')/(1 + c')``: ρ* is multivariate Student t
    (docs/least_squares.md#isotropic)."""
    cp = c_prime(kappa)
    return 2 + (2 / (gamma * lam) - d - cp) / (1 + cp)


def isotropic_log_norm_drift(lam: float, gamma: float, d: int, kappa: int) -> float:
    """``q = −λ + (γλ²/2)(d − 2 − c')``: ``log‖η_t‖ = log‖η_0‖ + qt + λ√(γ(1+c'))W_t``
    (docs/least_squares.md#isotropic)."""
    return -lam + gamma * lam**2 / 2 * (d - 2 - c_prime(kappa))


def isotropic_stationary_scale(lam, sigma, gamma, d, kappa) -> tuple[float, float]:
    """``(df, shape)`` of ρ* = t_α(0, σ²/(κ_λα) I): κ_λ = (1+c')λ
    (docs/least_squares.md#isotropic)."""
    alpha = isotropic_alpha(lam, gamma, d, kappa)
    return alpha, sigma**2 / ((1 + c_prime(kappa)) * lam * alpha)


def multivariate_t_sample(df, shape, d, size, rng) -> np.ndarray:
    """``t_ν(0, shape·I_d)`` samples: ``√shape · z/√(χ²_ν/ν)``."""
    z = rng.standard_normal((size, d))
    return np.sqrt(shape) * z / np.sqrt(rng.chisquare(df, size=(size, 1)) / df)


# -------------------------------------------------------------- averaging and decay
# (docs/least_squares.md#averaging)
def averaged_covariance(H: np.ndarray, M_inf: np.ndarray, t: float) -> np.ndarray:
    """``Cov(η̄_t) = t⁻²[F(t)M_∞ + M_∞F(t)]``, ``F(t) = tH⁻¹ − H⁻²(I − e^{−Ht})``, stationary
    start (docs/least_squares.md#averaging)."""
    w, U = np.linalg.eigh(H)
    F = U @ np.diag(t / w - (1 - np.exp(-w * t)) / w**2) @ U.T
    return (F @ M_inf + M_inf @ F) / t**2


def decaying_step(gamma0: float, t0: float, zeta: float, t: np.ndarray) -> np.ndarray:
    """``γ(t) = γ_0(1 + t/t_0)^{−ζ}`` (docs/least_squares.md#e7)."""
    return gamma0 * (1 + np.asarray(t) / t0) ** (-zeta)


def decaying_step_moments(ops, gamma0, t0, zeta, kappa, m0, M0, times):
    """Exact moments with ``Ṁ = −𝓛M + γ(t)(𝒮_κM − 2𝒞m + S_0)``, ``ṁ = −Hm``
    (docs/least_squares.md#averaging), LSODA."""
    d = ops.d
    L, S, C, S0 = ops.L, ops.S(kappa), ops.C, ops.S0
    H = ops.problem.H

    def rhs(t, z):
        g = decaying_step(gamma0, t0, zeta, t)
        m, v = z[:d], z[d:]
        return np.concatenate([-H @ m, -L @ v + g * (S @ v - 2 * C @ m + S0)])

    z0 = np.concatenate([m0, ops.vec(M0)])
    sol = integrate.solve_ivp(
        rhs, (0, times[-1]), z0, method="LSODA", t_eval=times, rtol=1e-10, atol=1e-14
    )
    return sol.y[:d].T, ops.unvec(sol.y[d:].T)


# ------------------------------------------------------------------------ Kesten indices
# (docs/least_squares.md#discrete-recursions)
def kesten_index_training(x: np.ndarray, gamma: float) -> float:
    """Root χ > 0 of ``(1/n)Σ|1 − γx_i²|^χ = 1``; ``inf`` if ``γ max x_i² < 2`` keeps every
    factor below 1 (then training SGD has a compactly supported stationary law)."""
    a = np.abs(1 - gamma * x**2)
    if a.max() <= 1:
        return float("inf")
    log_a = np.log(np.maximum(a, 1e-300))
    f = lambda chi: special.logsumexp(chi * log_a) - np.log(len(a))  # noqa: E731
    hi = 1.0
    while f(hi) < 0:
        hi *= 2
    return optimize.brentq(f, 1e-9, hi, xtol=1e-12)


def kesten_index_gaussian(lam: float, gamma: float) -> float:
    """Root χ > 0 of ``E|1 − γx²|^χ = 1``, x ~ N(0, λ) (online SGD, d = 1,
    docs/least_squares.md#e9), by quadrature split at ``x² = 1/γ``."""
    g = gamma * lam
    z0 = 1 / np.sqrt(g)

    def moment(chi):
        def f(z):
            return np.exp(chi * np.log(max(abs(1 - g * z * z), 1e-300)) - z * z / 2)

        parts = [
            integrate.quad(f, lo, hi, limit=200)[0]
            for lo, hi in ((0, z0), (z0, 2 * z0), (2 * z0, np.inf))
        ]
        return sum(parts) * np.sqrt(2 / np.pi) - 1

    hi = 2.0
    while moment(hi) < 0:
        hi *= 2
    return optimize.brentq(moment, 0.5, hi, xtol=1e-10)
