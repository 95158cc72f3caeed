"""The `nasforge` command: one module per command, bad input -> one line and exit code 2."""

from __future__ import annotations

import sys

import typer

from .. import __version__
from ..errors import NasforgeError
from .ablate import ablate
from .bench import bench
from .components import WithComponents
from .dashboard import dashboard
from .doctor import doctor
from .embed import embed
from .export import export
from .fit_predictor import fit_predictor
from .oneshot import oneshot
from .reduce import reduce
from .report import delete, list_studies, report
from .search import resume, search
from .segment import segment
from .trials import trials


def _version(value: bool) -> None:
    if value:
        typer.echo(f"nasforge {__version__}")
        raise typer.Exit()


app = typer.Typer(
    add_completion=False,
    pretty_exceptions_enable=False,
    no_args_is_help=True,
    rich_markup_mode=None,  # help text is printed as written (the component list keeps its lines)
    help="Neural architecture search on your data or on tabular NAS benchmarks.",
)


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="print the version and exit"
    ),
) -> None:
    """Neural architecture search on your data or on tabular NAS benchmarks."""


# every command is imported above: a command module that fails to import is a bug to see, not hide
app.command(cls=WithComponents)(search)
app.command()(resume)
app.command()(report)
app.command("list")(list_studies)
app.command()(delete)
app.command()(trials)
app.command()(export)
app.command()(segment)
app.command()(ablate)
app.command()(dashboard)
app.command()(bench)
app.command()(doctor)
app.command("fit-predictor")(fit_predictor)
app.command()(embed)
app.command()(oneshot)
app.command()(reduce)


def main(argv: list[str] | None = None) -> int:
    try:
        # without standalone mode click returns (not raises) a command's typer.Exit code
        code = app(args=argv, standalone_mode=False)
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
    return code if isinstance(code, int) else 0


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
