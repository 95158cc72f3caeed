"""The ``continual`` evaluator: train an architecture through a class-incremental stream.

Any space with a model builder works (``chain``, ``enas_s``). Task 0 is learnt from scratch for
``fidelity`` epochs (default ``epochs``), every later task for ``edge_epochs`` with the chosen
``method``: ``finetune``, ``replay``, ``pst``, ``joint`` (see
:mod:`nasforge.training.continual.stream`) or ``al`` (acquisitive learning: ``candidates`` models
of the architecture from different initialisations learn task 0, the one with the smallest
weight-noise accuracy drop (or, with ``al_criterion: roughness``, the smoothest loss landscape)
on task 0's validation split is inherited, then PST).

Metrics (accuracies in %, single head over the classes seen so far):

* ``valid_accuracy`` / ``test_accuracy``: after the last task (= ``valid_final_accuracy``,
  ``final_accuracy``); ``avg_incremental_accuracy``: mean over tasks of the accuracy after it;
  ``forgetting``: mean over earlier tasks of (best accuracy ever - final accuracy), in points;
  ``incremental_accuracy_<t>``, ``task_accuracy_<i>``; each also with a ``valid_`` prefix;
* task-0 stability (validation split of task 0, the model right after task 0): ``task0_accuracy``,
  ``noisy_accuracy`` (mean of ``noise_draws`` draws at ``noise_alpha``), ``noise_drop``,
  ``stability_fitness`` (ENAS-S: acc^2 / |acc - noisy acc| with accuracies as fractions, set to
  1e-4 when task 0 trained to chance level, to <= 30 % train accuracy, or the model exceeds
  ``max_params_m``), ``roughness`` when ``roughness_points`` > 0;
* ``params_m`` (M), ``flops_m`` (M multiply-adds at batch 1), ``train_flops_m`` (3 x forward FLOPs x
  examples x epochs, all tasks and all AL candidates), ``edge_train_flops_m`` (tasks >= 1),
  ``train_time`` (s).

``tasks: 1`` learns task 0 only: the search mode of ENAS-S, where the stability fitness is the
objective. Selection metrics (valid_*, stability) never read test examples.
"""

from __future__ import annotations

import math
import numbers
import time
from typing import Any, Mapping, Sequence

from ..architecture import Architecture
from ..errors import ConfigError, TrialFailed, TrialPruned
from ..validation import check_int
from .base import Evaluator

METHODS = ("finetune", "replay", "pst", "joint", "al")
SCORES = ("abs_w", "abs_grad", "grad_w")
PENALTY = 1e-4


