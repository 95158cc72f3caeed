"""Device names users write (``auto``, ``cpu``, ``cuda``, ``cuda:1``, ``mps``) and where they resolve.

A spelling is checked where the config is read (no torch needed); what it means is decided where
trials run, because that is where the GPUs are: a Ray head node without a GPU can launch trials
onto GPU workers, and a worker that Ray (or the local pool) gave one GPU sees it as ``cuda:0``
through ``CUDA_VISIBLE_DEVICES``. ``auto`` takes a visible CUDA device, then Apple's MPS, then
the CPU, so ``gpus_per_trial: 1`` is enough to train on the GPU a trial was given.
"""

from __future__ import annotations

import re

from ..errors import ConfigError

DEVICE_SPELLINGS = "auto, cpu, cuda, cuda:N (N = 0, 1, ...) or mps"
_PATTERN = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


def check_device(spec: object) -> str:
    """The spelling, or a ConfigError naming what is allowed (no torch import)."""
    if not isinstance(spec, str) or not _PATTERN.match(spec):
        raise ConfigError(f"parameter device must be one of {DEVICE_SPELLINGS}, got {spec!r}")
    return spec


def resolve_device(spec: str) -> str:
    """The torch device this process trains on; ConfigError when the request cannot be met here."""
    import torch

    spec = check_device(spec)
    cuda = torch.cuda.is_available()
    count = torch.cuda.device_count() if cuda else 0
    mps = bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available()
    if spec == "auto":
        return "cuda:0" if count else ("mps" if mps else "cpu")
    if spec == "cpu":
        return "cpu"
    if spec == "mps":
        if not mps:
            raise ConfigError("device 'mps' was asked for but this machine has no Apple MPS device")
        return "mps"
    index = int(spec.partition(":")[2] or 0)
    if index >= count:
        seen = f"{count} CUDA device(s) visible" if count else "no CUDA device visible"
        raise ConfigError(
            f"device {spec!r} was asked for but this process has {seen} (CUDA_VISIBLE_DEVICES="
            f"{_visible()!r}); use device 'auto' or request GPUs from the executor"
        )
    return f"cuda:{index}"


def pinned_gpus(workers: int, visible: list[str]) -> list[str | None]:
    """One GPU per local-pool worker, round robin over the visible ones (None: leave as is)."""
    if len(visible) < 2:
        return [None] * workers
    return [visible[i % len(visible)] for i in range(workers)]


def visible_gpus() -> list[str]:
    """GPU ids this process may use, from CUDA_VISIBLE_DEVICES or torch (if already imported)."""
    import os
    import sys

    listed = os.environ.get("CUDA_VISIBLE_DEVICES")
    if listed is not None:
        return [g.strip() for g in listed.split(",") if g.strip() and g.strip() != "-1"]
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        return [str(i) for i in range(torch.cuda.device_count())]
    return []


def _visible() -> str | None:
    import os

    return os.environ.get("CUDA_VISIBLE_DEVICES")
