"""The `nasforge` command: one module per command, bad input -> one line and exit code 2."""

from __future__ import annotations

import sys

import typer

from ..errors import NasforgeError
from .report import list_studies, report
from .search import resume, search

app = typer.Typer(
    add_completion=False,
    pretty_exceptions_enable=False,
    no_args_is_help=True,
    help="Neural architecture search on your data or on tabular NAS benchmarks.",
)
app.command()(search)
app.command()(resume)
app.command()(report)
app.command("list")(list_studies)


def _register_optional() -> None:
    """Commands whose modules pull in heavier code register themselves lazily here."""
    import importlib

    for module, attr, command in (
        ("nasforge.cli.export", "export", "export"),
        ("nasforge.cli.ablate", "ablate", "ablate"),
        ("nasforge.cli.segment", "segment", "segment"),
    ):
        try:
            fn = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError):
            continue
        app.command(command)(fn)


_register_optional()


def main(argv: list[str] | None = None) -> int:
    try:
        app(args=argv, standalone_mode=False)
    except NasforgeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        print("aborted", file=sys.stderr)
        return 130
    except Exception as exc:
        # typer (>= 0.20 vendors click) raises its usage errors from typer._click; older from click.
        if not hasattr(exc, "format_message") or not hasattr(exc, "exit_code"):
            raise
        if type(exc).__name__ == "NoArgsIsHelpError":
            print(exc.format_message(), file=sys.stderr)
            return 0
        message = " ".join(exc.format_message().split())
        print(f"error: {message} (see --help)", file=sys.stderr)
        return 2
    return 0


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
