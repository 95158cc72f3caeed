"""`nasforge oneshot`: one-shot (DARTS / GDAS, mixed-precision) search, derived nets as a study."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import typer

from ..config import load_config_file
from ..errors import ConfigError

FRONT_METRICS = ("valid_accuracy", "test_accuracy", "bitops_m", "weight_kb", "energy_nj", "boo_per_param")


def oneshot(
    config: Path = typer.Option(..., "--config", "-c", help="YAML study config with a 'oneshot' section"),
    name: Optional[str] = typer.Option(None, help="study name (overrides the config)"),
    storage: Optional[str] = typer.Option(None, help="SQLite file holding the study"),
    seed: Optional[int] = typer.Option(None, help="seed of the searches and the study"),
    export: Optional[Path] = typer.Option(None, "--export", help="write the best trial's integer export here"),
    force: bool = typer.Option(False, "--force", help="overwrite an earlier export in --export"),
    as_json: bool = typer.Option(False, "--json", help="print the report as JSON"),
) -> None:
    """Search with a weight-sharing supernet, then train the derived architectures as trials.

    Re-running with an existing study name resumes its trials (the search is not repeated).
    """
    from ..oneshot.study import reports_path, run_oneshot
    from ..report.summary import study_summary
    from .search import print_result

    data = load_config_file(config)
    for key, value in (("name", name), ("storage", storage), ("seed", seed)):
        if value is not None:
            data[key] = value
    study = run_oneshot(data)
    summary = study_summary(study)
    origin = study.strategy.origin or []
    reports = getattr(study, "oneshot_reports", None)
    if reports is None and data.get("storage", "nasforge.db") != ":memory:":
        path = reports_path(str(data.get("storage", "nasforge.db")), study.name)
        reports = json.loads(path.read_text()) if path.is_file() else []
    summary["oneshot"] = [
        {k: r.get(k) for k in ("relaxation", "penalty", "derived", "skip_share", "collapsed", "time_s")}
        for r in reports or []
    ]
    if export is not None:
        if study.space.name != "chain_precision":
            raise ConfigError(f"--export writes integer networks of the chain_precision space, not {study.space.name!r}")
        from ..oneshot.export import export_quantized_trial

        summary["export"] = str(export_quantized_trial(study, export, force=force))
    if as_json:
        typer.echo(json.dumps(summary))
        return
    for r in summary["oneshot"]:
        flag = "  SKIP COLLAPSE" if r["collapsed"] else ""
        typer.echo(f"search {r['relaxation']} penalty={r['penalty']}: {len(r['derived'])} derived in "
                   f"{r['time_s']:.1f} s, skip share {r['skip_share']}{flag}")
    print_result(summary)
    front = summary.get("pareto_front") or []
    if front:
        typer.echo(f"front ({len(front)} trials, hypervolume {summary.get('hypervolume', 0):.4f}):")
        by_number = {t.number: t for t in study.trials}
        for item in sorted(front, key=lambda f: f["metrics"].get("bitops_m", 0)):
            m = item["metrics"]
            note = _origin(origin, study, by_number.get(item["number"]))
            typer.echo("  #" + str(item["number"]) + " " + " ".join(
                f"{k}={m[k]:.4g}" for k in FRONT_METRICS if k in m) + f"  {item['arch']}{note}")
    if "export" in summary:
        typer.echo(f"exported best trial to {summary['export']}")


def _origin(origin: list[dict[str, Any]], study: Any, trial: Any) -> str:
    if trial is None:
        return ""
    strings = [a.string for a in study.strategy.archs]
    if trial.arch in strings and strings.index(trial.arch) < len(origin):
        o = origin[strings.index(trial.arch)]
        return f"  (penalty {o['penalty']}" + (f", uniform {o['uniform_bits']}-bit" if o.get("uniform_bits") else "") + ")"
    return ""
