"""``nasforge reduce``: train the base, search a reduced network, retrain it, compare with pruning.

Steps (each resumable: trained bases are files, the search is an ordinary stored study):

1. train the base network with its full schedule (``base_epochs``) for every seed; the first seed's
   weights are the teacher and the reference of the N2N reward;
2. search the reduction space with a short fitness (``search.fidelity`` epochs, by distillation
   by default) as a study named ``name`` in ``storage`` (``nasforge report`` / ``export`` work on
   it);
3. pick the smallest searched network whose fitness accuracy is within ``pick_tolerance`` points of
   the base's under the same fitness;
4. retrain the pick from scratch with the base's full schedule for every seed;
5. optionally prune the trained bases to the pick's parameter count with L1-norm filter pruning and
   network slimming and fine-tune them (:mod:`.pruning`);
6. report base vs reduced (params, FLOPs, latency, accuracy mean +- std), the front of accuracy vs
   parameters over the searched networks, the baselines and the cost in epochs and seconds.
"""

from __future__ import annotations

import hashlib
import json
import statistics
import time
from pathlib import Path
from typing import Any, Callable, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import ConfigError
from ..objectives import parse_objectives

DEFAULT_OBJECTIVES = {"reinforce": ["n2n_reward:max"]}
#: trainer options the pipeline sets itself (per phase)
_RESERVED = ("epochs", "distill", "distill_alpha", "teacher", "teacher_epochs", "teacher_seed", "dataset", "data_dir")


class SearchConfig(BaseModel):
    """The search step: a study over the reduction space with a short fitness."""

    model_config = ConfigDict(extra="forbid")

    strategy: str = "greedy_shrink"
    strategy_options: dict[str, Any] = Field(default_factory=dict)
    objectives: Optional[list[str]] = None
    fidelity: int = Field(default=5, gt=0)
    trials: int = Field(default=40, ge=1)
    distill: bool = True
    distill_alpha: float = Field(default=1.0, ge=0, le=1)
    executor: str = "serial"
    workers: int = Field(default=1, ge=1)


class ReduceConfig(BaseModel):
    """Everything ``nasforge reduce`` needs; see the module doc for the steps."""

    model_config = ConfigDict(extra="forbid")

    name: Optional[str] = None
    storage: str = "reduce.db"
    seed: int = Field(default=0, ge=0)
    space_options: dict[str, Any] = Field(default_factory=dict)
    dataset: str = "mnist1d"
    data: Optional[str] = None
    evaluator_options: dict[str, Any] = Field(default_factory=dict)
    base_epochs: int = Field(default=30, gt=0)
    search: SearchConfig = Field(default_factory=SearchConfig)
    pick_tolerance: float = Field(default=0.5, ge=0)
    seeds: list[int] = Field(default_factory=lambda: [0], min_length=1)
    baselines: list[Literal["l1", "slimming"]] = Field(default_factory=list)
    slimming_sparsity: float = Field(default=1e-4, ge=0)
    finetune_epochs: Optional[int] = Field(default=None, gt=0)
    finetune_lr_scale: float = Field(default=0.1, gt=0)
    export: Optional[str] = None
    output: Optional[str] = None
    #: folder for trained bases (default ``<storage>.artifacts``); runs sharing it share the bases
    artifacts: Optional[str] = None

    @property
    def study_name(self) -> str:
        base = self.space_options.get("base", "resnet20") if "factory" not in self.space_options else "factory"
        return self.name or f"reduce-{base}-{self.dataset}-{self.search.strategy}-s{self.seed}"


