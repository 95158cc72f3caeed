"""Torch model builders (architecture -> ``nn.Module``), one module per space.

A torch-only package: light modules (spaces, strategies, the CLI) must not import it at module top.
``build_model`` dispatches on the space name; the builders themselves live in ``nb201.py`` and
``chain.py``.
"""

from .build import build_model

__all__ = ["build_model"]
