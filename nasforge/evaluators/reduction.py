"""Fitness of a reduced network: short training from scratch or by distillation from the base.

Trains like :class:`TrainerEvaluator` (same loop, data, seeding, checkpoints) with two additions:

- ``distill=True`` trains the candidate on the trained base's logits (N2N's logit matching, see
  :mod:`nasforge.training.distillation`) instead of the labels;
- metrics relative to the base: ``compression`` (C = 1 - params_m / params_m of the base) and
  N2N's reward ``n2n_reward`` = (acc / acc_base) * C * (2 - C) with validation accuracies.

The base ("reference") is read from ``teacher`` (a file written by :func:`save_reference`, which
``nasforge reduce`` trains once and keeps beside the study file) or, without one, trained once per
process at ``teacher_epochs`` with ``teacher_seed``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from ..architecture import Architecture
from ..errors import ConfigError
from ..options import Bool, Float, Int, Str, validated
from .trainer import METRICS as TRAINER_METRICS
from .trainer import TrainedModel, TrainerEvaluator

METRICS = TRAINER_METRICS + ("compression", "n2n_reward")


@dataclass
class Reference:
    """The trained base network: weights and the numbers rewards are relative to."""

    arch: str
    state_dict: dict[str, Any]
    valid_accuracy: float
    test_accuracy: float
    params_m: float
    flops_m: float
    epochs: int
    seed: int
    metrics: dict[str, Any] = field(default_factory=dict)


def save_reference(path: str | Path, reference: Reference) -> Path:
    import torch

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(reference.__dict__, tmp)
    tmp.replace(path)
    return path


def load_reference(path: str | Path) -> Reference:
    import torch

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"teacher file {str(path)!r} not found (train the base first: nasforge reduce)")
    return Reference(**torch.load(path, map_location="cpu", weights_only=False))


def reference_from(trained: TrainedModel, arch: Architecture, seed: int) -> Reference:
    m = trained.metrics
    state = {k: v.detach().cpu().clone() for k, v in trained.model.state_dict().items()}
    return Reference(arch.string, state, float(m["valid_accuracy"]), float(m["test_accuracy"]),
                     float(m["params_m"]), float(m["flops_m"]), int(m["epochs"]), int(seed), dict(m))


def relative_metrics(m: dict[str, Any], ref: Reference) -> dict[str, Any]:
    """Add the base-relative compression and N2N reward to a trainer's metrics."""
    c = 1.0 - m["params_m"] / ref.params_m
    m["compression"] = c
    m["n2n_reward"] = (m["valid_accuracy"] / ref.valid_accuracy) * c * (2.0 - c) if ref.valid_accuracy > 0 else 0.0
    return m


