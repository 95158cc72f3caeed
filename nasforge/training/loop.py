"""The training loop: lean on purpose (pre-made tensors, one shuffle per epoch, no DataLoader).

Per batch it does only what a bare PyTorch loop does, plus running loss / accuracy sums kept as
tensors (no host sync) and a clock check for the time limit; non-finite losses are detected once
per epoch. Train metrics come from these running sums, so there is no extra pass over train.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F

from ..errors import TrialFailed


@dataclass(frozen=True)
class Split:
    """One split as tensors already on the training device."""

    x: torch.Tensor
    y: torch.Tensor

    def __len__(self) -> int:
        return int(self.y.shape[0])


@dataclass
class FitResult:
    """What happened in :func:`fit`: epochs run, the epoch whose weights were kept, timings.

    ``best`` holds that epoch's train / valid loss and accuracy (%). Train values are running
    values over the epoch's batches (as NB201 reports them), which saves a second pass over the
    training set; valid values are exact for the kept weights.
    """

    epochs: int
    best_epoch: int
    train_time: float
    stopped_early: bool
    best: dict[str, float] = field(default_factory=dict)
    history: list[dict[str, float]] = field(default_factory=list)


def fit(
    model: torch.nn.Module,
    train: Split,
    valid: Split,
    optimizer: torch.optim.Optimizer,
    schedule: Any,
    epochs: int,
    batch_size: int,
    data_order: torch.Generator,
    patience: int | None = None,
    deadline: float | None = None,
    eval_batch_size: int = 1024,
) -> FitResult:
    """Train for up to ``epochs``, keep the weights of the best validation accuracy.

    Stops early after ``patience`` epochs without improvement. ``deadline`` is a
    ``time.perf_counter()`` value; running past it raises TrialFailed, as does a NaN / inf loss.
    """
    n = len(train)
    # a trailing batch of one breaks BatchNorm in train mode; drop it (it is one example)
    end = n - 1 if n % batch_size == 1 and n > 1 else n
    best_acc, best_epoch, best_state, waited = -1.0, 0, None, 0
    best: dict[str, float] = {}
    history: list[dict[str, float]] = []
    started = time.perf_counter()
    epoch = 0
    for epoch in range(1, epochs + 1):
        model.train()
        order = torch.randperm(n, generator=data_order).to(train.x.device)
        xs, ys = train.x[order], train.y[order]
        running = torch.zeros((), device=train.x.device)
        correct = torch.zeros((), dtype=torch.long, device=train.x.device)
        for start in range(0, end, batch_size):
            target = ys[start : start + batch_size]
            out = model(xs[start : start + batch_size])
            loss = F.cross_entropy(out, target)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            with torch.no_grad():
                running.add_(loss, alpha=target.shape[0])
                correct += (out.argmax(dim=1) == target).sum()
            if deadline is not None and time.perf_counter() > deadline:
                raise TrialFailed(f"time limit exceeded during epoch {epoch}")
        train_loss = float(running) / max(end, 1)
        train_acc = 100.0 * float(correct) / max(end, 1)
        if not math.isfinite(train_loss):
            raise TrialFailed(f"training loss became {train_loss} in epoch {epoch}")
        if schedule is not None:
            schedule.step()
        valid_loss, valid_acc = score(model, valid, eval_batch_size)
        if not math.isfinite(valid_loss):
            raise TrialFailed(f"validation loss became {valid_loss} in epoch {epoch}")
        record = {"epoch": epoch, "train_loss": train_loss, "train_accuracy": train_acc,
                  "valid_loss": valid_loss, "valid_accuracy": valid_acc}
        history.append(record)
        if valid_acc > best_acc:
            best_acc, best_epoch, best, waited = valid_acc, epoch, record, 0
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            waited += 1
            if patience is not None and waited >= patience:
                break
        if deadline is not None and time.perf_counter() > deadline:
            raise TrialFailed(f"time limit exceeded after epoch {epoch}")
    train_time = time.perf_counter() - started
    if best_state is not None and best_epoch != epoch:
        model.load_state_dict(best_state)
    return FitResult(epoch, best_epoch, train_time, epoch < epochs, best, history)


def score(model: torch.nn.Module, split: Split, batch_size: int = 1024) -> tuple[float, float]:
    """(mean cross-entropy, accuracy in %) in eval mode without autograd."""
    model.eval()
    loss_sum = torch.zeros((), device=split.x.device)
    correct = torch.zeros((), dtype=torch.long, device=split.x.device)
    with torch.no_grad():
        for start in range(0, len(split), batch_size):
            out = model(split.x[start : start + batch_size])
            target = split.y[start : start + batch_size]
            loss_sum += F.cross_entropy(out, target, reduction="sum")
            correct += (out.argmax(dim=1) == target).sum()
    n = max(len(split), 1)
    return float(loss_sum) / n, 100.0 * float(correct) / n
