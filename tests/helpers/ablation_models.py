"""Tiny models for ablation tests (importable as 'tests.helpers.ablation_models:<name>')."""

from __future__ import annotations

from collections import OrderedDict


def mlp(hidden: int = 16):
    """Flatten + three linear layers for 8x8 digits; '2' and '3' (ReLU, hidden Linear) are removable."""
    from torch import nn

    return nn.Sequential(nn.Flatten(), nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, hidden),
                         nn.ReLU(), nn.Linear(hidden, 10))


def with_nan_layer():
    """A model whose 'poison' module turns every activation into NaN: its loss is NaN."""
    import torch
    from torch import nn

    class Poison(nn.Module):
        def forward(self, x):
            return x * torch.tensor(float("nan"))

    return nn.Sequential(OrderedDict([
        ("flatten", nn.Flatten()), ("fc", nn.Linear(64, 10)), ("poison", Poison()),
    ]))
