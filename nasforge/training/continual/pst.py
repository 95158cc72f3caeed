"""Progressive Segmented Training (Du, Charan, Liu, Cao; ICMLA 2019): freeze what matters, reuse the rest.

After each task, every layer's units (conv output filters, linear output neurons, BatchNorm
channels) are ranked by an importance score and the top share not frozen yet is frozen; later
tasks train only the remaining units, on a small class-balanced memory. Two bugs of the original
code are avoided here:

* freezing is by module type (every conv / linear / BN, so the stem and the classifier are
  included), not by a name pattern that missed both;
* already-frozen units are excluded from the next ranking by masking their *scores*; the
  original zeroed the frozen *weights* to do this and never restored them.

Freezing itself is a gradient mask (the optimizer sees zero gradient on frozen entries) plus a
restore of the frozen values after every optimizer step, because weight decay and momentum move
weights even without a gradient. Both are optimizer hooks, so the ordinary training loop runs
unchanged. BN running statistics are not frozen (as in the paper); they follow the balanced data.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ..loop import Split
from ..tasks import TrainingTask

UNIT_LAYERS = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear, nn.BatchNorm1d, nn.BatchNorm2d)
SCORES = ("abs_w", "abs_grad", "grad_w")


def unit_layers(model: nn.Module) -> dict[str, nn.Module]:
    """Modules whose output units PST ranks and freezes, by qualified name."""
    return {name: m for name, m in model.named_modules() if isinstance(m, UNIT_LAYERS)}


def unit_scores(module: nn.Module, score: str) -> torch.Tensor:
    """Importance of each output unit: the sum over its weights of |W|, |dL/dW| or |W * dL/dW|."""
    if score not in SCORES:
        raise ValueError(f"score must be one of {', '.join(SCORES)}, got {score!r}")
    w = module.weight.detach()
    g = module.weight.grad
    if score != "abs_w" and g is None:
        raise ValueError(f"score {score!r} needs gradients: call accumulate_gradients first")
    value = w.abs() if score == "abs_w" else g.abs() if score == "abs_grad" else (w * g).abs()
    return value.reshape(value.shape[0], -1).sum(dim=1)


def accumulate_gradients(
    model: nn.Module, split: Split, task: TrainingTask, batch_size: int = 256
) -> None:
    """Fresh gradients of the loss over ``split`` (the original reused the last batch's)."""
    model.train()
    model.zero_grad(set_to_none=True)
    n = len(split)
    for start in range(0, n, batch_size):
        target = split.y[start : start + batch_size]
        if target.shape[0] < 2:
            continue
        loss = task.loss(model(split.x[start : start + batch_size]), target) * target.shape[0] / n
        loss.backward()


class FrozenUnits:
    """Which units of a model are frozen, with their frozen values; attach to an optimizer."""

    def __init__(self, model: nn.Module) -> None:
        self.model = model
        self.units = {name: torch.zeros(m.weight.shape[0], dtype=torch.bool)
                      for name, m in unit_layers(model).items()}
        self._values: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []

    def frozen_share(self) -> float:
        total = sum(u.numel() for u in self.units.values())
        return sum(int(u.sum()) for u in self.units.values()) / max(total, 1)

    def freeze_top(self, share: float, score: str = "abs_w") -> int:
        """Freeze the ``share`` most important not-yet-frozen units of every layer; returns how many.

        The count per layer is ``round(share * units)`` (at least one when ``share > 0``), as PST
        gives each task capacity in proportion to its share of the classes.
        """
        layers = unit_layers(self.model)
        added = 0
        for name, module in layers.items():
            frozen = self.units[name]
            scores = unit_scores(module, score).cpu().clone()
            scores[frozen] = -float("inf")  # masked scores, never zeroed weights
            free = int((~frozen).sum())
            k = min(free, max(1 if share > 0 else 0, int(round(share * frozen.numel()))))
            if k == 0:
                continue
            top = torch.topk(scores, k).indices
            frozen[top] = True
            added += k
        self._snapshot()
        return added

    def _snapshot(self) -> None:
        """Element masks + values of every frozen entry (weights and biases of frozen units)."""
        self._values = []
        for name, module in unit_layers(self.model).items():
            units = self.units[name]
            if not units.any():
                continue
            for param in (module.weight, getattr(module, "bias", None)):
                if param is None:
                    continue
                shape = (-1,) + (1,) * (param.dim() - 1)
                mask = units.to(param.device).reshape(shape).expand_as(param).clone()
                self._values.append((param, mask, param.detach().clone()))

    def attach(self, optimizer: torch.optim.Optimizer) -> list[Any]:
        """Mask gradients before and restore frozen values after every ``optimizer.step()``."""

        def before(*_: Any) -> None:
            for param, mask, _value in self._values:
                if param.grad is not None:
                    param.grad.masked_fill_(mask, 0.0)

        def after(*_: Any) -> None:
            with torch.no_grad():
                for param, mask, value in self._values:
                    param.copy_(torch.where(mask, value, param))

        return [optimizer.register_step_pre_hook(before), optimizer.register_step_post_hook(after)]

    def check(self) -> float:
        """Largest absolute change of any frozen entry since it was frozen (0.0 when intact)."""
        worst = 0.0
        for param, mask, value in self._values:
            if mask.any():
                worst = max(worst, float((param.detach() - value)[mask].abs().max()))
        return worst
