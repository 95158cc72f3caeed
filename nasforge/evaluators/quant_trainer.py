"""Training evaluator for quantised (chain_precision) networks: trainer metrics + hardware cost.

Trains exactly like ``trainer`` (same loop, seeds, checkpoints) and adds the cost of the trained
network from its real integer weight codes (``QuantChainNetwork.hardware_cost``): ``bitops_m``
(millions), ``weight_kb``, ``energy_nj`` (per inference, 45 nm model of nasforge.metrics.cost) and
the binary-ones count ``boo`` / ``boo_per_param`` of the stored codes (replacing the trainer's
int8 BOO, which would ignore the layers' bit-widths).
"""

from __future__ import annotations

from typing import Any, Sequence

from ..errors import ConfigError
from .trainer import METRICS, TrainedModel, TrainerEvaluator

HARDWARE_METRICS = ("bitops_m", "weight_kb", "energy_nj")


class QuantTrainerEvaluator(TrainerEvaluator):
    """``trainer`` for the chain_precision space, with hardware-cost metrics."""

    name = "quant_trainer"

    def __init__(self, space: Any, **options: Any) -> None:
        if getattr(space, "name", None) != "chain_precision":
            raise ConfigError(
                f"evaluator quant_trainer needs the chain_precision space, got {getattr(space, 'name', space)!r}"
            )
        options.setdefault("model_options", {"head_bits": space.head_bits})
        super().__init__(space, **options)

    def metrics(self) -> Sequence[str]:
        return tuple(METRICS) + HARDWARE_METRICS

    def _train(self, *args: Any) -> TrainedModel:
        trained = super()._train(*args)
        trained.metrics.update(trained.model.hardware_cost())
        return trained
