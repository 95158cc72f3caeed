"""Leave-one-component-out studies: one base trial plus one per component, each over seeds.

Trials are ordinary tasks for the executors (serial, local pool, Ray) and, when ``storage`` is
given, ordinary trials in the SQLite store (architecture = component name, seed = ablation seed).
The base and every component see the same seeds, so differences are paired, not seed noise.
"""

from __future__ import annotations

import itertools
import time
from collections import deque
from pathlib import Path
from typing import Any, Callable, Sequence

from ..errors import ConfigError
from ..evaluators.base import Evaluator
from ..objectives import Objective, values_of
from ..study.executors import Executor, Outcome, SerialExecutor, Task
from ..trial import Trial, TrialState
from .components import BASE
from .evaluators import (
    FeatureAblationEvaluator,
    ModelAblationEvaluator,
    component_arch,
    feature_names,
)
from .report import AblationReport


def _check_seeds(seeds: Any) -> list[int]:
    values = list(seeds) if isinstance(seeds, (list, tuple, range)) else None
    if (
        not values
        or any(isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in values)
        or len(set(values)) != len(values)
    ):
        raise ConfigError(
            "parameter seeds must be a non-empty list of distinct non-negative integers, "
            f"got {seeds!r}"
        )
    return values


class Ablation:
    """Base: holds the evaluator, the components and the seeds; ``run`` executes and reports."""

    evaluator: Evaluator
    components: dict[str, list[str]]

    def __init__(self, seeds: Sequence[int], metric: str) -> None:
        self.seeds = _check_seeds(seeds)
        self.objective = Objective.parse(metric)
        self.skipped: dict[str, str] = {}

    def _check_metric(self) -> None:
        known = list(self.evaluator.metrics())
        if self.objective.name not in known:
            raise ConfigError(
                f"parameter metric must be one of {known}, got {self.objective.name!r}"
            )

    def tasks(self) -> list[Task]:
        """Base first, then components, each over all seeds (trial numbers in that order)."""
        names = [BASE] + list(self.components)
        return [Task(n, component_arch(c), None, s)
                for n, (c, s) in enumerate(itertools.product(names, self.seeds))]

    def run(
        self,
        executor: Executor | None = None,
        storage: str | Path | None = None,
        name: str = "ablation",
        config: dict[str, Any] | None = None,
        on_trial: Callable[[Trial], None] | None = None,
    ) -> AblationReport:
        """Run every trial (``capacity`` at a time) and build the report; ``on_trial`` is called
        with each finished trial (progress output)."""
        store = record = None
        if storage is not None:
            from ..store.sqlite import SQLiteStore

            store = SQLiteStore(storage)
            if name in store.study_names():
                raise ConfigError(
                    f"a study named {name!r} already exists in {storage}; choose another name"
                )
            record = store.create_study(name, {"kind": "ablation", **(config or {}),
                                               "evaluator_info": self.evaluator.describe()})
        study_id = None if record is None else record.study_id
        trials = run_tasks(self.evaluator, self.tasks(), executor or SerialExecutor(),
                           self.objective, store, study_id, on_trial)
        info = {"evaluator": self.evaluator.describe(), "skipped": self.skipped,
                "storage": None if storage is None else str(storage), "study": name}
        return AblationReport.from_trials(trials, self.components, self.objective, self.seeds, info)


def run_tasks(
    evaluator: Evaluator,
    tasks: Sequence[Task],
    executor: Executor,
    objective: Objective,
    store: Any = None,
    study_id: int | None = None,
    on_trial: Callable[[Trial], None] | None = None,
) -> list[Trial]:
    """Keep ``executor.capacity`` tasks in flight; record each as a Trial (and in ``store``)."""
    pending = deque(tasks)
    inflight: dict[int, Trial] = {}
    finished: list[Trial] = []
    executor.start(evaluator)
    try:
        while pending or inflight:
            while pending and len(inflight) < executor.capacity:
                task = pending.popleft()
                trial = Trial(task.number, task.arch.string, task.seed, task.fidelity,
                              started=time.time())
                if store is not None:
                    store.start_trials(study_id, [trial], {})
                inflight[task.number] = trial
                executor.submit(task)
            for outcome in executor.wait():
                trial = _finish(inflight.pop(outcome.number), outcome, objective)
                if store is not None:
                    store.finish_trial(study_id, trial, None)
                finished.append(trial)
                if on_trial is not None:
                    on_trial(trial)
    finally:
        executor.shutdown()
    return sorted(finished, key=lambda t: t.number)


