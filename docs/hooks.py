"""MkDocs hooks: generated parts of pages, so the docs cannot drift from the code.

- ``<!-- cli -->`` becomes every ``nasforge`` command's ``--help`` text;
- ``<!-- options KIND NAME -->`` becomes the declared options of a registered component
  (name, default, what is allowed), read from its ``options`` declaration.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

OPTIONS = re.compile(r"<!-- options (\w+) ([\w-]+) -->")


def _cli() -> str:
    from typer.main import get_command
    from typer.testing import CliRunner

    from nasforge.cli.app import app

    command = get_command(app)
    runner = CliRunner()
    parts = []
    for name in sorted(command.commands):  # type: ignore[attr-defined]
        text = runner.invoke(app, [name, "--help"], terminal_width=100).output
        parts.append(f"## nasforge {name}\n\n```text\n{text.rstrip()}\n```\n")
    return "\n".join(parts)


def _options(match: re.Match) -> str:
    from nasforge import registry
    from nasforge.options import describe_options

    kind, name = match.group(1), match.group(2)
    cls = registry.resolve(kind, name)
    rows = ["| option | default | allowed |", "|---|---|---|"]
    for option, default, allowed in describe_options(cls):
        rows.append(f"| `{option}` | `{default}` | {allowed.replace('|', '/') or 'any'} |")
    return f"Options of {kind} `{name}` (`{cls.__module__}:{cls.__name__}`):\n\n" + "\n".join(rows) + "\n"


def on_page_markdown(markdown: str, page, config, files) -> str:
    if "<!-- cli -->" in markdown:
        markdown = markdown.replace("<!-- cli -->", _cli())
    return OPTIONS.sub(_options, markdown)
