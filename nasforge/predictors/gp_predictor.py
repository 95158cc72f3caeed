"""Graph-kernel Gaussian processes (WL subtree or untrained-GCN kernel) as Predictors.

The GP (:mod:`.gp`) picks the kernel setting and noise by marginal likelihood at each fit; these
classes only turn architectures into graphs and keep what a saved file needs: the training
architectures, their targets and the chosen hyperparameters (a load refits with them fixed, which
is deterministic and costs one Cholesky factorisation).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..architecture import Architecture, LabelledDAG
from ..errors import ArchitectureError, ConfigError
from ..spaces.base import SearchSpace
from .base import Predictor
from .gp import GPFit, GraphGP


class GraphGPPredictor(Predictor):
    """GP on a graph kernel; ``graph_options`` go to ``space.to_graph`` (e.g. ``prune`` for NB201)."""

    name = "gp"

    def __init__(self, space: SearchSpace, seed: int = 0, graph_options: dict[str, Any] | None = None,
                 kernel_options: dict[str, Any] | None = None) -> None:  # fmt: skip
        super().__init__(space, seed)
        for label, value in (("graph_options", graph_options), ("kernel_options", kernel_options)):
            if value is not None and not isinstance(value, dict):
                raise ConfigError(f"parameter {label} of predictor {self.name} must be a mapping, got {value!r}")
        self.graph_options = dict(graph_options or {})
        self.kernel_options = dict(kernel_options or {})
        self.options = {"graph_options": self.graph_options, "kernel_options": self.kernel_options}
        try:
            space.to_graph(space.sample(np.random.default_rng(0)), **self.graph_options)
        except (ArchitectureError, NotImplementedError) as exc:
            raise ConfigError(f"predictor {self.name} needs a space with a graph form (to_graph); {space.name!r}: {exc}") from None
        except TypeError as exc:
            raise ConfigError(f"parameter graph_options of predictor {self.name}: {space.name!r}.to_graph rejects {self.graph_options}: {exc}") from None
        try:
            self.kernel = self._make_kernel()
        except TypeError as exc:
            raise ConfigError(f"parameter kernel_options of predictor {self.name} rejected: {exc}") from None
        self.gp = GraphGP(self.kernel)
        self._graphs: dict[str, LabelledDAG] = {}
        self._train: list[tuple[str, float]] = []

    def _make_kernel(self):  # pragma: no cover - overridden
        raise NotImplementedError

    def graph(self, arch: Architecture) -> LabelledDAG:
        graph = self._graphs.get(arch.string)
        if graph is None:
            graph = self._graphs[arch.string] = self.space.to_graph(arch, **self.graph_options)
        return graph

    def _fit(self, archs: list[Architecture], y: np.ndarray, fixed: GPFit | None = None) -> None:
        self.gp = GraphGP(self.kernel).fit([self.graph(a) for a in archs], y, fixed=fixed)
        self._train = [(a.string, float(v)) for a, v in zip(archs, y)]

    def fit_fixed(self, archs: list[Architecture], y: np.ndarray, fit: GPFit) -> "GraphGPPredictor":
        """Refit with given hyperparameters (no search): the kriging believer and loading use it."""
        self._fit(list(archs), np.asarray(y, dtype=float), fixed=fit)
        self.fitted = True
        return self

    def _predict(self, archs: list[Architecture]) -> tuple[np.ndarray, np.ndarray]:
        return self.gp.predict([self.graph(a) for a in archs])

    def state_dict(self) -> dict[str, Any]:
        fit = self.gp.fit_
        theta = fit.theta.item() if isinstance(fit.theta, np.generic) else fit.theta
        return {"train": self._train, "theta": theta, "noise": fit.noise, "scale": fit.scale,
                "log_marginal_likelihood": fit.log_marginal_likelihood}  # fmt: skip

    def load_state_dict(self, state: dict[str, Any]) -> None:
        archs = [self.space.from_string(s) for s, _ in state["train"]]
        fit = GPFit(state["theta"], float(state["noise"]), float(state["scale"]), float(state["log_marginal_likelihood"]))
        self.fit_fixed(archs, np.asarray([v for _, v in state["train"]]), fit)


class WLGP(GraphGPPredictor):
    """GP with the Weisfeiler-Lehman subtree kernel (h chosen by marginal likelihood)."""

    name = "gp_wl"

    def _make_kernel(self):
        from .wl import WLKernel

        return WLKernel(**self.kernel_options)


class GCNGP(GraphGPPredictor):
    """GP with an RBF kernel on untrained-GCN embeddings (GCN weights from the predictor seed)."""

    name = "gp_gcn"

    def _make_kernel(self):
        from .gcn import GCNKernel

        return GCNKernel(**{"seed": self.seed, **self.kernel_options})
