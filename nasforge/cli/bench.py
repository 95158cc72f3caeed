"""`nasforge bench`: the tabular NAS-Bench-201 comparison (strategies x seeds x budgets) as a
markdown and an HTML table beside the published reference figures."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Optional

import typer

from ..errors import ConfigError


def _ints(text: str, what: str) -> list[int]:
    try:
        values = sorted({int(v) for v in text.split(",") if v.strip()})
    except ValueError:
        raise ConfigError(f"--{what} must be comma-separated integers, got {text!r}") from None
    if not values or values[0] < 1:
        raise ConfigError(f"--{what} must be positive integers, got {text!r}")
    return values


def bench(
    strategies: str = typer.Option("random,evolution,optuna_tpe,oracle",
                                   help="comma-separated strategies (registry names, optuna_tpe, "
                                        "optuna_random, oracle)"),  # fmt: skip
    seeds: int = typer.Option(10, help="seeds 0..N-1 per strategy"),
    budgets: str = typer.Option("50,100,150", help="comma-separated query budgets"),
    datasets: str = typer.Option("cifar10", help="cifar10, cifar100, ImageNet16-120 (comma list)"),
    data: Optional[str] = typer.Option(None, help="benchmark data folder (else $NASFORGE_DATA)"),
    out: Path = typer.Option(Path("bench"), help="output stem: writes STEM.md, STEM.html, STEM.json"),
    workers: int = typer.Option(1, help="processes running (dataset, strategy) cells in parallel"),
    strategy_options: str = typer.Option("{}", help='JSON {strategy: {option: value}}'),
) -> None:
    """Reproduce the NAS-Bench-201 search comparison on the tabular benchmark in minutes."""
    from .. import bench as protocol

    methods = [m.strip() for m in strategies.split(",") if m.strip()]
    unknown = [m for m in methods if m not in protocol.all_methods()]
    if not methods or unknown:
        raise ConfigError(f"unknown strategy {', '.join(unknown) or '(none)'}; choose from: "
                          f"{', '.join(protocol.all_methods())}")  # fmt: skip
    if seeds < 1 or workers < 1:
        raise ConfigError(f"--seeds and --workers must be >= 1, got {seeds} and {workers}")
    known = ("cifar10", "cifar100", "ImageNet16-120")
    names = [d.strip() for d in datasets.split(",") if d.strip()]
    if not names or any(d not in known for d in names):
        raise ConfigError(f"--datasets {datasets!r}: choose from {', '.join(known)}")
    try:
        options = {**protocol.DEFAULT_OPTIONS, **json.loads(strategy_options)}
    except json.JSONDecodeError as exc:
        raise ConfigError(f"--strategy-options is not JSON: {exc}") from None
    if not out.parent.is_dir():
        raise ConfigError(f"folder {str(out.parent)!r} of --out does not exist")
    steps = _ints(budgets, "budgets")
    started = time.perf_counter()
    results, timings = protocol.run_grid(methods, options, names, list(range(seeds)), steps, data, workers)
    report = {"protocol": protocol.PROTOCOL, "seeds": list(range(seeds)), "budgets": steps,
              "datasets": names, "methods": methods, "results": results, "seconds": timings,
              "wall_seconds": round(time.perf_counter() - started, 2), "workers": workers,
              "reference_150": protocol.compare_with_reference(results, seeds)}  # fmt: skip
    markdown = protocol.to_markdown(report)
    for suffix, text in ((".md", markdown), (".html", protocol.to_html(report)),
                         (".json", json.dumps(report, indent=1))):  # fmt: skip
        Path(f"{out}{suffix}").write_text(text)
    typer.echo(markdown)
    typer.echo(f"wrote {out}.md, {out}.html, {out}.json ({report['wall_seconds']:.1f} s)")
