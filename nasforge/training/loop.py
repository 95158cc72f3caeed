"""The training loop: lean on purpose (pre-made tensors, one shuffle per epoch, no DataLoader).

Per batch it does only what a bare PyTorch loop does, plus running loss / accuracy sums kept as
tensors (no host sync) and a clock check for the time limit; non-finite losses are detected once
per epoch. Train metrics come from these running sums, so there is no extra pass over train.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

import torch

from ..errors import TrialFailed, TrialPruned
from .tasks import CLASSIFICATION, TrainingTask

if TYPE_CHECKING:
    from ..study.context import TrialContext
    from .precision import Precision


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

    ``best`` holds that epoch's train / valid loss and score (``<split>_<task.metric>``). Train
    values are running values over the epoch's batches (as NB201 reports them), which saves a
    second pass over the training set; valid values are exact for the kept weights.
    ``best_state`` (the kept weights) and ``waited`` let a later :func:`fit` call continue where
    this one stopped (ASHA promotion from a checkpoint).
    """

    epochs: int
    best_epoch: int
    train_time: float
    stopped_early: bool
    best: dict[str, float] = field(default_factory=dict)
    history: list[dict[str, float]] = field(default_factory=list)
    best_state: dict[str, Any] | None = None
    waited: int = 0


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
    task: TrainingTask = CLASSIFICATION,
    context: "TrialContext | None" = None,
    resume: FitResult | None = None,
    augment: Callable[[torch.Tensor, torch.Generator], torch.Tensor] | None = None,
    precision: "Precision | None" = None,
) -> FitResult:
    """Train up to epoch ``epochs``, keep the weights of the best validation score.

    Stops early after ``patience`` epochs without improvement. ``deadline`` is a
    ``time.perf_counter()`` value; running past it raises TrialFailed, as does a NaN / inf loss.
    Each epoch's record goes to ``context.report(epoch, ...)``; TrialPruned is raised when the
    context says so. ``resume`` (a previous result, with model / optimiser / schedule / generator
    restored by the caller) continues from its last epoch, so training to 3 epochs and then on to
    9 gives the same weights as 9 epochs at once. ``augment(x, data_order)`` transforms each
    training batch (see training/augment); it draws from ``data_order``, so runs stay reproducible.
    """
    n = len(train)
    # a trailing batch of one breaks BatchNorm in train mode; drop it (it is one example)
    end = n - 1 if n % batch_size == 1 and n > 1 else n
    sign = 1.0 if task.higher_is_better else -1.0
    done, best_epoch, best_state, waited = 0, 0, None, 0
    best: dict[str, float] = {}
    history: list[dict[str, float]] = []
    spent = 0.0
    if resume is not None:
        done, best_epoch, best_state, waited = resume.epochs, resume.best_epoch, resume.best_state, resume.waited
        best, history, spent = dict(resume.best), list(resume.history), resume.train_time
        if resume.stopped_early:
            return resume
    key = f"valid_{task.metric}"
    best_score = sign * best[key] if best else -math.inf
    started = time.perf_counter()
    epoch = done
    stopped = False
    for epoch in range(done + 1, epochs + 1):
        model.train()
        order = torch.randperm(n, generator=data_order).to(train.x.device)
        xs, ys = train.x[order], train.y[order]
        running = torch.zeros((), device=train.x.device)
        stats: torch.Tensor | None = None
        for start in range(0, end, batch_size):
            target = ys[start : start + batch_size]
            inputs = xs[start : start + batch_size]
            if augment is not None:
                inputs = augment(inputs, data_order)
            if precision is None:
                out = model(inputs)
                loss = task.loss(out, target)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
            else:  # amp / channels_last (training/precision.py)
                with precision.autocast():
                    out = model(precision.layout(inputs))
                    loss = task.loss(out.float(), target)
                optimizer.zero_grad(set_to_none=True)
                precision.step(loss, optimizer)
            with torch.no_grad():
                running.add_(loss, alpha=target.shape[0])
                batch = task.batch_stats(out, target)
                if stats is None:
                    stats = batch.clone()
                else:
                    stats += batch
            if deadline is not None and time.perf_counter() > deadline:
                raise TrialFailed(f"time limit exceeded during epoch {epoch}")
        train_loss = float(running) / max(end, 1)
        train_score = task.summarize(stats, end) if stats is not None else float("nan")
        if not math.isfinite(train_loss):
            raise TrialFailed(f"training loss became {train_loss} in epoch {epoch}")
        if schedule is not None:
            schedule.step()
        valid_loss, valid_score = score(model, valid, eval_batch_size, task)
        if not math.isfinite(valid_loss):
            raise TrialFailed(f"validation loss became {valid_loss} in epoch {epoch}")
        record = {"epoch": epoch, "train_loss": train_loss, f"train_{task.metric}": train_score,
                  "valid_loss": valid_loss, key: valid_score}
        history.append(record)
        if sign * valid_score > best_score:
            best_score, best_epoch, best, waited = sign * valid_score, epoch, record, 0
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            waited += 1
        if context is not None:
            context.report(epoch, record)
            if context.should_prune():
                raise TrialPruned(f"pruned after epoch {epoch}", metrics=record)
        if patience is not None and waited >= patience:
            stopped = True
            break
        if deadline is not None and time.perf_counter() > deadline:
            raise TrialFailed(f"time limit exceeded after epoch {epoch}")
    train_time = spent + time.perf_counter() - started
    return FitResult(epoch, best_epoch, train_time, stopped, best, history, best_state, waited)


def keep_best(model: torch.nn.Module, result: FitResult) -> None:
    """Load the kept epoch's weights into ``model`` (a no-op when the last epoch was best)."""
    if result.best_state is not None and result.best_epoch != result.epochs:
        model.load_state_dict(result.best_state)


def score(
    model: torch.nn.Module, split: Split, batch_size: int = 1024, task: TrainingTask = CLASSIFICATION
) -> tuple[float, float]:
    """(mean loss, task score) in eval mode without autograd."""
    model.eval()
    loss_sum = torch.zeros((), device=split.x.device)
    stats: torch.Tensor | None = None
    with torch.no_grad():
        for start in range(0, len(split), batch_size):
            out = model(split.x[start : start + batch_size])
            target = split.y[start : start + batch_size]
            loss_sum += task.loss(out, target) * target.shape[0]
            batch = task.batch_stats(out, target)
            stats = batch if stats is None else stats + batch
    n = max(len(split), 1)
    return float(loss_sum) / n, task.summarize(stats, n) if stats is not None else float("nan")
