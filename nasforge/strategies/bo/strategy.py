"""GraphBO: Bayesian optimisation with a GP on graph kernels (WL or untrained-GCN), NAS-BOWL style.

Each proposal: warp the scores (Yeo-Johnson by default, see :mod:`.targets`), fit the GP on every
result so far (kernel setting and noise chosen by marginal likelihood), build a candidate set from
the neighbourhoods of the best few architectures, mutations of the top ones and random samples,
and take the candidate with the best acquisition (expected improvement by default). A batch, or a
call made while earlier proposals are still running, uses the kriging believer: pending
architectures join the data with the current posterior mean as their value (hyperparameters kept),
so the next pick looks elsewhere. Candidates exclude everything asked before, up to the space's
identity (isomorphism), so no query is spent on an equivalent cell.

Works on any space with ``to_graph`` (NB201, NB101, a :class:`~nasforge.spaces.pool.PoolSpace`);
in pool mode the candidates are all unqueried pool members when the pool is small enough.

The model is any :class:`~nasforge.predictors.base.Predictor` (option ``predictor``: ``gp_wl``,
``gp_gcn``, ``mlp_ensemble``, ``xgboost``, ...); ``kernel`` is the short form for the two GPs. Only
GPs take the kriging believer (they can be conditioned with fixed hyperparameters); other models
rely on the acquisition to spread a batch (``its`` draws independently per candidate). Models
other than GPs are rebuilt at each fit with a seed derived from the strategy seed and the number of
observations, so a resumed study refits exactly the same model.

State (JSON): the history of (architecture string, value) in tell order, the pending strings, and
the RNG; the model is refitted from the history on load, so a resumed study follows the same path.
"""

from __future__ import annotations

import copy
from typing import Any, Sequence

import numpy as np

from ...architecture import Architecture, LabelledDAG
from ...errors import ArchitectureError, ConfigError
from ...objectives import Objective
from ...options import Choice, Int, Map, validated
from ...options import Float as Number
from ...predictors.base import PREDICTORS
from ...spaces.base import SearchSpace
from ..base import Strategy
from ..random import sample_unseen
from .acquisition import ACQUISITIONS, acquire
from .targets import TRANSFORMS, warp

KERNELS = ("wl", "gcn")
GP_OF_KERNEL = {"wl": "gp_wl", "gcn": "gp_gcn"}


