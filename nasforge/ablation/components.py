"""Which modules of a model an ablation can remove, and removing them (torch only).

A module is removed by replacing it with ``nn.Identity``; that only makes sense where the module
maps its input to an output of the same shape. Whether it does is checked by a dry forward pass on a
real batch, so the user learns before any training which names cannot be removed and why.
"""

from __future__ import annotations

import copy
from typing import Iterable, Sequence

from ..errors import ConfigError
from .space import BASE


def module_names(model) -> list[str]:
    """Qualified names of every submodule (the model itself excluded), in registration order."""
    return [name for name, _ in model.named_modules() if name]


def group_members(model, prefix: str) -> list[str]:
    """The topmost modules whose qualified name starts with ``prefix`` (e.g. 'classifier.fc').

    Children of a matched module are left out: replacing the parent already removes them.
    """
    chosen: list[str] = []
    for name in module_names(model):
        if name.startswith(prefix) and not any(name.startswith(c + ".") for c in chosen):
            chosen.append(name)
    return chosen


def remove_modules(model, names: Iterable[str]):
    """Replace each named submodule by ``nn.Identity`` in place; returns the model."""
    from torch import nn

    for name in names:
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        setattr(parent, child, nn.Identity())
    return model


def check_removable(model, components: dict[str, Sequence[str]], sample) -> dict[str, str]:
    """Dry-run every component's removal on ``sample``; map component -> reason it cannot go.

    A removal is refused when the forward pass fails or the output shape changes.
    """
    import torch

    model = copy.deepcopy(model).eval()
    with torch.no_grad():
        reference = tuple(model(sample).shape)
    problems: dict[str, str] = {}
    for component, names in components.items():
        trial = remove_modules(copy.deepcopy(model), names)
        try:
            with torch.no_grad():
                shape = tuple(trial(sample).shape)
        except Exception as exc:  # noqa: BLE001 - any failure means the shapes do not permit it
            problems[component] = _first_line(exc)
            continue
        if shape != reference:
            problems[component] = f"output shape changes from {reference} to {shape}"
    return problems


def resolve_components(
    model,
    modules: Sequence[str] | str,
    groups: Sequence[str],
    sample,
) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Component name -> module names to remove, plus the modules 'all' skipped (with reasons).

    ``modules='all'`` takes every leaf module that has parameters and can be removed; named
    modules and groups that cannot be removed raise a ConfigError naming each with its reason.
    """
    names = module_names(model)
    components: dict[str, list[str]] = {}
    skipped: dict[str, str] = {}
    if modules == "all":
        leaves = [
            n for n, m in model.named_modules()
            if n and not list(m.children()) and any(True for _ in m.parameters(recurse=False))
        ]
        candidates = {n: [n] for n in leaves}
        skipped = check_removable(model, candidates, sample)
        components.update({n: v for n, v in candidates.items() if n not in skipped})
    else:
        unknown = [m for m in modules if m not in names]
        if unknown:
            raise ConfigError(
                f"model has no module(s) {', '.join(map(repr, unknown))}; its modules are: "
                f"{', '.join(names)}"
            )
        components.update({m: [m] for m in modules})
    for prefix in groups:
        members = group_members(model, prefix)
        if not members:
            raise ConfigError(
                f"group prefix {prefix!r} matches no module; the model's modules are: "
                f"{', '.join(names)}"
            )
        components[f"group:{prefix}"] = members
    if BASE in components:
        raise ConfigError(
            f"a component may not be called {BASE!r}: that name is the unablated model"
        )
    if not components:
        raise ConfigError("nothing to ablate: give modules (a list or 'all') and/or groups")
    unchecked = {k: v for k, v in components.items() if modules != "all" or k.startswith("group:")}
    problems = check_removable(model, unchecked, sample)
    if problems:
        detail = "; ".join(f"{c} ({why})" for c, why in problems.items())
        raise ConfigError(
            f"cannot remove {', '.join(map(repr, problems))}: replacing with Identity breaks the "
            f"shapes: {detail}"
        )
    return components, skipped


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
