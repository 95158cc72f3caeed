"""Leave-one-component-out studies from Python: build the component list, then run it as a Study.

An ablation is an ordinary study: space ``ablation`` (base + each component, times seeds), strategy
``loco`` (that fixed list, in order), evaluator ``ablation_model`` / ``ablation_features`` (the
trainer with the component removed). Its config is stored like any study's, so ``load_study``,
``nasforge resume``, ``list`` and ``report`` work on it, and its trials run in parallel on any
executor. The classes here only resolve what the components are (with a dry run on real data) and
write that config; :meth:`Ablation.run` is ``create`` + ``Study.optimize`` + the report view.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from ..config import StudyConfig, build_components, parse_config
from ..errors import ConfigError
from ..objectives import Objective
from ..study.executors import Executor
from ..trial import Trial
from .report import AblationReport, ablation_report
from .space import AblationSpace, check_seeds


class Ablation:
    """What both kinds share: components, seeds, metric, and how they become a study."""

    kind: str = ""
    evaluator: str = ""

    def __init__(self, seeds: Sequence[int], metric: str, dataset: str, data_dir: str | None,
                 training: Mapping[str, Any]) -> None:
        self.seeds = check_seeds(seeds)
        self.objective = Objective.parse(metric)
        self.dataset = str(dataset)
        self.data_dir = None if data_dir is None else str(data_dir)
        self.training = {k: v for k, v in training.items() if v is not None}
        self.components: dict[str, list[Any]] = {}
        self.skipped: dict[str, str] = {}
        self.labels: list[str] | None = None
        self.evaluator_options: dict[str, Any] = {}

    @property
    def space(self) -> AblationSpace:
        return AblationSpace(self.components, self.seeds)

    def n_trials(self) -> int:
        return (len(self.components) + 1) * len(self.seeds)

    def _load_data(self):
        from ..data.load import load_dataset

        split_seed = self.training.get("split_seed", 0)
        return load_dataset(self.dataset, seed=split_seed, data_dir=self.data_dir)

    def study_config(
        self, name: str = "ablation", storage: str | Path | None = None, executor: str = "serial",
        workers: int = 1, executor_options: Mapping[str, Any] | None = None,
    ) -> StudyConfig:
        """The StudyConfig this ablation runs as (validated; trials = the whole list)."""
        return parse_config({
            "name": name, "space": "ablation",
            "space_options": {"components": self.components, "seeds": self.seeds},
            "strategy": "loco", "evaluator": self.evaluator,
            "evaluator_options": {**self.evaluator_options, **self.training},
            "dataset": self.dataset, "data": self.data_dir,
            "objectives": [str(self.objective)], "trials": self.n_trials(),
            "storage": ":memory:" if storage is None else str(storage),
            "executor": executor, "workers": workers, "executor_options": dict(executor_options or {}),
        })

    def create(self, config: StudyConfig, executor: Executor | None = None):
        """A new Study for ``config`` (from :meth:`study_config`); ``executor`` overrides its own."""
        from ..study.api import create_study

        parts = build_components(config)
        parts["evaluator"].prepare()
        stored = config.model_dump()
        stored["ablation"] = {"kind": self.kind, "skipped": self.skipped, "labels": self.labels}
        return create_study(
            name=config.study_name, space=parts["space"], strategy=parts["strategy"],
            evaluator=parts["evaluator"], objectives=parts["objectives"], storage=config.storage,
            seed=config.seed, executor=executor or parts["executor"], config=stored,
        )

    def run(
        self,
        executor: Executor | None = None,
        storage: str | Path | None = None,
        name: str = "ablation",
        on_trial: Callable[[Trial], None] | None = None,
    ) -> AblationReport:
        """Run every trial through a Study (in memory unless ``storage``) and build the table."""
        study = self.create(self.study_config(name, storage), executor)
        callbacks = [] if on_trial is None else [lambda _study, trial: on_trial(trial)]
        study.optimize(n_trials=self.n_trials(), callbacks=callbacks)
        return ablation_report(study.record.config, study.trials)


class ModelAblation(Ablation):
    """LOCO over named modules and module groups (name prefixes) of a user's PyTorch model.

    ``model`` is an importable factory 'package.module:function' returning an ``nn.Module``;
    ``modules`` is a list of qualified module names or 'all' (every removable leaf with
    parameters); ``groups`` are name prefixes whose topmost matching modules are removed together.
    Every removal is dry-run on a real batch first; ConfigError names those that cannot be removed.
    ``training`` options go to the trainer (epochs, lr, batch_size, optimizer, ...).
    """

    kind = "model"
    evaluator = "ablation_model"

    def __init__(
        self,
        model: str,
        modules: Sequence[str] | str = (),
        groups: Sequence[str] = (),
        dataset: str = "digits",
        data_dir: str | None = None,
        seeds: Sequence[int] = (0, 1, 2),
        metric: str = "valid_accuracy",
        factory_options: Mapping[str, Any] | None = None,
        search_path: str | None = None,
        **training: Any,
    ) -> None:
        super().__init__(seeds, metric, dataset, data_dir, training)
        if isinstance(modules, str) and modules != "all":
            raise ConfigError(f"parameter modules must be a list of module names or 'all', got {modules!r}")
        if isinstance(groups, str):
            raise ConfigError(f"parameter groups must be a list of name prefixes, got {groups!r}")
        import torch

        from ..evaluators.trainer import TrainerEvaluator  # noqa: F401 - fail early without torch
        from ..training.seeding import seeded_torch
        from .components import resolve_components
        from .evaluators import load_factory

        factory = load_factory(model, search_path)
        with seeded_torch(0):  # a forked RNG: building the probe model leaves the caller's alone
            built = factory(**dict(factory_options or {}))
        if not isinstance(built, torch.nn.Module):
            raise ConfigError(f"model factory {model!r} must return a torch.nn.Module, got {type(built).__name__}")
        sample = torch.as_tensor(self._load_data().x_train[:4])
        self.components, self.skipped = resolve_components(built, modules, list(groups), sample)
        self.evaluator_options = {"factory": model, "factory_options": dict(factory_options or {}),
                                  "search_path": search_path}


class FeatureAblation(Ablation):
    """LOCO over input features of any dataset the loaders give (see :mod:`.features`).

    ``axis`` (channel | row | column | time; default channel when there are several, else the last
    axis), ``each`` ('all' or a list of features, each its own component), ``windows`` (equal
    contiguous windows along the axis) and ``groups`` (name -> features) choose the components;
    features are given by index or by name (scikit-learn tables name their columns). ``model`` is
    logistic | mlp on the flattened input, or a factory 'package.module:function'.
    """

    kind = "features"
    evaluator = "ablation_features"

    def __init__(
        self,
        dataset: str = "wine",
        axis: str | None = None,
        each: Sequence[Any] | str | None = None,
        windows: int | None = None,
        groups: Mapping[str, Sequence[Any]] | None = None,
        names: Sequence[str] | None = None,
        model: str = "logistic",
        hidden: int = 32,
        data_dir: str | None = None,
        seeds: Sequence[int] = (0, 1, 2),
        metric: str = "valid_accuracy",
        factory_options: Mapping[str, Any] | None = None,
        search_path: str | None = None,
        **training: Any,
    ) -> None:
        super().__init__(seeds, metric, dataset, data_dir, training)
        from ..data.tables import TABLES, column_names
        from .features import feature_components

        shape = self._load_data().input_shape
        if names is None and self.dataset in TABLES and axis in (None, "channel"):
            names = column_names(self.dataset)
        axis, self.components = feature_components(shape, axis, each, windows, groups, names)
        self.labels = None if names is None else list(names)
        self.evaluator_options = {"axis": axis, "model": model, "hidden": hidden,
                                  "factory_options": dict(factory_options or {}), "search_path": search_path}
