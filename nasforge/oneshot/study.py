"""One-shot search -> derived architectures -> an ordinary study (store, report, resume, export).

A config is a study config plus a ``oneshot`` section::

    oneshot:
      relaxation: darts          # or gdas
      epochs: 15
      penalties: [0.0, 1.0, 4.0] # one supernet search per cost-penalty weight: the front's sweep
      top_k: 1                   # architectures derived per search
      uniform_baselines: [8, 4]  # also run every derived network at uniform 8 / 4 bits

Every search's derived architectures (deduplicated, in penalty order) become the ``fixed_list``
strategy's list, stored with the study's config, so ``nasforge resume`` and ``nasforge export``
treat the study like any other. The searches' own reports (history, probabilities, skip-collapse
check) go to ``<storage stem>.<study name>.oneshot.json`` next to the storage file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..config import parse_config
from ..errors import ConfigError
from ..registry import resolve

ONESHOT_KEYS = {
    "relaxation", "bits_relaxation", "epochs", "batch_size", "lr", "momentum", "weight_decay", "arch_lr",
    "arch_weight_decay", "tau_max", "tau_min", "warmup", "cost", "top_k", "bilevel", "threads",
    "supernet_options", "penalties", "uniform_baselines", "method",
}


def reports_path(storage: str, name: str) -> Path:
    path = Path(storage)
    return path.with_name(f"{path.stem}.{name}.oneshot.json")


def search_derived(config: dict[str, Any]) -> tuple[list[str], list[dict[str, Any]], list[dict[str, Any]]]:
    """Run the configured one-shot searches; (architecture strings, origins, search reports)."""
    from .base import DifferentiableSearch

    section = dict(config.get("oneshot") or {})
    bad = sorted(set(section) - ONESHOT_KEYS)
    if bad:
        raise ConfigError(f"unknown oneshot option(s) {bad}; allowed: {', '.join(sorted(ONESHOT_KEYS))}")
    method = section.pop("method", "differentiable")
    if method != "differentiable":
        raise ConfigError(f"oneshot method must be 'differentiable', got {method!r}")
    penalties = section.pop("penalties", [0.0])
    if isinstance(penalties, (int, float)):
        penalties = [penalties]
    if not isinstance(penalties, list) or not penalties:
        raise ConfigError(f"oneshot option penalties must be a non-empty list of numbers >= 0, got {penalties!r}")
    uniform = section.pop("uniform_baselines", [])
    if not isinstance(uniform, list):
        raise ConfigError(f"oneshot option uniform_baselines must be a list of bit-widths, got {uniform!r}")
    bits_relaxation = section.pop("bits_relaxation", None)
    if bits_relaxation is not None:
        section.setdefault("supernet_options", {})["bits_relaxation"] = bits_relaxation

    base = _with_default_evaluator({k: v for k, v in config.items() if k != "oneshot"})
    cfg = parse_config({**base, "strategy": "random"})  # validates everything but the list
    space = resolve("space", cfg.space)(**cfg.space_options)
    searches = [DifferentiableSearch(space, penalty=p, **section) for p in penalties]  # check first
    evaluator_options = dict(cfg.evaluator_options)
    if cfg.dataset is not None:
        evaluator_options["dataset"] = cfg.dataset
    if cfg.data is not None:
        evaluator_options["data_dir"] = cfg.data
    evaluator = resolve("evaluator", cfg.evaluator_name)(space, **evaluator_options)
    dataset = evaluator.data()  # the evaluator's own split: the search never sees valid / test

    strings: list[str] = []
    origins: list[dict[str, Any]] = []
    reports = []
    for penalty, search in zip(penalties, searches):
        archs = search.run(dataset, seed=cfg.seed)
        reports.append(search.report)
        for rank, arch in enumerate(archs):
            candidates = [(arch, None)]
            for bits in uniform:
                if not hasattr(space, "uniform"):
                    raise ConfigError(f"uniform_baselines need the chain_precision space, got {space.name!r}")
                candidates.append((space.uniform(arch, bits), bits))
            for candidate, bits in candidates:
                if candidate.string not in strings:
                    strings.append(candidate.string)
                    origins.append({"penalty": penalty, "rank": rank, "uniform_bits": bits,
                                    "collapsed": search.report["collapsed"]})
    return strings, origins, reports


def run_oneshot(config: dict[str, Any], callbacks=()) -> Any:
    """Search (unless the study already exists: then resume it) and run the derived trials."""
    from .. import errors
    from ..store.sqlite import SQLiteStore
    from ..study.api import create_study_from_config, load_study

    if not isinstance(config, dict):
        raise ConfigError(f"oneshot config must be a mapping, got {type(config).__name__}")
    storage = str(config.get("storage", "nasforge.db"))
    name = config.get("name")
    if name is None:
        raise ConfigError("oneshot config needs a study name (field 'name')")
    if storage != ":memory:" and Path(storage).is_file():
        try:
            SQLiteStore(storage).get_study(name)
            exists = True
        except errors.NasforgeError:
            exists = False
        if exists:
            study = load_study(name, storage)
            study.optimize(n_trials=len(study.strategy.archs), callbacks=callbacks)
            return study
    strings, origins, reports = search_derived(config)
    base = _with_default_evaluator({k: v for k, v in config.items() if k != "oneshot"})
    base.update({"strategy": "fixed_list", "trials": len(strings),
                 "strategy_options": {"architectures": strings, "origin": origins}})
    study = create_study_from_config(base)
    if storage != ":memory:":
        reports_path(storage, name).write_text(json.dumps(reports, indent=1) + "\n")
    study.oneshot_reports = reports
    study.optimize(n_trials=len(strings), callbacks=callbacks)
    return study


def _with_default_evaluator(config: dict[str, Any]) -> dict[str, Any]:
    """chain_precision networks are trained by quant_trainer unless the config says otherwise."""
    if config.get("space") == "chain_precision" and config.get("evaluator") is None:
        return {**config, "evaluator": "quant_trainer"}
    return config