class ReductionEvaluator(TrainerEvaluator):
    """Trainer for members of a :class:`~nasforge.spaces.reduction.ReductionSpace`; see module doc.

    Options besides the trainer's: ``distill`` (bool), ``distill_alpha`` (share of logit matching in
    the loss, 1 = pure N2N), ``teacher`` (reference file), ``teacher_epochs`` (default ``epochs``)
    and ``teacher_seed`` for a base trained in-process.
    """

    name = "reduction"
    options = {"distill": Bool(), "distill_alpha": Float(low=0, high=1), "teacher": Str(none=True),
               "teacher_epochs": Int(low=1, none=True), "teacher_seed": Int(low=0)}

    @validated
    def __init__(
        self,
        space: Any,
        dataset: str | None = "mnist1d",
        distill: bool = False,
        distill_alpha: float = 1.0,
        teacher: str | None = None,
        teacher_epochs: int | None = None,
        teacher_seed: int = 0,
        **options: Any,
    ) -> None:
        if not hasattr(space, "build") or not hasattr(space, "cost"):
            raise ConfigError(f"evaluator reduction needs the reduction space, got {getattr(space, 'name', space)!r}")
        if options.get("model_factory") is not None:
            raise ConfigError("evaluator reduction builds networks with its space; give a factory to the space instead")
        super().__init__(space, dataset=dataset, **options)
        if teacher is not None and not Path(teacher).is_file():
            raise ConfigError(f"parameter teacher of ReductionEvaluator: file {str(teacher)!r} not found")
        self.distill, self.distill_alpha, self.teacher = distill, distill_alpha, teacher
        self.teacher_epochs = self.epochs if teacher_epochs is None else teacher_epochs
        self.teacher_seed = teacher_seed
        self._reference: Reference | None = None
        self._teaching = False
        self._packed: tuple[Any, Any, Any] | None = None

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state["_reference"], state["_packed"] = None, None
        return state

    def metrics(self) -> Sequence[str]:
        return METRICS

    def config(self) -> dict[str, Any]:
        out = super().config()
        out.update(distill=self.distill, distill_alpha=self.distill_alpha, teacher=self.teacher,
                   teacher_epochs=self.teacher_epochs, teacher_seed=self.teacher_seed)
        return out

    def prepare(self) -> None:
        self._check_data(self.data())

    # --- the base network -----------------------------------------------------------------------

    def reference(self) -> Reference:
        """The trained base (loaded from ``teacher`` or trained once in this process)."""
        if self._reference is None:
            if self.teacher is not None:
                self._reference = load_reference(self.teacher)
                if self._reference.arch != self.space.base().string:
                    raise ConfigError(
                        f"teacher file {self.teacher!r} holds {self._reference.arch!r}, not the base "
                        f"{self.space.base().string!r} of this space"
                    )
            else:
                self._reference = reference_from(self.train_base(), self.space.base(), self.teacher_seed)
        return self._reference

    def train_base(self, epochs: int | None = None, seed: int | None = None, context: Any = None) -> TrainedModel:
        """The base network trained on the labels (no distillation), ``teacher_epochs`` by default."""
        self._teaching = True
        try:
            return TrainerEvaluator.train(
                self, self.space.base(), self.teacher_epochs if epochs is None else epochs,
                self.teacher_seed if seed is None else seed, context)
        finally:
            self._teaching = False

    # --- training ----------------------------------------------------------------------------------

    def train(self, arch: Architecture, fidelity: int | None = None, seed: int = 0, context: Any = None) -> TrainedModel:
        self._check_data(self.data())
        if self.distill:
            self.reference()  # before the trial's RNG scope, so the trial is the same in any process
        trained = super().train(arch, fidelity, seed, context)
        relative_metrics(trained.metrics, self.reference())
        return trained

    def set_reference(self, reference: Reference) -> None:
        """Use an already trained base (in this process) instead of ``teacher`` / training one."""
        self._reference = reference

    def build(self, arch: Architecture, input_shape: tuple[int, ...], num_classes: int):
        return self.space.build(arch, input_shape, num_classes)

    def _fit_inputs(self, arch: Architecture, splits: dict[str, Any], task: Any):
        if not self.distill or self._teaching:
            return super()._fit_inputs(arch, splits, task)
        from ..training.distillation import Distillation, pack_targets, teacher_logits

        if self._packed is None or self._packed[0] is not splits["train"]:
            import torch

            data = self.data()
            teacher = self.space.build(self.space.base(), data.input_shape, data.num_classes)
            teacher.load_state_dict(self.reference().state_dict)
            teacher.to(self.resolved_device())
            with torch.random.fork_rng(devices=[]):  # eval only, but leave every RNG untouched
                packed = [
                    type(splits[name])(splits[name].x, pack_targets(
                        splits[name].y, teacher_logits(teacher, splits[name].x, self.eval_batch_size)))
                    for name in ("train", "valid")
                ]
            self._packed = (splits["train"], packed[0], packed[1])
        return self._packed[1], self._packed[2], Distillation(self.distill_alpha)

    def _check_data(self, dataset: Any) -> None:
        if tuple(dataset.input_shape) != tuple(self.space.input_shape) or dataset.num_classes != self.space.num_classes:
            raise ConfigError(
                f"dataset {self.dataset!r} has inputs {tuple(dataset.input_shape)} and {dataset.num_classes} "
                f"classes, but the reduction space was set up for {tuple(self.space.input_shape)} and "
                f"{self.space.num_classes}: set space input_shape / num_classes to match"
            )

    def __repr__(self) -> str:
        return (f"ReductionEvaluator(dataset={self.dataset!r}, epochs={self.epochs}, distill={self.distill}, "
                f"space={self.space!r})")

