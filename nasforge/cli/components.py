"""The component list `search --help` ends with: every registered space, strategy, evaluator,
executor and scheduler (plugins included) with its options and their defaults.

Built only when help is shown, because it imports every component's module.
"""

from __future__ import annotations

from typing import Any

from typer.core import TyperCommand

KINDS = ("space", "strategy", "evaluator", "executor", "scheduler")


def components_help(width: int = 100) -> str:
    from .. import registry
    from ..options import describe_options

    lines = ["Components (set options with -o KIND.OPTION=VALUE or KIND_options in YAML; any "
             "'package.module:Class' works too):"]  # fmt: skip
    for kind in KINDS:
        lines.append("")
        lines.append("\b")  # click: keep this paragraph's line breaks
        lines.append(f"{kind}:")
        for name in registry.names(kind):
            try:
                target = registry.resolve(kind, name)
            except Exception as exc:  # noqa: BLE001 - e.g. an optional extra missing
                lines.append(f"  {name}  (unavailable: {str(exc).splitlines()[0]})")
                continue
            skip = ("self", "space", "seed", "objectives", "workers") if kind != "executor" else ("self",)
            options = " ".join(f"{o}={d}" for o, d, _ in describe_options(target, skip=skip))
            lines.extend(_wrap(f"  {name}", options, width))
    if registry.plugin_errors:
        lines.extend(["", "\b"])
        lines.extend(f"plugin {n!r} failed to load: {reason}" for n, reason in registry.plugin_errors.items())
    return "\n".join(lines)


def _wrap(head: str, text: str, width: int) -> list[str]:
    lines, current = [], head.ljust(16)
    for word in text.split(" "):
        if word and len(current) + len(word) + 1 > width and current.strip() != head.strip():
            lines.append(current.rstrip())
            current = " " * 16
        current += (" " if not current.endswith(" ") else "") + word
    lines.append(current.rstrip())
    return lines


class WithComponents(TyperCommand):
    """A command whose help ends with the component list, computed when help is printed."""

    def get_help(self, ctx: Any) -> str:
        self._add_components()
        return super().get_help(ctx)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._add_components()
        super().format_help(ctx, formatter)

    def _add_components(self) -> None:
        if not getattr(self, "_components_added", False):
            self.epilog = components_help()
            self._components_added = True