class GraphBO(Strategy):
    """GP-BO over graphs; ``kernel`` "wl" (h in {0..3} by marginal likelihood) or "gcn"."""

    name = "bo"
    options = {
        "kernel": Choice(*KERNELS),
        "n_init": Int(low=1),
        "acquisition": Choice(*ACQUISITIONS),
        "pool_size": Int(low=1),
        "top_k": Int(low=1),
        "mutation_share": Number(low=0, high=1),
        "ucb_beta": Number(low=0),
        "target_transform": Choice(*TRANSFORMS),
        "neighbours_of": Int(low=0),
        "graph_options": Map(none=True),
        "kernel_options": Map(none=True),
        "predictor": Choice(*PREDICTORS, none=True),
        "predictor_options": Map(none=True),
    }

    @validated
    def __init__(
        self,
        space: SearchSpace,
        seed: int = 0,
        objectives: Sequence[Objective] = (Objective("valid_accuracy", "max"),),
        kernel: str = "wl",
        n_init: int = 10,
        acquisition: str = "ei",
        pool_size: int = 200,
        top_k: int = 10,
        mutation_share: float = 0.5,
        ucb_beta: float = 2.0,
        target_transform: str = "yeo-johnson",
        neighbours_of: int = 3,
        graph_options: dict[str, Any] | None = None,
        kernel_options: dict[str, Any] | None = None,
        predictor: str | None = None,
        predictor_options: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(space, seed, objectives)
        if len(self.objectives) != 1:
            raise ConfigError(f"GraphBO (strategy bo) optimises one objective, got {len(self.objectives)}: {[str(o) for o in self.objectives]}")
        self.graph_options = dict(graph_options or {})
        try:
            space.to_graph(space.sample(np.random.default_rng(0)), **self.graph_options)
        except (ArchitectureError, NotImplementedError) as exc:
            raise ConfigError(f"GraphBO (strategy bo) needs a space with a graph form (to_graph); {space.name!r}: {exc}") from exc
        except TypeError as exc:
            raise ConfigError(f"parameter graph_options of GraphBO: {space.name!r}.to_graph rejects {self.graph_options}: {exc}") from exc
        self.kernel_name = kernel
        self.n_init = int(n_init)
        self.acquisition = acquisition
        self.pool_size = int(pool_size)
        self.top_k = int(top_k)
        self.neighbours_of = int(neighbours_of)
        self.mutation_share = float(mutation_share)
        self.ucb_beta = float(ucb_beta)
        self.target_transform = target_transform
        from ...predictors.base import make_predictor
        from ...predictors.gp_predictor import GraphGPPredictor

        self.predictor_name = predictor or GP_OF_KERNEL[kernel]
        if self.predictor_name not in PREDICTORS:
            raise ConfigError(f"parameter predictor of {type(self).__name__} must be one of {', '.join(sorted(PREDICTORS))}, got {predictor!r}")
        self.predictor_options = dict(predictor_options or {})
        if self.predictor_name.startswith("gp_"):
            self.predictor_options.setdefault("graph_options", self.graph_options)
            self.predictor_options.setdefault("kernel_options", dict(kernel_options or {}))
        self._make_predictor = make_predictor
        try:  # a bad option fails now, not at the 11th ask
            first = make_predictor(self.predictor_name, space, self.seed, **self.predictor_options)
        except ConfigError as exc:
            raise ConfigError(str(exc).replace(f"of predictor {self.predictor_name}", f"of {type(self).__name__}")) from None
        # one GP for the whole run (its kernel caches features; GCN weights follow the strategy seed)
        self._gp = first if self.predictor_name.startswith("gp_") else None
        self._gp_class = GraphGPPredictor
        self._history: list[tuple[Architecture, float | None]] = []
        self._pending: list[Architecture] = []
        self._seen: set[str] = set()  # identities asked so far (evaluated, failed or pending)
        # the GP's graph cache (graphs as its kernel sees them, after graph_options), for inspection
        self._graphs: dict[str, LabelledDAG] = self._gp._graphs if self._gp is not None else {}
        self._identities: dict[str, str] = {}
        self.last_fit = None  # the GPFit of the latest proposal, for inspection

    # --- ask / tell --------------------------------------------------------------------------------

    def _ask(self, n: int) -> list[Architecture]:
        observed = [(a, v) for a, v in self._history if v is not None]
        proposals: list[Architecture] = []
        model = None
        candidates: list[Architecture] = []
        for _ in range(int(n)):
            if len(self._seen) < self.n_init or len(observed) < 2:
                arch = self._random_unseen()
            else:
                if model is None:
                    warped = list(zip([a for a, _ in observed], warp([v for _, v in observed], self.target_transform)))
                    model, fit = self._fit(warped)
                    candidates = self._candidates(observed)
                arch = self._pick(model, fit, warped, candidates)
                if arch is not None:
                    candidates = [c for c in candidates if c != arch]
                else:
                    arch = self._random_unseen()
            if arch is None:
                break  # the space is exhausted
            self._seen.add(self._identity(arch))
            self._pending.append(arch)
            proposals.append(arch)
        return proposals

    def _tell(self, arch: Architecture, values: list[float] | None) -> None:
        for i, pending in enumerate(self._pending):
            if pending == arch:
                del self._pending[i]
                break
        self._seen.add(self._identity(arch))
        value = None if values is None else self.score(values)
        self._history.append((arch, value if value is None or np.isfinite(value) else None))

    # --- state -----------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state["history"] = [[a.string, v] for a, v in self._history]
        state["pending"] = [a.string for a in self._pending]
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self._history = [(self.space.from_string(s), None if v is None else float(v)) for s, v in state["history"]]
        self._pending = [self.space.from_string(s) for s in state["pending"]]
        self._seen = {self._identity(a) for a, _ in self._history} | {self._identity(a) for a in self._pending}

    # --- internals -------------------------------------------------------------------------------

    def _identity(self, arch: Architecture) -> str:
        key = self._identities.get(arch.string)
        if key is None:
            key = self._identities[arch.string] = self.space.identity(arch)
        return key

    @property
    def kernel(self):
        """The GP's graph kernel (None for other predictors)."""
        return None if self._gp is None else self._gp.kernel

    def _fit(self, observed: list[tuple[Architecture, float]]):
        archs, values = [a for a, _ in observed], [v for _, v in observed]
        if self._gp is not None:
            self._gp.fit(archs, values)
            self.last_fit = self._gp.gp.fit_
            return self._gp, self.last_fit
        seed = self.seed * 100_003 + len(observed)  # fresh per fit, reproducible from the history
        model = self._make_predictor(self.predictor_name, self.space, seed, **self.predictor_options)
        return model.fit(archs, values), None

    def _pick(self, model, fit, observed, candidates: list[Architecture]) -> Architecture | None:
        if not candidates:
            return None
        if self._pending and isinstance(model, self._gp_class):
            # kriging believer: pending points take the current posterior mean
            believed, _ = model.predict(self._pending)
            archs = [a for a, _ in observed] + list(self._pending)
            values = [v for _, v in observed] + list(believed)
            model = copy.copy(model).fit_fixed(archs, np.asarray(values), fit)  # shares the kernel caches
        mean, std = model.predict(candidates)
        best = max(v for _, v in observed)
        scores = acquire(self.acquisition, mean, std, best, self.ucb_beta, rng=self.rng)
        return candidates[int(np.argmax(scores))]

    def _candidates(self, observed: list[tuple[Architecture, float]]) -> list[Architecture]:
        """All neighbours of the best ``neighbours_of`` observed, ``mutation_share * pool_size``
        mutations (1-2 steps) of the ``top_k`` best, and random samples for the rest of the pool;
        all distinct and not yet asked (up to identity)."""
        members = getattr(self.space, "members", None)
        if callable(members) and (self.space.size() or 0) <= 2 * self.pool_size:
            return [a for a in members() if self._identity(a) not in self._seen]
        found: dict[str, Architecture] = {}
        top = [a for a, _ in sorted(observed, key=lambda item: -item[1])[: self.top_k]]
        for arch in top[: self.neighbours_of]:  # the incumbents' whole neighbourhoods are always scored
            for neighbour in self.space.neighbours(arch):
                self._add_candidate(found, neighbour)
        n_mutations = len(found) + int(round(self.mutation_share * self.pool_size))
        attempts = 0
        while len(found) < n_mutations and attempts < 5 * self.pool_size:
            attempts += 1
            child = top[int(self.rng.integers(len(top)))]
            for _ in range(1 + int(self.rng.random() < 0.5)):
                child = self.space.mutate(child, self.rng)
            self._add_candidate(found, child)
        attempts = 0
        n_total = n_mutations + int(round((1 - self.mutation_share) * self.pool_size))
        while len(found) < n_total and attempts < 5 * self.pool_size:
            attempts += 1
            self._add_candidate(found, self.space.sample(self.rng))
        return list(found.values())

    def _add_candidate(self, found: dict[str, Architecture], arch: Architecture) -> None:
        key = self._identity(arch)
        if key not in self._seen and key not in found:
            found[key] = arch

    def _random_unseen(self) -> Architecture | None:
        arch = sample_unseen(self.space, self.rng, self._seen, key=self._identity)
        return None if self._identity(arch) in self._seen else arch

