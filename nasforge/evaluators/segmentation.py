"""Train segmentation networks with the trainer's machinery; fitness is validation Dice.

SegQNAS's fitness is the mean validation Dice over the last ``last_k`` epochs (less noisy than one
epoch); that is ``valid_dice`` here, and ``valid_dice_best`` is the best epoch's, whose weights are
kept and scored on test. Each epoch's Dice goes to the trial context (the training loop reports it),
so ASHA and median stopping work on Dice. Splits are by volume (by slab for the single MNI volume):
see :mod:`nasforge.data.segmentation`; ``folds`` / ``fold`` pick a volume-level k-fold partition.

Baselines train through the same evaluator and splits: ``model_factory: monai_unet`` or
``resunet`` (or any ``package.module:function``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import ConfigError
from ..options import Int, Map, validated
from .trainer import TrainerEvaluator

METRICS = (
    "train_dice", "valid_dice", "valid_dice_best", "test_dice", "train_loss", "valid_loss", "test_loss",
    "params_m", "flops_m", "latency_ms", "boo", "boo_per_param", "train_time", "epochs", "best_epoch",
    "resumed_from_epoch",
)


class SegmentationEvaluator(TrainerEvaluator):
    """A :class:`TrainerEvaluator` whose task is segmentation; per-class Dice is reported as
    ``valid_dice_<class>`` / ``test_dice_<class>``. Defaults follow SegQNAS (Adam, lr 1e-3)."""

    name = "segmentation"
    options = {"size": Int(low=4), "last_k": Int(low=1), "folds": Int(low=2, none=True),
               "fold": Int(low=0), "data_options": Map(none=True)}

    @validated
    def __init__(
        self,
        space: Any,
        dataset: str | None = "synthetic",
        data_dir: str | None = None,
        size: int = 64,
        last_k: int = 3,
        folds: int | None = None,
        fold: int = 0,
        data_options: Mapping[str, Any] | None = None,
        epochs: int = 10,
        batch_size: int = 16,
        lr: float = 1e-3,
        weight_decay: float = 1e-6,
        optimizer: str = "adam",
        eval_batch_size: int = 64,
        model_factory: Any = None,
        **options: Any,
    ) -> None:
        from ..models.unet import BASELINES

        self.size, self.last_k, self.folds, self.fold = size, last_k, folds, fold
        if self.folds is not None and self.fold >= self.folds:
            raise ConfigError(f"parameter fold of SegmentationEvaluator must be < folds ({self.folds}), got {fold!r}")
        self.data_options = dict(data_options or {})
        if isinstance(model_factory, str) and model_factory in BASELINES:
            model_factory = BASELINES[model_factory]
        elif isinstance(model_factory, str) and ":" not in model_factory:
            raise ConfigError(
                f"parameter model_factory of SegmentationEvaluator must be one of "
                f"{', '.join(BASELINES)} or 'package.module:function', got {model_factory!r}"
            )
        super().__init__(
            space, dataset=dataset or "synthetic", data_dir=data_dir, epochs=epochs, batch_size=batch_size,
            lr=lr, weight_decay=weight_decay, optimizer=optimizer, eval_batch_size=eval_batch_size,
            model_factory=model_factory, **options,
        )

    # --- what differs from classification ------------------------------------------------------

    def _check_source(self) -> None:
        from ..data.segmentation import resolve_segmentation

        resolve_segmentation(self.dataset, self.data_dir)

    def data(self):
        from ..data.segmentation import load_segmentation

        return load_segmentation(
            self.dataset, self.data_dir, size=self.size, seed=self.split_seed,
            valid_fraction=self.valid_fraction, test_fraction=self.test_fraction,
            folds=self.folds, fold=self.fold, options=self.data_options,
        )

    def training_task(self, dataset):
        from ..training.segmentation import Segmentation

        return Segmentation(dataset.num_classes)

    def task_metrics(self, model, splits, result, task, dataset) -> dict[str, Any]:
        from ..training.segmentation import split_stats

        last = [r["valid_dice"] for r in result.history[-self.last_k:]]
        out: dict[str, Any] = {"valid_dice_best": result.best["valid_dice"],
                               "valid_dice": sum(last) / len(last)}
        names = dataset.info.get("class_names") or [f"c{c}" for c in range(dataset.num_classes)]
        for split in ("valid", "test"):
            stats = split_stats(model, splits[split].x, splits[split].y, task, self.eval_batch_size)
            for name, dice in zip(names[1:], task.per_class(stats)):
                out[f"{split}_dice_{name}"] = None if math.isnan(dice) else dice
        return out

    def metrics(self) -> Sequence[str]:
        return METRICS

    def config(self) -> dict[str, Any]:
        return {**super().config(), "size": self.size, "last_k": self.last_k, "folds": self.folds,
                "fold": self.fold, "data_options": self.data_options}

    def __repr__(self) -> str:
        return (f"SegmentationEvaluator(space={self.space_name!r}, dataset={self.dataset!r}, "
                f"size={self.size}, epochs={self.epochs})")

