"""Training checkpoints: continue a run exactly (ASHA promotion, resume) and export its weights.

One file per trial holds the last epoch's full state (model, optimiser, schedule, data-order and
global RNG states, so continuing gives the same numbers as never stopping) plus the
:class:`~nasforge.training.loop.FitResult` with the kept (best-validation) weights, which export
writes out without retraining. A checkpoint is used only when its ``key`` (architecture, seed,
schedule horizon, hyperparameters) equals the caller's and it has not run past the asked epochs;
otherwise training starts from scratch, which is always correct, only slower.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from .loop import FitResult


def save_checkpoint(
    path: Path, key: dict[str, Any], model: torch.nn.Module, optimizer: Any, schedule: Any,
    data_order: torch.Generator, result: FitResult, meta: dict[str, Any] | None = None,
) -> None:
    """Write atomically (temp file + rename): a kill never leaves half a checkpoint.

    ``meta`` describes the network for export (input shape, classes, normalisation, the
    hyperparameters it was trained with), so exporting needs neither the data nor the evaluator.
    """
    state = {
        "key": key,
        "meta": dict(meta or {}),
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "schedule": None if schedule is None else schedule.state_dict(),
        "data_order": data_order.get_state(),
        "torch_rng": torch.get_rng_state(),
        "result": result.__dict__,
    }
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def load_checkpoint(
    path: Path | None, key: dict[str, Any], epochs: int, model: torch.nn.Module, optimizer: Any,
    schedule: Any, data_order: torch.Generator,
) -> FitResult | None:
    """Restore everything from ``path`` into the given objects and return the result so far, or
    None (nothing restored) when there is no usable checkpoint."""
    if path is None or not path.is_file():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception:  # noqa: BLE001 - an unreadable checkpoint only costs a retrain
        return None
    if state.get("key") != key or state["result"]["epochs"] > epochs:
        return None
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    if schedule is not None and state["schedule"] is not None:
        schedule.load_state_dict(state["schedule"])
    data_order.set_state(state["data_order"])
    torch.set_rng_state(state["torch_rng"])
    return FitResult(**state["result"])


def load_best_weights(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(kept weights, meta) of a finished trial, for export."""
    state = torch.load(path, map_location="cpu", weights_only=False)
    result = state["result"]
    weights = result["best_state"] if result.get("best_state") is not None else state["model"]
    meta = {**state.get("meta", {}), "epochs": result["epochs"], "best_epoch": result["best_epoch"]}
    return weights, meta
