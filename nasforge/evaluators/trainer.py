"""Real training: build the architecture's network, train it on a dataset, measure its cost.

The evaluator keeps only settings (cheap to pickle for worker processes); the dataset is loaded on
first use and cached per process. Every trial runs in its own RNG and thread scope, so the same
(arch, fidelity, seed) gives the same metrics in any process and in any order. Training genes an
architecture carries (``space.training_hparams(arch)``) override the evaluator's defaults.
"""

from __future__ import annotations

import math
import numbers
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from ..architecture import Architecture
from ..data.memory import DataSource, as_raw, is_in_memory
from ..errors import (
    ArchitectureError,
    ConfigError,
    DataError,
    NasforgeError,
    TrialFailed,
    TrialPruned,
)
from ..options import AnyOf, Bool, Choice, Float, Int, Map, Seq, Str, validated
from ..registry import load_object
from ..training.choices import OPTIMIZERS, SCHEDULES
from ..training.devices import check_device

TASKS = ("classification", "regression")
from .base import Evaluator

HPARAM_KEYS = ("lr", "momentum", "weight_decay", "optimizer")
CHECKPOINT = "checkpoint.pt"  # in the trial's checkpoint_dir: last state + kept weights
METRICS = (
    "train_accuracy",
    "valid_accuracy",
    "test_accuracy",
    "train_loss",
    "valid_loss",
    "test_loss",
    "params_m",
    "flops_m",
    "latency_ms",
    "boo",
    "boo_per_param",
    "train_time",
    "epochs",
    "best_epoch",
    "resumed_from_epoch",
)


@dataclass
class TrainedModel:
    """A trained network with everything export needs to describe it."""

    model: Any  # torch.nn.Module
    metrics: dict[str, Any]
    hparams: dict[str, Any]
    input_shape: tuple[int, ...]
    num_classes: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    #: task-specific facts export writes into architecture.json (e.g. segmentation preprocessing)
    extra: dict[str, Any] = field(default_factory=dict)


