"""The one registry: names users type (config, CLI) mapped to the components behind them.

Kinds: space, strategy, evaluator, executor, scheduler, dataset (a function returning RawData),
model (a builder ``f(arch, input_shape, num_classes, **options)`` keyed by space name).

Entries are lazy ``"package.module:attribute"`` strings, so ``import nasforge`` stays free of
torch, pymoo, grakel and ray. Wherever a name is accepted, ``"package.module:Class"`` works too
(a user's own strategy, space or evaluator without any registration), and that spelling is what a
study stores, so the CLI can report and resume it later.

Other packages add components through the entry-point group ``nasforge.plugins``; an entry point
names either a module (importing it calls :func:`register`), a function (called with
:func:`register`), or a class with ``kind`` and ``name`` attributes::

    [project.entry-points."nasforge.plugins"]
    my_strategy = "my_package.strategy:MyStrategy"   # class MyStrategy(Strategy): name = "mine"
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import warnings
from typing import Any

from .errors import ConfigError

GROUP = "nasforge.plugins"

SPACES = {
    "nb201": "nasforge.spaces.nb201:NB201Space",
    "nb101": "nasforge.spaces.nb101:NB101Space",
    "nb101-pool": "nasforge.spaces.pool:nb101_pool",
    "chain": "nasforge.spaces.chain:ChainSpace",
    "chain_precision": "nasforge.spaces.chain_precision:ChainPrecisionSpace",
    "unet": "nasforge.spaces.unet:UNetSpace",
    "ablation": "nasforge.ablation.space:AblationSpace",
    "enas_s": "nasforge.spaces.enas_s:ENASSSpace",
    "reduction": "nasforge.spaces.reduction:ReductionSpace",
}

STRATEGIES = {
    "random": "nasforge.strategies.random:RandomSearch",
    "evolution": "nasforge.strategies.evolution:RegularizedEvolution",
    "local_search": "nasforge.strategies.local_search:LocalSearch",
    "qnas": "nasforge.strategies.qnas:QNAS",
    "nsga2": "nasforge.strategies.nsga2:NSGA2",
    "pareto_local": "nasforge.strategies.pareto_local:ParetoLocalSearch",
    "bo": "nasforge.strategies.bo.strategy:GraphBO",
    "fixed_list": "nasforge.strategies.fixed_list:FixedList",
    "loco": "nasforge.strategies.loco:LOCO",
    "bananas": "nasforge.strategies.predictor_guided:PredictorGuided",
    "enas_s": "nasforge.strategies.enas_s:ENASS",
    "greedy_shrink": "nasforge.strategies.greedy_shrink:GreedyShrink",
    "reinforce": "nasforge.strategies.reinforce:Reinforce",
}

EVALUATORS = {
    "nb201": "nasforge.evaluators.tabular:NB201Tabular",
    "nb101": "nasforge.evaluators.nb101_tabular:NB101Tabular",
    "trainer": "nasforge.evaluators.trainer:TrainerEvaluator",
    "reduction": "nasforge.evaluators.reduction:ReductionEvaluator",
    "segmentation": "nasforge.evaluators.segmentation:SegmentationEvaluator",
    "metric_table": "nasforge.evaluators.metric_table:MetricTableEvaluator",
    "quant_trainer": "nasforge.evaluators.quant_trainer:QuantTrainerEvaluator",
    "ablation_model": "nasforge.ablation.evaluators:ModelAblationEvaluator",
    "ablation_features": "nasforge.ablation.evaluators:FeatureAblationEvaluator",
    "zero_cost": "nasforge.evaluators.zero_cost:ZeroCostEvaluator",
    "surrogate": "nasforge.evaluators.surrogate:SurrogateEvaluator",
    "continual": "nasforge.evaluators.continual:ContinualEvaluator",
    "cgap": "nasforge.evaluators.cgap:CGaPEvaluator",
}

EXECUTORS = {
    "serial": "nasforge.study.executors:SerialExecutor",
    "local": "nasforge.study.pool:LocalPoolExecutor",
    "ray": "nasforge.study.ray_executor:RayExecutor",
}

SCHEDULERS = {
    "median": "nasforge.study.schedulers:MedianStopping",
    "asha": "nasforge.study.schedulers:ASHA",
}

#: in-memory datasets by name: ``f() -> RawData`` (files and folders are given by path instead)
DATASETS = {
    "digits": "nasforge.data.digits:load_digits_raw",
    "mnist1d": "nasforge.data.mnist1d:load_mnist1d_raw",
    "wine": "nasforge.data.tables:load_wine_raw",
    "breast_cancer": "nasforge.data.tables:load_breast_cancer_raw",
    "iris": "nasforge.data.tables:load_iris_raw",
}

#: space name -> ``f(arch, input_shape, num_classes, **options) -> nn.Module``
MODELS = {
    "nb201": "nasforge.models.nb201:build_nb201",
    "chain": "nasforge.models.chain:build_chain",
    "enas_s": "nasforge.models.enas_s:build_enas_s",
    "chain_precision": "nasforge.models.chain_precision:build_chain_precision",
    "unet": "nasforge.models.unet:build_unet",
}

#: the evaluator a space uses when the config names none (a plugin space defaults to its own name)
DEFAULT_EVALUATOR = {"nb201": "nb201", "nb101": "nb101", "nb101-pool": "nb101", "chain": "trainer",
                     "reduction": "reduction", "unet": "segmentation"}

KINDS: dict[str, dict[str, Any]] = {
    "space": SPACES,
    "strategy": STRATEGIES,
    "evaluator": EVALUATORS,
    "executor": EXECUTORS,
    "scheduler": SCHEDULERS,
    "dataset": DATASETS,
    "model": MODELS,
}

_plugins_loaded = False
#: entry points that failed to load: name -> one-line reason (shown by ``nasforge plugins``/--help)
plugin_errors: dict[str, str] = {}


# --- registering -----------------------------------------------------------------------------------


def register(kind: str, name: str, target: Any, replace: bool = False) -> None:
    """Add ``target`` (an object or ``"package.module:attribute"``) as ``name`` for ``kind``."""
    table = _table(kind)
    if not isinstance(name, str) or not name or ":" in name:
        raise ConfigError(f"a {kind} name must be a non-empty string without ':', got {name!r}")
    old = table.get(name)
    if old is not None and not replace and _path_of(old) != _path_of(target):
        raise ConfigError(
            f"{kind} {name!r} is already registered as {_path_of(old)}; "
            f"pick another name or pass replace=True"
        )
    table[name] = target


def register_class(cls: type) -> type:
    """Register a class by its ``kind`` and ``name`` attributes (usable as a decorator)."""
    kind, name = getattr(cls, "kind", None), getattr(cls, "name", None)
    if kind not in KINDS or not isinstance(name, str):
        raise ConfigError(
            f"{cls.__module__}.{cls.__qualname__} needs class attributes kind (one of "
            f"{', '.join(KINDS)}) and name to be registered, got kind={kind!r} name={name!r}"
        )
    register(kind, name, cls)
    return cls


def load_plugins(force: bool = False) -> None:
    """Import the components other packages declare in the ``nasforge.plugins`` entry points.

    A plugin that fails to load is reported once as a warning (and kept in ``plugin_errors``), so
    one broken package does not break unrelated studies.
    """
    global _plugins_loaded
    if _plugins_loaded and not force:
        return
    _plugins_loaded = True
    from importlib.metadata import entry_points

    for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        try:
            _apply_plugin(ep.load())
        except Exception as exc:  # noqa: BLE001 - a third-party package may fail in any way
            reason = f"{type(exc).__name__}: {exc}"
            plugin_errors[ep.name] = reason
            warnings.warn(f"nasforge plugin {ep.name!r} ({ep.value}) failed to load: {reason}", stacklevel=2)


def _apply_plugin(obj: Any) -> None:
    if inspect.ismodule(obj):
        return  # importing it registered what it has
    if isinstance(obj, type):
        register_class(obj)
        return
    if callable(obj):
        params = [p for p in inspect.signature(obj).parameters.values() if p.default is p.empty]
        obj(register) if params else obj()
        return
    raise ConfigError(f"entry point object {obj!r} is not a module, a function or a class")


# --- looking up ------------------------------------------------------------------------------------


def names(kind: str) -> list[str]:
    """Registered names of ``kind``, plugins included, sorted."""
    load_plugins()
    return sorted(_table(kind))


def is_known(kind: str, name: str) -> bool:
    """True if ``name`` is registered or looks like an importable ``package.module:attribute``."""
    load_plugins()
    return name in _table(kind) or _is_path(name)


def check_name(kind: str, name: str) -> str:
    """``name`` if it is registered or a ``module:attribute`` path; else one line listing choices."""
    if not isinstance(name, str) or not is_known(kind, name):
        raise ConfigError(unknown(kind, name))
    return name


def unknown(kind: str, name: Any) -> str:
    choices = names(kind)
    guess = difflib.get_close_matches(str(name), choices, n=1)
    hint = f"; did you mean {guess[0]!r}?" if guess else ""
    return (
        f"unknown {kind} {name!r}; choose one of: {', '.join(choices)} "
        f"(or 'package.module:Class'){hint}"
    )


def resolve(kind: str, name: str) -> Any:
    """The object registered as ``name`` for ``kind`` (or imported from ``module:attribute``)."""
    load_plugins()
    table = _table(kind)
    if isinstance(name, str) and name in table:
        target = table[name]
        return load_object(target) if isinstance(target, str) else target
    if isinstance(name, str) and _is_path(name):
        return load_object(name)
    raise ConfigError(unknown(kind, name))


def spelling(kind: str, component: Any) -> str:
    """The name to store for ``component`` (an instance or class): its registered name when that
    name resolves to the same class, else ``"package.module:Class"`` so the CLI can rebuild it."""
    cls = component if isinstance(component, type) else type(component)
    path = f"{cls.__module__}:{cls.__qualname__}"
    load_plugins()
    table = _table(kind)
    name = getattr(component, "name", None)
    if isinstance(name, str) and name in table and _path_of(table[name]) == path:
        return name
    for registered, target in table.items():
        if _path_of(target) == path:
            return registered
    if cls.__module__ == "__main__" or "<locals>" in cls.__qualname__:
        return name if isinstance(name, str) else cls.__name__  # not importable: best effort
    return path


def load_object(path: str) -> Any:
    """Import ``package.module:attr``; used for registry entries and user factories."""
    module_name, _, attr = str(path).partition(":")
    if not module_name or not attr:
        raise ConfigError(f"{path!r} is not of the form 'package.module:attribute'")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise ConfigError(f"cannot import module {module_name!r} for {path!r}: {exc}") from exc
    obj: Any = module
    try:
        for part in attr.split("."):
            obj = getattr(obj, part)
    except AttributeError as exc:
        raise ConfigError(f"module {module_name!r} has no attribute {attr!r}") from exc
    return obj


# --- helpers ---------------------------------------------------------------------------------------


def _table(kind: str) -> dict[str, Any]:
    if kind not in KINDS:
        raise ConfigError(f"unknown component kind {kind!r}; kinds: {', '.join(KINDS)}")
    return KINDS[kind]


def _is_path(name: str) -> bool:
    module, sep, attr = name.partition(":")
    return bool(sep and module and attr) and all(p.isidentifier() for p in module.split(".") + attr.split("."))


def _path_of(target: Any) -> str:
    if isinstance(target, str):
        return target
    if callable(target):
        return f"{getattr(target, '__module__', '?')}:{getattr(target, '__qualname__', repr(target))}"
    return repr(target)