def _finish(trial: Trial, outcome: Outcome, objective: Objective) -> Trial:
    trial.started, trial.finished = outcome.started, outcome.finished
    if outcome.metrics is None:
        trial.state, trial.error = TrialState.FAILED, outcome.error or "unknown error"
        return trial
    trial.metrics = dict(outcome.metrics)
    try:
        trial.values = values_of(outcome.metrics, [objective])
        trial.state = TrialState.COMPLETE
    except (KeyError, ValueError) as exc:  # the same rule as Study._finish
        trial.state, trial.error = TrialState.FAILED, str(exc).strip("'\"")
    return trial


class ModelAblation(Ablation):
    """LOCO over named modules and module groups (name prefixes) of a user's PyTorch model.

    ``model`` is an importable factory 'package.module:function' returning an ``nn.Module``;
    ``modules`` is a list of qualified module names or 'all' (every removable leaf with
    parameters); ``groups`` are name prefixes whose topmost matching modules are removed together.
    Every removal is dry-run on a real batch first; ConfigError names those that cannot be removed.
    """

    def __init__(
        self,
        model: str,
        modules: Sequence[str] | str = (),
        groups: Sequence[str] = (),
        dataset: str = "digits",
        data_dir: str | None = None,
        seeds: Sequence[int] = (0, 1, 2),
        epochs: int = 10,
        lr: float = 0.01,
        batch_size: int = 64,
        metric: str = "valid_accuracy",
        data_seed: int = 0,
        factory_options: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(seeds, metric)
        if isinstance(modules, str) and modules != "all":
            raise ConfigError(
                f"parameter modules must be a list of module names or 'all', got {modules!r}"
            )
        if isinstance(groups, str):
            raise ConfigError(f"parameter groups must be a list of name prefixes, got {groups!r}")
        evaluator = ModelAblationEvaluator(
            model, {}, dataset=dataset, data_dir=data_dir, epochs=epochs, lr=lr,
            batch_size=batch_size, data_seed=data_seed, factory_options=factory_options,
        )
        self.evaluator = evaluator
        self._check_metric()
        import torch

        from .components import resolve_components

        built = evaluator.build(seed=0)
        if not isinstance(built, torch.nn.Module):
            raise ConfigError(
                f"model factory {model!r} must return a torch.nn.Module, "
                f"got {type(built).__name__}"
            )
        sample = torch.as_tensor(evaluator.load_data().x_train[:4])
        self.components, self.skipped = resolve_components(built, modules, list(groups), sample)
        evaluator.components = self.components


class FeatureAblation(Ablation):
    """LOCO over input features of a bundled sklearn table (wine, breast_cancer, iris).

    ``features`` is 'all' or a list of feature names; ``groups`` maps a group name to feature
    names removed together (e.g. all 'worst ...' features of breast_cancer).
    """

    def __init__(
        self,
        dataset: str = "wine",
        features: Sequence[str] | str = "all",
        groups: dict[str, Sequence[str]] | None = None,
        model: str = "logistic",
        hidden: int = 32,
        seeds: Sequence[int] = (0, 1, 2),
        epochs: int = 100,
        lr: float = 0.01,
        batch_size: int = 32,
        metric: str = "valid_accuracy",
        data_seed: int = 0,
    ) -> None:
        super().__init__(seeds, metric)
        known = feature_names(dataset)
        if features == "all":
            chosen = list(known)
        elif isinstance(features, str) or not isinstance(features, (list, tuple)):
            raise ConfigError(
                f"parameter features must be a list of feature names or 'all', got {features!r}"
            )
        else:
            chosen = list(features)
        components = {f: [f] for f in chosen}
        for group, members in (groups or {}).items():
            components[f"group:{group}"] = list(members)
        unknown = sorted({f for m in components.values() for f in m} - set(known))
        if unknown:
            raise ConfigError(
                f"dataset {dataset!r} has no feature(s) {', '.join(map(repr, unknown))}; "
                f"its features are: {', '.join(known)}"
            )
        if not components:
            raise ConfigError("nothing to ablate: give features (a list or 'all') and/or groups")
        self.components = components
        self.evaluator = FeatureAblationEvaluator(
            components, dataset=dataset, model=model, hidden=hidden, epochs=epochs, lr=lr,
            batch_size=batch_size, data_seed=data_seed,
        )
        self._check_metric()
