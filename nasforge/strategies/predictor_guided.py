"""Predictor-guided search (BANANAS-like): a neural predictor picks each query from candidates.

BANANAS (White, Neiswanger, Savani; AAAI 2021) fits an ensemble of MLPs on the path encoding of
everything evaluated so far, proposes candidates by mutating the best architectures (plus random
samples), and queries the candidate that wins an independent Thompson sample. This is
:class:`~nasforge.strategies.bo.strategy.GraphBO` with those parts as defaults (``predictor``
``mlp_ensemble``, acquisition ``its``) -- the candidate pool, deduplication by identity and the
resumable state are shared -- plus an optional **zero-cost warm start**: the first ``n_init``
queries are the best of ``warm_pool`` random cells ranked by a zero-cost proxy from the
NAS-Bench-201 zero-cost table (NB201 only; costs no training). The ensemble is refitted at every
ask, so it is kept small (:data:`FAST_MLP`: 2 x 20 units, 150 Adam steps): 5x cheaper than the
predictor's 3 x 32 / 400-step default, for a lower Kendall tau on held-out NB201 cells (0.59-0.64
vs 0.65-0.67 with 400 training cells) -- the search only needs the top of the ranking. The warm pool is drawn from its own
generator seeded by the strategy seed, so it is identical after a resume and needs no state.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..architecture import Architecture
from ..errors import ConfigError
from ..objectives import Objective
from ..options import Choice, Int, Str, validated
from ..predictors.features import ZERO_COST_PROXIES
from ..spaces.base import SearchSpace
from .bo.strategy import GraphBO

#: the ensemble settings used at each ask: 5 members, 2 x 20 ReLU, 150 full-batch Adam steps
FAST_MLP = {"members": 5, "layers": 2, "width": 20, "steps": 150}


class PredictorGuided(GraphBO):
    """BANANAS-style search; every GraphBO option applies (``predictor``, ``acquisition``, pools)."""

    name = "bananas"
    options = {
        "warm_start": Choice(*ZERO_COST_PROXIES, none=True),
        "warm_pool": Int(low=1),
        "zero_cost_dataset": Choice("cifar10", "cifar10-valid", "cifar100", "ImageNet16-120"),
        "data": Str(none=True),
    }

    @validated
    def __init__(
        self,
        space: SearchSpace,
        seed: int = 0,
        objectives: Sequence[Objective] = (Objective("valid_accuracy", "max"),),
        predictor: str = "mlp_ensemble",
        acquisition: str = "its",
        warm_start: str | None = None,
        warm_pool: int = 1000,
        zero_cost_dataset: str = "cifar10",
        data: str | None = None,
        **options: Any,
    ) -> None:
        if predictor == "mlp_ensemble":  # refitted at every ask: small nets, few steps (see module doc)
            options["predictor_options"] = {**FAST_MLP, **(options.get("predictor_options") or {})}
        super().__init__(space, seed, objectives, predictor=predictor, acquisition=acquisition, **options)
        self.warm_start = warm_start
        self._warm: list[Architecture] = []
        if warm_start is not None:
            from ..predictors.features import zero_cost_table

            if space.name != "nb201" or not hasattr(space, "index"):
                raise ConfigError(f"parameter warm_start of {self.name} needs the nb201 space (zero-cost table), got {space.name!r}")
            table = zero_cost_table({"cifar100": "cifar10", "cifar10-valid": "cifar10"}.get(zero_cost_dataset, zero_cost_dataset), data)
            column = table[:, ZERO_COST_PROXIES.index(warm_start)]
            rng = np.random.default_rng([self.seed, 0x5A11])
            pool = {space.identity(a): a for a in (space.sample(rng) for _ in range(int(warm_pool)))}
            scored = [(float(column[space.index(a)]), i, a) for i, a in enumerate(pool.values())
                      if np.isfinite(column[space.index(a)])]  # fmt: skip
            self._warm = [a for _, _, a in sorted(scored, key=lambda t: (-t[0], t[1]))[: self.n_init]]

    def _random_unseen(self) -> Architecture | None:
        for arch in self._warm:
            if self._identity(arch) not in self._seen:
                return arch
        return super()._random_unseen()
