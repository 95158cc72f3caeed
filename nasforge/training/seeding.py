"""Per-trial RNG and thread scopes: a trial is reproducible and leaves global state as it was."""

from __future__ import annotations

import contextlib
from typing import Iterator

import torch


@contextlib.contextmanager
def seeded_torch(seed: int) -> Iterator[torch.Generator]:
    """Seed the global torch RNG (weight init, dropout) inside a forked scope.

    Yields a separate generator for data order, so changing the model (and thus how many random
    numbers its init draws) never changes which batches it sees.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        data_order = torch.Generator()
        data_order.manual_seed(seed + 1)
        yield data_order


@contextlib.contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """Use ``threads`` intra-op threads for the scope (None leaves torch's setting alone)."""
    if threads is None:
        yield
        return
    previous = torch.get_num_threads()
    if previous != threads:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        if torch.get_num_threads() != previous:
            torch.set_num_threads(previous)
