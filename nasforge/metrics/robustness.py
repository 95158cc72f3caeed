"""Stability metrics of a trained network: accuracy under weight noise, loss-landscape roughness.

Both come from the ENAS-S / acquisitive-learning papers (Du et al.), whose premise is that a
network whose accuracy survives perturbed weights also survives learning new classes on top of
it. Noise follows their code: every conv / linear weight tensor W gets W + alpha * N(0, std(W))
(biases and BatchNorm untouched), but averaged over ``draws`` seeded draws instead of one, and the
clean weights are always restored. Roughness is the mean squared residual of a quadratic fit to
the loss over a 2-D grid along two filter-normalised random directions (Li et al. 2018).
Accuracies are in %, like every nasforge accuracy.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..training.loop import Split, score

NOISY_LAYERS = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)


def noisy_weights(model: nn.Module) -> list[torch.Tensor]:
    """The weight tensors noise is applied to (conv and linear weights, not biases or BN)."""
    return [m.weight for m in model.modules() if isinstance(m, NOISY_LAYERS)]


def noisy_accuracy(
    model: nn.Module, split: Split, alpha: float = 0.5, draws: int = 5, seed: int = 0,
    batch_size: int = 1024,
) -> float:
    """Mean accuracy (%) over ``draws`` Gaussian perturbations of sigma = alpha * std(W) per tensor."""
    if draws < 1:
        raise ValueError(f"draws must be >= 1, got {draws}")
    generator = torch.Generator(device="cpu").manual_seed(int(seed))
    weights = noisy_weights(model)
    total = 0.0
    for _ in range(draws):
        with _perturbed(weights):
            for w in weights:
                std = w.detach().std() if w.numel() > 1 else w.detach().abs()
                noise = torch.randn(w.shape, generator=generator).to(w.device)
                w.data.add_(noise * (alpha * std))
            total += score(model, split, batch_size)[1]
    return total / draws


class _perturbed:
    """Context: remember the given tensors' values and put them back on exit (even on error)."""

    def __init__(self, tensors: list[torch.Tensor]) -> None:
        self.tensors = tensors

    def __enter__(self) -> None:
        self.saved = [t.detach().clone() for t in self.tensors]

    def __exit__(self, *exc) -> None:
        with torch.no_grad():
            for t, s in zip(self.tensors, self.saved):
                t.data.copy_(s)


def _direction(model: nn.Module, generator: torch.Generator) -> list[torch.Tensor]:
    """A random direction, filter-normalised: each output filter / row scaled to its weight's norm.

    Parameters other than conv / linear weights (biases, BN) get zero (Li et al.'s 'ignore').
    """
    out = []
    for p in model.parameters():
        d = torch.zeros_like(p)
        out.append(d)
    weights = {id(w) for w in noisy_weights(model)}
    for p, d in zip(model.parameters(), out):
        if id(p) not in weights:
            continue
        r = torch.randn(p.shape, generator=generator).to(p.device)
        flat_r, flat_w = r.reshape(r.shape[0], -1), p.detach().reshape(p.shape[0], -1)
        scale = flat_w.norm(dim=1, keepdim=True) / (flat_r.norm(dim=1, keepdim=True) + 1e-10)
        d.copy_((flat_r * scale).reshape(p.shape))
    return out


def loss_grid(
    model: nn.Module, split: Split, points: int = 11, span: float = 1.0, seed: int = 0,
    batch_size: int = 1024,
) -> np.ndarray:
    """Rows (x, y, loss) over a ``points`` x ``points`` grid on [-span, span]^2."""
    generator = torch.Generator(device="cpu").manual_seed(int(seed))
    params = list(model.parameters())
    dx, dy = _direction(model, generator), _direction(model, generator)
    axis = np.linspace(-span, span, points)
    rows = []
    with _perturbed(params):
        base = [p.detach().clone() for p in params]
        for a in axis:
            for b in axis:
                with torch.no_grad():
                    for p, p0, u, v in zip(params, base, dx, dy):
                        p.copy_(p0 + float(a) * u + float(b) * v)
                rows.append((a, b, score(model, split, batch_size)[0]))
    return np.asarray(rows, dtype=float)


def roughness(
    model: nn.Module, split: Split, points: int = 11, span: float = 1.0, seed: int = 0,
    drop_top: float = 0.0, batch_size: int = 1024,
) -> float:
    """MSE of the least-squares fit loss ~ a x^2 + b y^2 + c x + d y + e over :func:`loss_grid`.

    ``drop_top`` discards that fraction of the highest-loss points first (the AL code's option,
    which keeps exploding corners from dominating).
    """
    grid = loss_grid(model, split, points, span, seed, batch_size)
    grid = grid[np.isfinite(grid[:, 2])]
    if drop_top > 0:
        keep = grid[:, 2] <= np.quantile(grid[:, 2], 1.0 - drop_top)
        grid = grid[keep]
    x, y, z = grid.T
    design = np.stack([x * x, y * y, x, y, np.ones_like(x)], axis=1)
    coef, *_ = np.linalg.lstsq(design, z, rcond=None)
    return float(np.mean((design @ coef - z) ** 2))


def stability_fitness(acc: float, noisy_acc: float, cap: float | None = None) -> float:
    """ENAS-S fitness acc^2 / |acc - noisy_acc + 1e-5| on accuracies as fractions in [0, 1].

    The published form explodes when the noise drop is ~0; ``cap`` bounds it (None = as published).
    """
    value = acc * acc / abs(acc - noisy_acc + 1e-5)
    return value if cap is None else min(value, cap)


