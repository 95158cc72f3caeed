"""Names users type (config, CLI) mapped to the classes behind them, imported lazily.

Lazy import paths keep ``import nasforge`` free of torch, pymoo, grakel and ray.
"""

from __future__ import annotations

import importlib
from typing import Any

from .errors import ConfigError

SPACES = {
    "nb201": "nasforge.spaces.nb201:NB201Space",
    "nb101": "nasforge.spaces.nb101:NB101Space",
    "nb101-pool": "nasforge.spaces.pool:nb101_pool",
    "chain": "nasforge.spaces.chain:ChainSpace",
    "unet": "nasforge.spaces.unet:UNetSpace",
}

STRATEGIES = {
    "random": "nasforge.strategies.random:RandomSearch",
    "evolution": "nasforge.strategies.evolution:RegularizedEvolution",
    "local_search": "nasforge.strategies.local_search:LocalSearch",
    "qnas": "nasforge.strategies.qnas:QNAS",
    "nsga2": "nasforge.strategies.nsga2:NSGA2",
    "pareto_local": "nasforge.strategies.pareto_local:ParetoLocalSearch",
    "bo": "nasforge.strategies.bo.strategy:GraphBO",
}

EVALUATORS = {
    "nb201": "nasforge.evaluators.tabular:NB201Tabular",
    "nb101": "nasforge.evaluators.nb101_tabular:NB101Tabular",
    "trainer": "nasforge.evaluators.trainer:TrainerEvaluator",
    "segmentation": "nasforge.evaluators.segmentation:SegmentationEvaluator",
    "metric_table": "nasforge.evaluators.metric_table:MetricTableEvaluator",
}

EXECUTORS = {
    "serial": "nasforge.study.executors:SerialExecutor",
    "local": "nasforge.study.pool:LocalPoolExecutor",
    "ray": "nasforge.study.ray_executor:RayExecutor",
}

KINDS = {"space": SPACES, "strategy": STRATEGIES, "evaluator": EVALUATORS, "executor": EXECUTORS}


def resolve(kind: str, name: str) -> Any:
    """The class registered as ``name`` for ``kind``; ConfigError listing what exists otherwise."""
    table = KINDS[kind]
    if name not in table:
        raise ConfigError(f"unknown {kind} {name!r}; choose one of: {', '.join(sorted(table))}")
    return load_object(table[name])


def load_object(path: str) -> Any:
    """Import ``package.module:attr``; used for registry entries and user factories."""
    module_name, _, attr = path.partition(":")
    if not module_name or not attr:
        raise ConfigError(f"{path!r} is not of the form 'package.module:attribute'")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise ConfigError(f"cannot import module {module_name!r} for {path!r}: {exc}") from exc
    try:
        return getattr(module, attr)
    except AttributeError as exc:
        raise ConfigError(f"module {module_name!r} has no attribute {attr!r}") from exc
