"""The short, seeded training run every ablation trial does (torch only)."""

from __future__ import annotations

from typing import Any

import numpy as np


def fit_classifier(
    model,
    x_train: np.ndarray,
    y_train: np.ndarray,
    splits: dict[str, tuple[np.ndarray, np.ndarray]],
    epochs: int,
    lr: float,
    batch_size: int,
    seed: int,
    threads: int = 1,
) -> dict[str, Any]:
    """Train with Adam + cross-entropy; return '<split>_accuracy' (%) for each split, the loss and
    ``params_m`` (millions), in the units the trainer and the NB201 tables use.

    Batch order comes from a torch.Generator seeded with ``seed`` (weights are seeded by the caller
    when it builds the model), so a trial is a pure function of its seed. Models this small run
    fastest on ``threads=1`` (more threads only contend on a shared machine); the caller's thread
    setting is restored afterwards.
    """
    from ..training.seeding import torch_threads

    with torch_threads(threads):
        return _fit(model, x_train, y_train, splits, epochs, lr, batch_size, seed)


def _fit(model, x_train, y_train, splits, epochs, lr, batch_size, seed) -> dict[str, Any]:
    import torch

    from ..training.measure import count_params

    generator = torch.Generator().manual_seed(int(seed))
    x = torch.as_tensor(x_train, dtype=torch.float32)
    y = torch.as_tensor(y_train, dtype=torch.long)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    loss = torch.tensor(float("nan"))
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=generator)
        for start in range(0, len(x), batch_size):
            idx = order[start:start + batch_size]
            optimiser.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x[idx]), y[idx])
            loss.backward()
            optimiser.step()
    metrics: dict[str, Any] = {"train_loss": float(loss.detach())}
    model.eval()
    with torch.no_grad():
        for split, (xs, ys) in splits.items():
            pred = model(torch.as_tensor(xs, dtype=torch.float32)).argmax(1).numpy()
            metrics[f"{split}_accuracy"] = 100.0 * float((pred == np.asarray(ys)).mean())
    metrics["params_m"] = count_params(model)
    return metrics
