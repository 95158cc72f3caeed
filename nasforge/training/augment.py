"""Training-time augmentations applied per batch on tensors (no torchvision, no DataLoader).

They run inside :func:`nasforge.training.loop.fit` on each training batch, drawing every random
number from the trial's data-order generator: the same seed gives the same augmented batches in any
process, and a resumed run (whose generator state is checkpointed) continues the same sequence.
Validation and test batches are never augmented.

Config spelling (trainer option ``augment``): a list of names with default parameters,
``[crop, flip, affine]``, or a mapping with parameters,
``{crop: {padding: 4}, flip: {p: 0.5}, affine: {degrees: 10, translate: 0.1, scale: 0.1}}``.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F

from ..errors import ConfigError


class Augmentation(ABC):
    """One random transform of a batch ``x`` of shape (N, C, L) or (N, C, H, W)."""

    name: str = "augmentation"

    @abstractmethod
    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """The transformed batch (same shape); randomness only from ``generator``."""

    def config(self) -> dict[str, Any]:
        return dict(vars(self))


def _uniform(n: int, generator: torch.Generator) -> torch.Tensor:
    return torch.rand(n, generator=generator)


class RandomCrop(Augmentation):
    """Zero-pad by ``padding`` on every spatial side, then crop back at a random offset per example.

    The CIFAR recipe (pad 4, crop 32); on 1-D inputs it shifts along the length.
    """

    name = "crop"

    def __init__(self, padding: int = 4) -> None:
        if isinstance(padding, bool) or not isinstance(padding, int) or padding < 1:
            raise ConfigError(f"parameter padding of augmentation crop must be an integer >= 1, got {padding!r}")
        self.padding = padding

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        p, n = self.padding, x.shape[0]
        if x.ndim == 3:
            padded = F.pad(x, (p, p))
            length = x.shape[2]
            shift = torch.randint(0, 2 * p + 1, (n,), generator=generator).to(x.device)
            cols = shift[:, None] + torch.arange(length, device=x.device)  # (N, L)
            return padded.gather(2, cols[:, None, :].expand(-1, x.shape[1], -1))
        h, w = x.shape[2], x.shape[3]
        padded = F.pad(x, (p, p, p, p))
        dy = torch.randint(0, 2 * p + 1, (n,), generator=generator).to(x.device)
        dx = torch.randint(0, 2 * p + 1, (n,), generator=generator).to(x.device)
        rows = dy[:, None] + torch.arange(h, device=x.device)  # (N, H)
        cols = dx[:, None] + torch.arange(w, device=x.device)  # (N, W)
        batch = torch.arange(n, device=x.device)[:, None, None]
        # advanced indexing gives (N, H, W, C); back to channels-first
        out = padded.permute(0, 2, 3, 1)[batch, rows[:, :, None], cols[:, None, :]]
        return out.permute(0, 3, 1, 2).contiguous()


class RandomFlip(Augmentation):
    """Mirror each example along its last (width / length) axis with probability ``p``."""

    name = "flip"

    def __init__(self, p: float = 0.5) -> None:
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= float(p) <= 1.0:
            raise ConfigError(f"parameter p of augmentation flip must be a number in [0, 1], got {p!r}")
        self.p = float(p)

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        mask = (_uniform(x.shape[0], generator) < self.p).to(x.device)
        return torch.where(mask.view(-1, *([1] * (x.ndim - 1))), x.flip(-1), x)


class RandomAffine(Augmentation):
    """A small random rotation (± ``degrees``), shift (± ``translate`` of the size) and zoom
    (1 ± ``scale``) per image, bilinear, zero outside. Images (N, C, H, W) only."""

    name = "affine"

    def __init__(self, degrees: float = 10.0, translate: float = 0.1, scale: float = 0.1) -> None:
        for label, value, high in (("degrees", degrees, 180.0), ("translate", translate, 1.0), ("scale", scale, 0.9)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= high:
                raise ConfigError(
                    f"parameter {label} of augmentation affine must be a number in [0, {high:g}], got {value!r}"
                )
        self.degrees, self.translate, self.scale = float(degrees), float(translate), float(scale)

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        if x.ndim != 4:
            raise ConfigError(f"augmentation affine needs images (N, C, H, W), got inputs of shape {tuple(x.shape)}")
        n = x.shape[0]
        draw = torch.rand(4, n, generator=generator) * 2 - 1  # in [-1, 1)
        angle = draw[0] * math.radians(self.degrees)
        zoom = 1.0 + draw[1] * self.scale
        tx, ty = draw[2] * 2 * self.translate, draw[3] * 2 * self.translate  # grid units span 2
        cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
        theta = torch.stack([torch.stack([cos, -sin, tx], 1), torch.stack([sin, cos, ty], 1)], 1)
        grid = F.affine_grid(theta.to(x.device, x.dtype), list(x.shape), align_corners=False)
        return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


AUGMENTATIONS: dict[str, type[Augmentation]] = {"crop": RandomCrop, "flip": RandomFlip, "affine": RandomAffine}


class Augmenter:
    """Augmentations applied in order; called by the training loop on each training batch."""

    def __init__(self, steps: Sequence[Augmentation]) -> None:
        self.steps = list(steps)

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        for step in self.steps:
            x = step(x, generator)
        return x

    def config(self) -> dict[str, dict[str, Any]]:
        return {s.name: s.config() for s in self.steps}


def make_augmenter(spec: Sequence[str] | Mapping[str, Any] | None) -> Augmenter | None:
    """An :class:`Augmenter` from the config spelling (see the module doc); None for no augmentation."""
    if spec is None or (isinstance(spec, (list, tuple, dict)) and not spec):
        return None
    if isinstance(spec, str):
        spec = [spec]
    if isinstance(spec, Mapping):
        items = list(spec.items())
    elif isinstance(spec, Sequence):
        items = [(name, None) for name in spec]
    else:
        raise ConfigError(
            f"option augment must be a list of {', '.join(AUGMENTATIONS)} or a mapping name -> "
            f"parameters, got {spec!r}"
        )
    steps = []
    for name, params in items:
        if name not in AUGMENTATIONS:
            raise ConfigError(f"augmentation must be one of {', '.join(AUGMENTATIONS)}, got {name!r}")
        if params is None or params is True:
            params = {}
        if not isinstance(params, Mapping):
            raise ConfigError(f"parameters of augmentation {name} must be a mapping, got {params!r}")
        try:
            steps.append(AUGMENTATIONS[name](**params))
        except TypeError:
            allowed = list(AUGMENTATIONS[name]().config())
            raise ConfigError(
                f"augmentation {name} takes parameters {', '.join(allowed)}, got {', '.join(map(str, params))}"
            ) from None
    return Augmenter(steps)