class ContinualEvaluator(Evaluator):
    """See the module docstring; fidelity is task 0's epoch budget."""

    name = "continual"

    def __init__(
        self,
        space: Any,
        dataset: str | None = "digits",
        data_dir: str | None = None,
        division: str | Sequence[int] = "5,1,1,1,1,1",
        stream_seed: int = 0,
        method: str = "pst",
        tasks: int | None = None,
        epochs: int = 10,
        edge_epochs: int = 5,
        batch_size: int = 64,
        lr: float = 0.05,
        edge_lr: float = 0.01,
        momentum: float = 0.9,
        weight_decay: float = 5e-4,
        memory_per_class: int = 20,
        score: str = "abs_w",
        candidates: int = 3,
        al_criterion: str = "noise_drop",
        noise_alpha: float = 0.5,
        noise_draws: int = 5,
        roughness_points: int = 0,
        max_params_m: float = 6.0,
        fitness_cap: float | None = None,
        split_seed: int = 0,
        valid_fraction: float = 0.2,
        test_fraction: float = 0.2,
        max_train: int | None = None,
        threads: int | None = 1,
        model_options: Mapping[str, Any] | None = None,
    ) -> None:
        from ..data.streams import parse_division

        owner = "ContinualEvaluator"
        if space is None or not hasattr(space, "name"):
            raise ConfigError(f"parameter space of {owner} must be a search space, got {space!r}")
        self.space, self.space_name = space, space.name
        self.dataset = "digits" if dataset is None else str(dataset)
        self.data_dir = None if data_dir is None else str(data_dir)
        self.division = parse_division(division)
        self.stream_seed = check_int(owner, "stream_seed", stream_seed, 0)
        if method not in METHODS:
            raise ConfigError(f"parameter method of {owner} must be one of {', '.join(METHODS)}, got {method!r}")
        self.method = method
        self.tasks = None if tasks is None else check_int(owner, "tasks", tasks, 1)
        if self.tasks is not None and self.tasks > len(self.division):
            raise ConfigError(f"parameter tasks of {owner} must be <= {len(self.division)} (the stream's tasks), got {tasks!r}")
        self.epochs = check_int(owner, "epochs", epochs, 1)
        self.edge_epochs = check_int(owner, "edge_epochs", edge_epochs, 1)
        self.batch_size = check_int(owner, "batch_size", batch_size, 2)
        self.lr, self.edge_lr = _positive(owner, "lr", lr), _positive(owner, "edge_lr", edge_lr)
        self.momentum = _positive(owner, "momentum", momentum, zero=True, below=1.0)
        self.weight_decay = _positive(owner, "weight_decay", weight_decay, zero=True)
        self.memory_per_class = check_int(owner, "memory_per_class", memory_per_class, 1)
        if score not in SCORES:
            raise ConfigError(f"parameter score of {owner} must be one of {', '.join(SCORES)}, got {score!r}")
        self.score = score
        self.candidates = check_int(owner, "candidates", candidates, 1)
        if al_criterion not in ("noise_drop", "roughness"):
            raise ConfigError(f"parameter al_criterion of {owner} must be noise_drop or roughness, got {al_criterion!r}")
        self.al_criterion = al_criterion
        self.noise_alpha = _positive(owner, "noise_alpha", noise_alpha)
        self.noise_draws = check_int(owner, "noise_draws", noise_draws, 1)
        self.roughness_points = check_int(owner, "roughness_points", roughness_points, 0)
        if self.roughness_points in (1, 2) or (al_criterion == "roughness" and self.roughness_points == 0):
            raise ConfigError(f"parameter roughness_points of {owner} must be >= 3 (0 = off, not allowed with "
                              f"al_criterion roughness), got {roughness_points!r}")
        self.max_params_m = _positive(owner, "max_params_m", max_params_m)
        self.fitness_cap = None if fitness_cap is None else _positive(owner, "fitness_cap", fitness_cap)
        self.split_seed = check_int(owner, "split_seed", split_seed, 0)
        self.valid_fraction, self.test_fraction = valid_fraction, test_fraction
        self.max_train = None if max_train is None else check_int(owner, "max_train", max_train, 2)
        self.threads = None if threads is None else check_int(owner, "threads", threads, 1)
        if model_options is not None and not isinstance(model_options, Mapping):
            raise ConfigError(f"parameter model_options of {owner} must be a mapping, got {model_options!r}")
        self.model_options = dict(model_options or {})
        from ..data.load import resolve_source

        resolve_source(self.dataset, self.data_dir)

    # --- Evaluator interface -------------------------------------------------------------------

    def metrics(self) -> Sequence[str]:
        n = len(self.division)
        names = ["task0_accuracy", "noisy_accuracy", "noise_drop", "stability_fitness", "roughness",
                 "params_m", "flops_m", "train_flops_m", "edge_train_flops_m", "train_time", "al_candidate"]
        for tag in ("", "valid_"):
            names += [f"{tag}final_accuracy", f"{tag}avg_incremental_accuracy", f"{tag}forgetting"]
            names += [f"{tag}incremental_accuracy_{t}" for t in range(n)]
            names += [f"{tag}task_accuracy_{t}" for t in range(n)]
        return ["valid_accuracy", "test_accuracy", *names]

    def default_fidelity(self) -> int:
        return self.epochs

    def describe(self) -> dict[str, Any]:
        return {"evaluator": self.name, "space": self.space_name, "dataset": self.dataset,
                "division": ",".join(map(str, self.division)), "method": self.method,
                "stream_seed": self.stream_seed}

    def prepare(self) -> None:
        self.stream()

    def stream(self):
        from ..data.load import load_dataset
        from ..data.streams import ClassStream

        data = load_dataset(self.dataset, seed=self.split_seed, data_dir=self.data_dir,
                            valid_fraction=self.valid_fraction, test_fraction=self.test_fraction,
                            max_train=self.max_train)
        return ClassStream(data, self.division, self.stream_seed)

    def settings(self, epochs: int):
        from ..training.continual.stream import StreamSettings

        return StreamSettings(epochs=epochs, edge_epochs=self.edge_epochs, batch_size=self.batch_size,
                              lr=self.lr, edge_lr=self.edge_lr, momentum=self.momentum,
                              weight_decay=self.weight_decay, memory_per_class=self.memory_per_class,
                              score=self.score)

    def evaluate(
        self, arch: Architecture, fidelity: int | None = None, seed: int = 0, context: Any = None
    ) -> dict[str, Any]:
        if fidelity is not None and (isinstance(fidelity, bool) or not isinstance(fidelity, numbers.Integral) or fidelity < 1):
            raise ConfigError(f"fidelity of evaluator continual is task 0's epoch budget >= 1, got {fidelity!r}")
        epochs = self.epochs if fidelity is None else int(fidelity)
        self.space.validate(arch)
        stream = self.stream()
        from ..training.seeding import seeded_torch, torch_threads

        try:
            with torch_threads(self.threads), seeded_torch(int(seed) % 2**63) as data_order:
                return self._run(arch, stream, epochs, int(seed), data_order, context)
        except (TrialFailed, TrialPruned, ConfigError):
            raise
        except RuntimeError as exc:  # torch errors (shapes, memory) fail only this trial
            line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise TrialFailed(f"{type(exc).__name__}: {line}") from exc

    def _run(self, arch, stream, epochs, seed, data_order, context) -> dict[str, Any]:
        import torch

        from ..models import build_model
        from ..training.continual.al import robustness, select
        from ..training.continual.stream import SeenClasses, StreamLearner, to_split
        from ..training.measure import count_flops, count_params

        started = time.perf_counter()
        settings = self.settings(epochs)
        shape, n_classes = stream.dataset.input_shape, stream.num_classes
        method = "pst" if self.method == "al" else self.method
        head0 = SeenClasses(stream.seen_classes(0))
        valid0 = to_split(stream.tasks[0].x["valid"], stream.tasks[0].y["valid"], "cpu")
        count = self.candidates if self.method == "al" else 1
        learners, scores = [], []
        for k in range(count):
            model = build_model(self.space, arch, shape, n_classes, **self.model_options) if k == 0 else \
                build_model(self.space, arch, shape, n_classes, seed=seed * 1009 + k, **self.model_options)
            order = data_order if k == 0 else torch.Generator().manual_seed(seed * 1009 + k)
            learner = StreamLearner(model, stream, method, settings, order,
                                    context=context if count == 1 else None)
            learner.learn(0)
            learners.append(learner)
            scores.append(robustness(model, valid0, head0, self.noise_alpha, self.noise_draws,
                                     seed, self.roughness_points))
        chosen = select(scores, self.al_criterion) if count > 1 else 0
        learner, stable = learners[chosen], scores[chosen]
        learner.context = context
        last = len(stream) if self.tasks is None else self.tasks
        for t in range(1, last):
            learner.learn(t)
        metrics: dict[str, Any] = learner.result.metrics()
        metrics["train_flops_m"] += sum(sum(o.result.train_flops) for i, o in enumerate(learners) if i != chosen) / 1e6
        metrics["valid_accuracy"] = metrics["valid_final_accuracy"]
        metrics["test_accuracy"] = metrics["final_accuracy"]
        metrics["task0_accuracy"] = stable["accuracy"]
        metrics["noisy_accuracy"] = stable["noisy_accuracy"]
        metrics["noise_drop"] = stable["noise_drop"]
        if "roughness" in stable:
            metrics["roughness"] = stable["roughness"]
        metrics["params_m"] = count_params(learner.model)
        metrics["flops_m"] = count_flops(learner.model, shape)
        # ENAS-S penalties: task 0 trained to chance level or to <= 30 % (running train accuracy of
        # its last epoch), or too many parameters
        train_acc = learner.fits[0].history[-1]["train_accuracy"] / 100.0
        collapsed = train_acc <= 1.0 / stream.division[0] + 0.01 or train_acc <= 0.3
        if collapsed or metrics["params_m"] > self.max_params_m:
            metrics["stability_fitness"] = PENALTY
        else:
            from ..metrics.robustness import stability_fitness

            metrics["stability_fitness"] = stability_fitness(
                stable["accuracy"] / 100.0, stable["noisy_accuracy"] / 100.0, self.fitness_cap)
        if count > 1:
            metrics["al_candidate"] = chosen
        metrics["train_time"] = time.perf_counter() - started
        for key, value in metrics.items():
            if isinstance(value, float) and not math.isfinite(value):
                raise TrialFailed(f"metric {key} is {value}")
        return metrics

    def __repr__(self) -> str:
        return (f"ContinualEvaluator(space={self.space_name!r}, dataset={self.dataset!r}, "
                f"division={','.join(map(str, self.division))!r}, method={self.method!r})")


def _positive(owner: str, name: str, value: Any, zero: bool = False, below: float | None = None) -> float:
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (value >= 0 if zero else value > 0) and (below is None or value < below)
    if not ok:
        bound = (">= 0" if zero else "> 0") + ("" if below is None else f" and < {below}")
        raise ConfigError(f"parameter {name} of {owner} must be a finite number {bound}, got {value!r}")
    return float(value)