def parse_reduce_config(data: Any) -> ReduceConfig:
    """Validate a mapping; the first problem becomes one ConfigError line."""
    if isinstance(data, ReduceConfig):
        return data
    if not isinstance(data, dict):
        raise ConfigError(f"reduce config must be a mapping of fields, got {type(data).__name__}")
    try:
        cfg = ReduceConfig(**data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "config"
        if err["type"] == "extra_forbidden":
            raise ConfigError(f"unknown reduce config field {where!r}; allowed: "
                              f"{', '.join(ReduceConfig.model_fields)} (search: {', '.join(SearchConfig.model_fields)})") from None
        raise ConfigError(f"reduce config field {where!r}: {err['msg']}, got {err.get('input')!r}") from None
    bad = sorted(set(cfg.evaluator_options) & set(_RESERVED))
    if bad:
        raise ConfigError(f"evaluator_options of reduce must not set {bad}: use base_epochs, search.fidelity, "
                          "search.distill, dataset and data")
    if len(set(cfg.seeds)) != len(cfg.seeds) or any(s < 0 for s in cfg.seeds):
        raise ConfigError(f"reduce config field 'seeds' must be distinct integers >= 0, got {cfg.seeds!r}")
    parse_objectives(cfg.search.objectives or ["valid_accuracy:max"])
    return cfg


def _mean_std(values: list[float]) -> dict[str, float]:
    return {"mean": statistics.fmean(values), "std": statistics.stdev(values) if len(values) > 1 else 0.0,
            "values": list(values)}


def _summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    first = runs[0]
    return {
        "params_m": first["params_m"], "flops_m": first["flops_m"], "latency_ms": first["latency_ms"],
        "test_accuracy": _mean_std([r["test_accuracy"] for r in runs]),
        "valid_accuracy": _mean_std([r["valid_accuracy"] for r in runs]),
        "epochs": sum(int(r["epochs"]) for r in runs),
    }


def run_reduction(config: Any, log: Callable[[str], None] = lambda line: None) -> dict[str, Any]:
    """Run every step for ``config`` (a mapping or :class:`ReduceConfig`) and return the report."""
    from ..evaluators.reduction import (
        ReductionEvaluator,
        load_reference,
        reference_from,
        relative_metrics,
        save_reference,
    )
    from ..spaces.reduction import ReductionSpace
    from ..study.api import create_study_from_config, load_study
    from ..trial import TrialState

    cfg = parse_reduce_config(config)
    name = cfg.study_name
    try:
        space = ReductionSpace(**cfg.space_options)
    except TypeError as exc:
        raise ConfigError(f"space_options of reduce: {exc}") from None
    full = ReductionEvaluator(space, dataset=cfg.dataset, data_dir=cfg.data, epochs=cfg.base_epochs,
                              **cfg.evaluator_options)
    full.prepare()
    # trained bases are shared by every reduction of the same base, data and schedule in this storage
    key = json.dumps([repr(space), cfg.dataset, cfg.data, cfg.base_epochs, sorted(cfg.evaluator_options.items())],
                     default=str)
    artifacts = Path(cfg.artifacts or f"{cfg.storage}.artifacts") / "reduction-bases" / hashlib.sha256(key.encode()).hexdigest()[:16]
    base = space.base()
    # the search study's config, checked before anything is trained
    search = cfg.search
    objectives = search.objectives or DEFAULT_OBJECTIVES.get(search.strategy, ["valid_accuracy:max", "params_m:min"])
    study_config = {
        "name": name, "space": "reduction", "space_options": cfg.space_options,
        "strategy": search.strategy, "strategy_options": search.strategy_options,
        "evaluator": "reduction", "dataset": cfg.dataset, "data": cfg.data, "fidelity": search.fidelity,
        "evaluator_options": {**cfg.evaluator_options, "epochs": search.fidelity, "distill": search.distill,
                              "distill_alpha": search.distill_alpha, "teacher": str(artifacts / f"base-s{cfg.seeds[0]}.pt")},
        "objectives": objectives, "trials": search.trials, "seed": cfg.seed, "storage": cfg.storage,
        "executor": search.executor, "workers": search.workers,
    }
    _check_study_config(study_config, space)
    clock = time.perf_counter()

    # 1. the base, fully trained, per seed (kept as files so a rerun does not retrain it)
    references = []
    for seed in cfg.seeds:
        path = artifacts / f"base-s{seed}.pt"
        if path.is_file():
            ref = load_reference(path)
        else:
            log(f"training the base {base.string} ({space.base_params_m:.4f} M params) for "
                f"{cfg.base_epochs} epochs, seed {seed}")
            ref = reference_from(full.train_base(cfg.base_epochs, seed), base, seed)
            save_reference(path, ref)
        references.append(ref)
    full.set_reference(references[0])
    base_runs = [relative_metrics(dict(r.metrics), references[0]) for r in references]
    base_time = time.perf_counter() - clock

    # 2. the search, as a stored study (resumed if it exists)
    from ..store.sqlite import SQLiteStore

    exists = Path(cfg.storage).is_file() and name in SQLiteStore(cfg.storage).study_names()
    study = load_study(name, cfg.storage) if exists else create_study_from_config(study_config)
    log(f"searching with {search.strategy}: up to {search.trials} trials of {search.fidelity} epochs"
        f"{' by distillation' if search.distill else ''} (study {name!r} in {cfg.storage})")
    started = time.perf_counter()
    study.optimize(n_trials=search.trials)
    search_time = time.perf_counter() - started
    trials = [t for t in study.trials if t.state == TrialState.COMPLETE and t.metrics]

    # 3. the base under the same fitness, then the pick
    base_fit = next((t.metrics for t in trials if t.arch == base.string), None)
    extra_epochs = 0
    if base_fit is None:
        base_fit = study.evaluator.evaluate(base, search.fidelity, cfg.seed)
        extra_epochs = int(base_fit["epochs"])
    threshold = float(base_fit["valid_accuracy"]) - cfg.pick_tolerance
    eligible = [t for t in trials if float(t.metrics["valid_accuracy"]) >= threshold]
    pick = min(eligible, key=lambda t: (float(t.metrics["params_m"]), -float(t.metrics["valid_accuracy"]), t.number),
               default=None)
    chosen = space.from_string(pick.arch) if pick is not None else base
    log(f"picked {chosen.string} ({space.cost(chosen)['params_m']:.4f} M params) from {len(trials)} trials")

    # 4. the pick retrained from scratch with the base's schedule
    started = time.perf_counter()
    reduced_runs, first_model = [], None
    for seed in cfg.seeds:
        if chosen == base:
            reduced_runs = base_runs
            break
        log(f"retraining {chosen.string} from scratch for {cfg.base_epochs} epochs, seed {seed}")
        trained = full.train(chosen, cfg.base_epochs, seed)
        reduced_runs.append(trained.metrics)
        first_model = first_model or trained
    retrain_time = time.perf_counter() - started

    # 5. pruning baselines at the pick's parameter count
    baselines = {method: _baseline(method, cfg, space, full, references, space.cost(chosen)["params_m"], artifacts, log)
                 for method in cfg.baselines}

    report = {
        "name": name, "storage": cfg.storage, "dataset": cfg.dataset, "space": repr(space),
        "strategy": search.strategy, "objectives": objectives, "seeds": cfg.seeds,
        "budget": {"base_epochs": cfg.base_epochs, "search_fidelity": search.fidelity,
                   "search_trials": search.trials, "distill": search.distill},
        "base": {"arch": base.string, **_summary(base_runs)},
        "reduced": {"arch": chosen.string, "trial": None if pick is None else pick.number, **_summary(reduced_runs)},
        "base_fitness_valid_accuracy": float(base_fit["valid_accuracy"]),
        "pick_tolerance": cfg.pick_tolerance,
        "front": accuracy_params_front(trials),
        "baselines": baselines,
        "cost": {
            "search_epochs": sum(int(t.metrics.get("epochs", 0)) for t in study.trials if t.metrics) + extra_epochs,
            "search_trials": len(study.trials), "search_seconds": search_time,
            "base_epochs": cfg.base_epochs * len(cfg.seeds), "base_seconds": base_time,
            "retrain_epochs": 0 if chosen == base else cfg.base_epochs * len(cfg.seeds), "retrain_seconds": retrain_time,
        },
    }
    report["params_removed_pct"] = 100.0 * (1 - report["reduced"]["params_m"] / report["base"]["params_m"])
    report["flops_removed_pct"] = 100.0 * (1 - report["reduced"]["flops_m"] / report["base"]["flops_m"])
    report["accuracy_change"] = report["reduced"]["test_accuracy"]["mean"] - report["base"]["test_accuracy"]["mean"]
    if cfg.export is not None:
        model = first_model if first_model is not None else None
        if model is None:
            model = full.train(chosen, cfg.base_epochs, cfg.seeds[0])
        report["export"] = str(export_reduced(model, space, chosen, cfg.export, cfg.seeds[0], cfg.base_epochs))
    if cfg.output is not None:
        Path(cfg.output).write_text(json.dumps(report, indent=2) + "\n")
    return report


def _check_study_config(study_config: dict[str, Any], space: Any) -> None:
    """Names, options and objectives of the search, so a typo fails before the base is trained."""
    import inspect

    from ..config import parse_config
    from ..evaluators.reduction import METRICS
    from ..registry import resolve

    cfg = parse_config(study_config)
    for objective in parse_objectives(cfg.objectives):
        if objective.name not in METRICS:
            raise ConfigError(f"objective metric {objective.name!r} is not produced by the reduction evaluator; "
                              f"available: {', '.join(METRICS)}")
    cls = resolve("strategy", cfg.strategy)
    allowed = [p for p in inspect.signature(cls).parameters if p not in ("self", "space", "seed", "objectives")]
    for key in cfg.strategy_options:
        if key not in allowed:
            raise ConfigError(f"strategy {cfg.strategy!r} has no option {key!r}; allowed: {', '.join(allowed)}")
    cls(space, seed=cfg.seed, objectives=parse_objectives(cfg.objectives), **cfg.strategy_options)


def _baseline(method: str, cfg: ReduceConfig, space: Any, full: Any, references: list, target_params_m: float,
              artifacts: Path, log: Callable[[str], None]) -> dict[str, Any]:
    """Prune each seed's trained base (slimming: a base trained with the BN-scale penalty) to the
    target and fine-tune it; the same seeds as the searched network."""
    import torch

    from ..training.seeding import seeded_torch, torch_threads
    from .pruning import BNSparsity, describe, prune_to_params, train_model

    data = full.data()
    splits = full._splits(data)
    hparams = full.hparams(space.base())
    epochs = cfg.finetune_epochs or cfg.base_epochs
    runs, started, trained_epochs = [], time.perf_counter(), 0
    for seed, ref in zip(cfg.seeds, references):
        with seeded_torch(int(seed)):
            model = space.build(space.base(), data.input_shape, data.num_classes)
        sparse = artifacts / f"slimming-base-s{seed}-{cfg.slimming_sparsity:g}.pt"
        if method == "slimming" and sparse.is_file():
            model.load_state_dict(torch.load(sparse, map_location="cpu"))
            trained_epochs += cfg.base_epochs  # trained by an earlier run; its cost still counts
        elif method == "slimming":
            log(f"slimming: training the base with L1 on BN scales (s={cfg.slimming_sparsity}) for "
                f"{cfg.base_epochs} epochs, seed {seed}")
            train_model(model, splits, hparams, cfg.base_epochs, full.batch_size, seed,
                        task=BNSparsity(model, cfg.slimming_sparsity), threads=full.threads)
            torch.save(model.state_dict(), sparse.with_suffix(".tmp"))
            sparse.with_suffix(".tmp").replace(sparse)
            trained_epochs += cfg.base_epochs
        else:
            model.load_state_dict(ref.state_dict)
        pruned, ratio = prune_to_params(model, tuple(data.input_shape), target_params_m, method)
        log(f"{method}: pruned to {describe(pruned, tuple(data.input_shape))['params_m']:.4f} M params "
            f"(ratio {ratio:.3f}), fine-tuning {epochs} epochs, seed {seed}")
        metrics = train_model(pruned, splits, hparams, epochs, full.batch_size, seed,
                              lr_scale=cfg.finetune_lr_scale, threads=full.threads)
        trained_epochs += int(metrics["epochs"])
        with torch_threads(full.threads):  # latency with the thread count the searched networks had
            cost = describe(pruned, tuple(data.input_shape), full.latency_repeats)
        runs.append({**metrics, **cost, "ratio": ratio})
    return {**_summary(runs), "ratio": runs[0]["ratio"], "trained_epochs": trained_epochs,
            "seconds": time.perf_counter() - started, "finetune_epochs": epochs}


def accuracy_params_front(trials: list) -> list[dict[str, Any]]:
    """Non-dominated searched networks by (valid_accuracy max, params_m min), smallest first."""
    import numpy as np

    from ..pareto import nondominated_mask

    if not trials:
        return []
    values = np.array([[float(t.metrics["valid_accuracy"]), float(t.metrics["params_m"])] for t in trials])
    mask = nondominated_mask(values, parse_objectives(["valid_accuracy:max", "params_m:min"]))
    front = [t for t, keep in zip(trials, mask) if keep]
    return [{"trial": t.number, "arch": t.arch, "valid_accuracy": float(t.metrics["valid_accuracy"]),
             "params_m": float(t.metrics["params_m"]), "flops_m": float(t.metrics["flops_m"])}
            for t in sorted(front, key=lambda t: (float(t.metrics["params_m"]), t.number))]


def export_reduced(trained: Any, space: Any, arch: Any, out_dir: str | Path, seed: int, epochs: int) -> Path:
    """The trained reduced network as files loadable with torch alone (as ``nasforge export``)."""
    import torch

    from ..architecture import genes_to_list
    from ..export import ARCH_FILE, METRICS_FILE, MODEL_FILE, WEIGHTS_FILE, Normalised

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    net = trained.model.to("cpu").eval()
    wrapped = Normalised(net, trained.mean, trained.std, len(trained.input_shape)).eval()
    example = torch.zeros((2, *trained.input_shape))
    batch = torch.export.Dim("batch", min=1, max=1 << 20)
    torch.export.save(torch.export.export(wrapped, (example,), dynamic_shapes=({0: batch},)), out / MODEL_FILE)
    torch.save(net.state_dict(), out / WEIGHTS_FILE)
    description = {
        "space": space.name, "space_repr": repr(space), "arch": arch.string,
        "genes": genes_to_list(space.to_genes(arch)), "input_shape": list(trained.input_shape),
        "num_classes": trained.num_classes,
        "normalisation": {"mean": list(trained.mean), "std": list(trained.std), "built_into": MODEL_FILE},
        "model_file": MODEL_FILE, "load": f"torch.export.load('{MODEL_FILE}').module()",
        "weights_file": WEIGHTS_FILE, "hparams": trained.hparams, "seed": seed, "epochs": epochs,
    }
    (out / ARCH_FILE).write_text(json.dumps(description, indent=2) + "\n")
    (out / METRICS_FILE).write_text(json.dumps({"retrained": trained.metrics}, indent=2, default=float) + "\n")
    return out


def format_report(report: dict[str, Any]) -> str:
    """Plain-text summary: base vs reduced, the front, the baselines and the cost."""

    def acc(entry: dict[str, Any]) -> str:
        t = entry["test_accuracy"]
        return f"{t['mean']:.2f} +- {t['std']:.2f}"

    lines = [f"reduction {report['name']!r}: {report['strategy']} on {report['dataset']}, seeds {report['seeds']}",
             f"{'network':<12} {'params_m':>9} {'flops_m':>9} {'latency_ms':>10} {'test acc %':>15}  arch"]
    rows = [("base", report["base"]), ("reduced", report["reduced"])]
    rows += [(f"prune:{k}", v) for k, v in report["baselines"].items()]
    for label, entry in rows:
        lines.append(f"{label:<12} {entry['params_m']:>9.4f} {entry['flops_m']:>9.3f} {entry['latency_ms']:>10.3f} "
                     f"{acc(entry):>15}  {entry.get('arch', '')}")
    lines.append(f"params removed {report['params_removed_pct']:.1f} %, FLOPs removed {report['flops_removed_pct']:.1f} %, "
                 f"test accuracy change {report['accuracy_change']:+.2f} pt")
    lines.append("front (valid accuracy under the search fitness vs params):")
    for p in report["front"]:
        lines.append(f"  {p['params_m']:.4f} M  {p['valid_accuracy']:.2f} %  {p['arch']}")
    c = report["cost"]
    lines.append(f"cost: search {c['search_epochs']} epochs / {c['search_seconds']:.0f} s over {c['search_trials']} trials; "
                 f"base {c['base_epochs']} epochs / {c['base_seconds']:.0f} s; retrain {c['retrain_epochs']} epochs / "
                 f"{c['retrain_seconds']:.0f} s")
    if "export" in report:
        lines.append(f"exported to {report['export']}")
    return "\n".join(lines)