class TrainerEvaluator(Evaluator):
    """Train each architecture with PyTorch; fidelity is the epoch budget.

    Metrics describe the epoch with the best validation accuracy (its weights are kept); train
    accuracy / loss are running values over that epoch, as in the NB201 tables.
    Accuracies are in % (as the NB201 tables), losses are mean cross-entropy, ``params_m`` is in
    millions, ``flops_m`` in millions of multiply-adds (batch 1), ``latency_ms`` in ms (batch 1,
    median of ``latency_repeats``), ``train_time`` in seconds. A NaN / inf loss, running past
    ``time_limit`` seconds, running out of memory or any error while building or training raises
    TrialFailed with the reason.

    ``model_factory`` (``"package.module:function"`` or a module-level function, so process pools
    can pickle it) replaces the space's builder: ``factory(space, arch, input_shape, num_classes,
    **model_options)``.
    """

    name = "trainer"
    options = {
        "dataset": DataSource(none=True),
        "task": Choice(*TASKS),
        "target": Str(none=True),
        "epochs": Int(low=1),
        "batch_size": Int(low=1),
        "lr": Float(low=0, low_open=True),
        "momentum": Float(low=0, high=1, high_open=True),
        "weight_decay": Float(low=0),
        "optimizer": Choice(*OPTIMIZERS),
        "schedule": Choice(*SCHEDULES),
        "patience": Int(low=1, none=True),
        "time_limit": Float(low=0, low_open=True, none=True),
        "threads": Int(low=1, none=True),
        "device": Str(),
        "latency_repeats": Int(low=1),
        "split_seed": Int(low=0),
        "valid_fraction": Float(low=0, high=1, low_open=True, high_open=True),
        "test_fraction": Float(low=0, high=1, low_open=True, high_open=True),
        "max_train": Int(low=2, none=True),
        "eval_batch_size": Int(low=1),
        "model_options": Map(none=True),
        "augment": AnyOf(Seq(Str()), Map(), Str(), none=True),
        "amp": Bool(),
        "channels_last": Bool(),
    }

    @validated
    def __init__(
        self,
        space: Any,
        dataset: Any = "digits",
        data_dir: str | None = None,
        epochs: int = 10,
        batch_size: int = 64,
        lr: float = 0.05,
        momentum: float = 0.9,
        weight_decay: float = 5e-4,
        optimizer: str = "sgd",
        schedule: str = "cosine",
        patience: int | None = None,
        time_limit: float | None = None,
        threads: int | None = 1,
        device: str = "auto",
        latency_repeats: int = 20,
        split_seed: int = 0,
        valid_fraction: float = 0.2,
        test_fraction: float = 0.2,
        max_train: int | None = None,
        eval_batch_size: int = 1024,
        model_options: Mapping[str, Any] | None = None,
        model_factory: str | Callable[..., Any] | None = None,
        augment: Sequence[str] | Mapping[str, Any] | str | None = None,
        task: str = "classification",
        target: str | None = None,
        amp: bool = False,
        channels_last: bool = False,
    ) -> None:
        if space is None or not hasattr(space, "name"):
            raise ConfigError(f"parameter space of TrainerEvaluator must be a search space, got {space!r}")
        self.space = space
        self.space_name = space.name
        self.task = task
        self.target = target
        # data given in memory travels with the evaluator (pickled to workers); names load lazily
        self._raw = as_raw(dataset) if is_in_memory(dataset) else None
        self._memory_data: Any = None
        self.dataset = "digits" if dataset is None else self._raw.origin if self._raw else str(dataset)
        self.data_dir = None if data_dir is None else str(data_dir)
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.optimizer = optimizer
        self.schedule = schedule
        self.patience = patience
        self.time_limit = time_limit
        self.threads = threads
        self.device = check_device(device)  # resolved in prepare(), where the trials run
        self._resolved: str | None = None
        self.latency_repeats = latency_repeats
        self.split_seed = split_seed
        self.valid_fraction = valid_fraction
        self.test_fraction = test_fraction
        self.max_train = max_train
        self.eval_batch_size = eval_batch_size
        self.model_options = dict(model_options or {})
        if model_factory is not None and not (callable(model_factory) or isinstance(model_factory, str)):
            raise ConfigError(
                "parameter model_factory of TrainerEvaluator must be 'package.module:function' or a "
                f"callable, got {model_factory!r}"
            )
        if isinstance(model_factory, str):
            load_object(model_factory)  # fail now on a typo, not in every trial
        self.model_factory = model_factory
        from ..training.augment import make_augmenter

        augmenter = make_augmenter(augment)  # a bad name or parameter fails now, in one line
        self.augment = None if augmenter is None else augmenter.config()
        self.amp = amp  # autocast: float16 + gradient scaler on CUDA, bfloat16 on the CPU
        self.channels_last = channels_last
        self._check_source()
        self._tensors: dict[str, Any] | None = None

    # --- pickling: settings only -------------------------------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_tensors"] = None
        state["_memory_data"] = None
        state["_resolved"] = None  # a worker resolves the device for itself
        return state

    # --- Evaluator interface -------------------------------------------------------------------

    def metrics(self) -> Sequence[str]:
        if self.task == "classification":
            return METRICS
        return tuple(m.replace("accuracy", "mae") for m in METRICS)

    def default_fidelity(self) -> int:
        return self.epochs

    def prepare(self) -> None:
        self.resolved_device()
        self.data()

    def resolved_device(self) -> str:
        """The torch device of this process (``device`` resolved here: see training/devices)."""
        if self._resolved is None:
            from ..training.devices import resolve_device

            self._resolved = resolve_device(self.device)
        return self._resolved

    def describe(self) -> dict[str, Any]:
        return {"evaluator": self.name, "space": self.space_name, **self.config()}

    def config(self) -> dict[str, Any]:
        """Constructor options (JSON-friendly) that rebuild an equal evaluator with the space."""
        factory = self.model_factory
        if callable(factory):
            factory = f"{factory.__module__}:{factory.__qualname__}"
        return {
            "dataset": self.dataset, "data_dir": self.data_dir, "epochs": self.epochs,
            "batch_size": self.batch_size, "lr": self.lr, "momentum": self.momentum,
            "weight_decay": self.weight_decay, "optimizer": self.optimizer,
            "schedule": self.schedule, "patience": self.patience, "time_limit": self.time_limit,
            "threads": self.threads, "device": self.device, "latency_repeats": self.latency_repeats,
            "split_seed": self.split_seed, "valid_fraction": self.valid_fraction,
            "test_fraction": self.test_fraction, "max_train": self.max_train,
            "eval_batch_size": self.eval_batch_size, "model_options": self.model_options,
            "model_factory": factory, "augment": self.augment, "task": self.task, "target": self.target,
            "amp": self.amp, "channels_last": self.channels_last,
        }

    def evaluate(
        self, arch: Architecture, fidelity: int | None = None, seed: int = 0, context: Any = None
    ) -> dict[str, Any]:
        return self.train(arch, fidelity, seed, context).metrics

    # --- training ----------------------------------------------------------------------------

    def _check_source(self) -> None:
        """Cheap existence checks at construction; the arrays load lazily in each process."""
        from ..data.load import resolve_source

        if self._raw is None:
            kind, _ = resolve_source(self.dataset, self.data_dir)
            if self.target is not None and kind != "table-file":
                raise ConfigError(
                    f"option target of TrainerEvaluator names a table column; dataset {self.dataset!r} is not a table"
                )

    def training_task(self, dataset):
        """The TrainingTask (loss and score) for ``dataset``; subclasses for other problems."""
        from ..training.tasks import make_task

        return make_task(self.task, float(dataset.info.get("target_std", 1.0)))

    def task_metrics(self, model, splits, result, task, dataset) -> dict[str, Any]:
        """Extra metrics of the trained model (after test scoring); none for classification."""
        return {}

    @staticmethod
    def _export_info(dataset) -> dict[str, Any]:
        """Dataset facts export writes out (class names; a segmentation set's preprocessing)."""
        keys = ("class_names", "preprocessing", "task", "target_mean", "target_std")
        return {k: dataset.info[k] for k in keys if k in dataset.info}

    def data(self):
        """The split, normalised dataset (cached per process by ``load_dataset``)."""
        from ..data.load import load_dataset

        if self._raw is not None:
            if self._memory_data is None:
                self._memory_data = load_dataset(
                    self._raw, seed=self.split_seed, valid_fraction=self.valid_fraction,
                    test_fraction=self.test_fraction, max_train=self.max_train, task=self.task,
                )
            return self._memory_data
        return load_dataset(
            self.dataset, seed=self.split_seed, data_dir=self.data_dir,
            valid_fraction=self.valid_fraction, test_fraction=self.test_fraction,
            max_train=self.max_train, task=self.task, target=self.target,
        )

    def hparams(self, arch: Architecture) -> dict[str, Any]:
        """Evaluator defaults overridden by the architecture's training genes, if it has any."""
        out = {"lr": self.lr, "momentum": self.momentum, "weight_decay": self.weight_decay,
               "optimizer": self.optimizer}
        own = getattr(self.space, "training_hparams", None)
        if own is not None:
            out.update({k: v for k, v in own(arch).items() if k in HPARAM_KEYS})
        return out

    def train(
        self, arch: Architecture, fidelity: int | None = None, seed: int = 0, context: Any = None
    ) -> TrainedModel:
        """Train ``arch`` for ``fidelity`` epochs (default ``epochs``) with ``seed``; deterministic.

        The learning-rate schedule always spans ``max(epochs, fidelity)`` epochs, so a run to a
        low fidelity is the start of the full run: with a ``context`` that has a checkpoint folder,
        a later call at a higher fidelity continues from the saved state (ASHA promotion) and gives
        the same weights as one uninterrupted run. Returns the network with the weights of its
        best validation epoch and its metrics.
        """
        epochs = self.epochs if fidelity is None else _fidelity(fidelity)
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
            raise ConfigError(f"trial seed must be an integer >= 0, got {seed!r}")
        self.space.validate(arch)
        dataset = self.data()
        hparams = self.hparams(arch)

        import torch

        from ..training.seeding import seeded_torch, torch_threads

        started = time.perf_counter()
        deadline = None if self.time_limit is None else started + self.time_limit
        try:
            with torch_threads(self.threads), seeded_torch(int(seed) % 2**63) as data_order:
                return self._train(arch, epochs, dataset, hparams, data_order, deadline, context)
        except (TrialFailed, TrialPruned, ConfigError, DataError):
            raise
        except ArchitectureError as exc:
            raise TrialFailed(f"cannot build {arch.string!r}: {_line(exc)}") from exc
        except MemoryError as exc:
            raise TrialFailed(f"out of memory: {_line(exc)}") from exc
        except RuntimeError as exc:
            text = str(exc)
            if isinstance(exc, torch.OutOfMemoryError) or "out of memory" in text or "can't allocate" in text:
                raise TrialFailed(f"out of memory: {_line(exc)}") from exc
            raise TrialFailed(f"{type(exc).__name__}: {_line(exc)}") from exc
        except NasforgeError:
            raise
        except Exception as exc:
            raise TrialFailed(f"{type(exc).__name__}: {_line(exc)}") from exc

    def _train(self, arch, epochs, dataset, hparams, data_order, deadline, context) -> TrainedModel:
        from ..metrics.boo import binary_ones
        from ..training.augment import make_augmenter
        from ..training.checkpoint import load_checkpoint, save_checkpoint
        from ..training.loop import fit, keep_best, score
        from ..training.measure import count_flops, count_params, measure_latency
        from ..training.optim import make_optimizer, make_schedule
        splits = self._splits(dataset)
        task = self.training_task(dataset)
        device = self.resolved_device()
        model = self.build(arch, dataset.input_shape, dataset.num_classes).to(device)
        precision = self._precision(device)
        if precision is not None:
            model = precision.model(model)
        optimizer = make_optimizer(
            model.parameters(), hparams["optimizer"], float(hparams["lr"]),
            float(hparams["momentum"]), float(hparams["weight_decay"]),
        )
        schedule = make_schedule(optimizer, self.schedule, max(self.epochs, epochs))
        path = None if context is None else context.checkpoint_path(CHECKPOINT)
        key = {"arch": arch.string, "seed": int(data_order.initial_seed()),
               "horizon": max(self.epochs, epochs), "hparams": hparams, "batch_size": self.batch_size,
               "schedule": self.schedule, "patience": self.patience}
        if self.augment is not None:
            key["augment"] = self.augment
        if self.amp or self.channels_last:
            key["precision"] = {"amp": self.amp, "channels_last": self.channels_last}
        if self.task != "classification":
            key["task"] = self.task
        resume = load_checkpoint(path, key, epochs, model, optimizer, schedule, data_order)
        train, valid, fit_task = self._fit_inputs(arch, splits, task)
        result = fit(
            model, train, valid, optimizer, schedule, epochs, self.batch_size,
            data_order, patience=self.patience, deadline=deadline,
            eval_batch_size=self.eval_batch_size, task=fit_task, context=context, resume=resume,
            augment=make_augmenter(self.augment), precision=precision,
        )
        if path is not None:
            meta = {"input_shape": list(dataset.input_shape), "num_classes": dataset.num_classes,
                    "mean": list(dataset.mean), "std": list(dataset.std), "hparams": hparams,
                    "batch_size": self.batch_size, "schedule": self.schedule,
                    "schedule_epochs": max(self.epochs, epochs), "dataset": self.dataset,
                    "model_options": self.model_options, "model_factory": self.config()["model_factory"],
                    "output": "logits" if self.task == "classification"
                    else "standardised target: prediction * target_std + target_mean",
                    **self._export_info(dataset)}
            save_checkpoint(path, key, model, optimizer, schedule, data_order, result, meta)
        keep_best(model, result)
        # train / valid values of the kept epoch come from fit (no second pass); test is scored once
        m = task.metric
        metrics: dict[str, Any] = {key: result.best[key] for key in (
            f"train_{m}", "train_loss", f"valid_{m}", "valid_loss")}
        metrics["test_loss"], metrics[f"test_{m}"] = score(model, splits["test"], self.eval_batch_size, task)
        metrics.update(self.task_metrics(model, splits, result, task, dataset))
        for key in ("train_loss", "valid_loss", "test_loss"):
            if not math.isfinite(metrics[key]):
                raise TrialFailed(f"{key} is {metrics[key]} after training")
        metrics["params_m"] = count_params(model)
        metrics["flops_m"] = count_flops(model, dataset.input_shape, device)
        metrics["latency_ms"] = measure_latency(model, dataset.input_shape, self.latency_repeats, device)
        metrics.update(binary_ones(model))  # EMONAS bit cost: one cheap pass over the weights
        metrics["train_time"] = result.train_time
        metrics["epochs"] = result.epochs
        metrics["resumed_from_epoch"] = 0 if resume is None else resume.epochs
        metrics["best_epoch"] = result.best_epoch
        if deadline is not None and time.perf_counter() > deadline:
            raise TrialFailed(f"time limit of {self.time_limit} s exceeded")
        model.eval()
        return TrainedModel(model, metrics, dict(hparams), dataset.input_shape,
                            dataset.num_classes, dataset.mean, dataset.std,
                            self._export_info(dataset))

    def _precision(self, device: str) -> Any:
        """None for plain float32 training (the lean path), else the trial's Precision."""
        if not (self.amp or self.channels_last):
            return None
        from ..training.precision import Precision

        return Precision.for_device(device, self.amp, self.channels_last)

    def build(self, arch: Architecture, input_shape: tuple[int, ...], num_classes: int):
        """An untrained network for ``arch`` (the space's builder, or ``model_factory``)."""
        factory = self.model_factory
        if factory is None:
            from ..models import build_model

            return build_model(self.space, arch, input_shape, num_classes, **self.model_options)
        if isinstance(factory, str):
            factory = load_object(factory)
        return factory(self.space, arch, input_shape, num_classes, **self.model_options)

    def _fit_inputs(self, arch: Architecture, splits: dict[str, Any], task: Any):
        """(train split, valid split, TrainingTask) that ``fit`` uses; a subclass may change the
        targets and the loss (distillation packs teacher logits into the targets)."""
        return splits["train"], splits["valid"], task

    def _splits(self, dataset) -> dict[str, Any]:
        """Tensors for the three splits, made once per process (zero-copy on CPU)."""
        if self._tensors is None or self._tensors["dataset"] is not dataset:
            import torch

            from ..training.loop import Split

            def split(x, y):
                device = self.resolved_device()
                return Split(torch.from_numpy(x).to(device), torch.from_numpy(y).to(device))

            self._tensors = {
                "dataset": dataset,
                "train": split(dataset.x_train, dataset.y_train),
                "valid": split(dataset.x_valid, dataset.y_valid),
                "test": split(dataset.x_test, dataset.y_test),
            }
        return self._tensors

    def __repr__(self) -> str:
        return f"TrainerEvaluator(space={self.space_name!r}, dataset={self.dataset!r}, epochs={self.epochs})"


# --- argument checks: one line naming the parameter and what is allowed ---------------------------


def _fidelity(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ConfigError(f"fidelity of evaluator trainer is an epoch budget >= 1, got {value!r}")
    return int(value)


def _line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
