"""Small reference models to ablate, as 'nasforge.ablation.zoo:<function>' (torch only)."""

from __future__ import annotations

from collections import OrderedDict


def digits_cnn(width: int = 16, hidden: int = 64):
    """A CNN for 8x8 digits with named blocks, so modules ('features.conv2') and groups
    ('classifier.fc') read naturally in an ablation report."""
    from torch import nn

    features = nn.Sequential(OrderedDict([
        ("conv1", nn.Conv2d(1, width, 3, padding=1)),
        ("relu1", nn.ReLU()),
        ("conv2", nn.Conv2d(width, width, 3, padding=1)),
        ("relu2", nn.ReLU()),
        ("pool", nn.MaxPool2d(2)),
    ]))
    classifier = nn.Sequential(OrderedDict([
        ("fc1", nn.Linear(width * 16, hidden)),
        ("relu1", nn.ReLU()),
        ("fc2", nn.Linear(hidden, hidden)),
        ("relu2", nn.ReLU()),
        ("out", nn.Linear(hidden, 10)),
    ]))
    return nn.Sequential(OrderedDict([
        ("features", features), ("flatten", nn.Flatten()), ("classifier", classifier),
    ]))
