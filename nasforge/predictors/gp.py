"""A Gaussian process over graphs with a precomputed graph kernel.

The model is y = f(G) + noise, f ~ GP(0, s * k_theta), noise ~ N(0, s * lambda), fitted on
standardised targets. Each fit picks the kernel setting theta (WL iterations h, or a GCN
lengthscale) and the noise ratio lambda by maximising the log marginal likelihood; the amplitude s
has a closed form given (theta, lambda), and one eigendecomposition of the Gram matrix per theta
makes every lambda cheap, so a fit costs a handful of O(n^3) steps with n <= a few hundred.

Kernels are duck-typed: ``hyperparameters(graphs)``, ``gram(a, b, theta)``, ``diag(graphs, theta)``
(see :mod:`nasforge.predictors.wl` and :mod:`nasforge.predictors.gcn`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from ..architecture import LabelledDAG
from ..errors import ConfigError

_LOG10_NOISE_BOUNDS = (-6.0, 0.5)


@dataclass(frozen=True)
class GPFit:
    """The chosen hyperparameters and their log marginal likelihood (on standardised targets)."""

    theta: Any
    noise: float
    scale: float
    log_marginal_likelihood: float


class GraphGP:
    """GP regression on graphs; ``fit`` selects kernel setting and noise, ``predict`` gives mean/std."""

    def __init__(self, kernel: Any) -> None:
        for method in ("hyperparameters", "gram", "diag"):
            if not callable(getattr(kernel, method, None)):
                raise ConfigError(f"parameter kernel of GraphGP must provide {method}(), got {type(kernel).__name__}")
        self.kernel = kernel
        self.fit_: GPFit | None = None

    def fit(self, graphs: Sequence[LabelledDAG], y: Sequence[float], fixed: GPFit | None = None) -> "GraphGP":
        """Fit to ``graphs`` and targets ``y``; with ``fixed``, reuse its theta/noise/scale (no search)."""
        with _one_blas_thread():
            return self._fit(graphs, y, fixed)

    def _fit(self, graphs: Sequence[LabelledDAG], y: Sequence[float], fixed: GPFit | None) -> "GraphGP":
        y = np.asarray(y, dtype=float)
        if len(graphs) != len(y) or len(y) == 0:
            raise ConfigError(f"GraphGP.fit needs as many targets as graphs (>= 1), got {len(graphs)} and {len(y)}")
        if not np.isfinite(y).all():
            raise ConfigError("GraphGP.fit targets must be finite")
        self._graphs = list(graphs)
        self._mean = float(y.mean())
        std = float(y.std())
        self._std = std if std > 1e-12 else 1.0
        z = (y - self._mean) / self._std
        if fixed is not None:
            self.fit_ = fixed
            k = self.kernel.gram(self._graphs, self._graphs, fixed.theta)
        else:
            best: tuple[GPFit, np.ndarray] | None = None
            for theta in self.kernel.hyperparameters(self._graphs):
                k = self.kernel.gram(self._graphs, self._graphs, theta)
                candidate = _select_noise(k, z, theta)
                if best is None or candidate.log_marginal_likelihood > best[0].log_marginal_likelihood:
                    best = (candidate, k)
            assert best is not None
            self.fit_, k = best
        system = k + self.fit_.noise * np.eye(len(z))
        self._chol = np.linalg.cholesky(system + 1e-10 * np.eye(len(z)))
        self._alpha = _cho_solve(self._chol, z)
        return self

    def predict(self, graphs: Sequence[LabelledDAG]) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation of f (noise-free), in the units of ``y``."""
        with _one_blas_thread():
            return self._predict(graphs)

    def _predict(self, graphs: Sequence[LabelledDAG]) -> tuple[np.ndarray, np.ndarray]:
        if self.fit_ is None:
            raise ConfigError("GraphGP.predict called before fit")
        if not graphs:
            return np.zeros(0), np.zeros(0)
        theta = self.fit_.theta
        ks = self.kernel.gram(list(graphs), self._graphs, theta)
        mean = ks @ self._alpha
        v = _solve_lower(self._chol, ks.T)
        var = self.fit_.scale * np.maximum(self.kernel.diag(list(graphs), theta) - (v * v).sum(axis=0), 0.0)
        return mean * self._std + self._mean, np.sqrt(var) * self._std


_CONTROLLER: list = []


def _one_blas_thread():
    """Run BLAS single-threaded: matrices of a few hundred rows only lose time to thread hand-offs
    (16x slower eigh measured on a loaded 2-core machine); a no-op without threadpoolctl."""
    import contextlib

    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return contextlib.nullcontext()
    if not _CONTROLLER:
        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0].limit(limits=1, user_api="blas")


def _select_noise(k: np.ndarray, z: np.ndarray, theta: Any) -> GPFit:
    """Maximise the log marginal likelihood over log10(lambda) with the amplitude profiled out."""
    from scipy.optimize import minimize_scalar

    eigvals, eigvecs = np.linalg.eigh(k)
    eigvals = np.maximum(eigvals, 0.0)
    proj2 = (eigvecs.T @ z) ** 2
    n = len(z)

    def neg_lml(log10_noise: float) -> float:
        lam = 10.0**log10_noise
        d = eigvals + lam
        scale = max(float((proj2 / d).sum()) / n, 1e-300)
        return 0.5 * (n + n * math.log(scale) + float(np.log(d).sum()) + n * math.log(2 * math.pi))

    grid = np.linspace(*_LOG10_NOISE_BOUNDS, 14)
    start = int(np.argmin([neg_lml(g) for g in grid]))
    low = grid[max(start - 1, 0)]
    high = grid[min(start + 1, len(grid) - 1)]
    result = minimize_scalar(neg_lml, bounds=(low, high), method="bounded", options={"xatol": 1e-3})
    log10_noise = float(result.x) if result.fun <= neg_lml(grid[start]) else float(grid[start])
    lam = 10.0**log10_noise
    scale = float((proj2 / (eigvals + lam)).sum()) / n
    return GPFit(theta, lam, scale, -neg_lml(log10_noise))


def _solve_lower(chol: np.ndarray, b: np.ndarray) -> np.ndarray:
    from scipy.linalg import solve_triangular

    return solve_triangular(chol, b, lower=True)


def _cho_solve(chol: np.ndarray, b: np.ndarray) -> np.ndarray:
    from scipy.linalg import cho_solve

    return cho_solve((chol, True), b)
