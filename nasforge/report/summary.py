"""What a study produced, as one JSON-serialisable dict (the `report --json` payload).

Everything comes from the store (the study record and its trials): no evaluator, no data folder,
no user code is needed to report a finished study, so a moved data folder or an uninstalled plugin
never breaks it.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

from ..objectives import parse_objectives
from ..store.sqlite import StudyRecord
from ..study.study import best_key, best_of
from ..trial import Trial, TrialState


def study_summary(record: StudyRecord, trials: Sequence[Trial]) -> dict[str, Any]:
    config = record.config
    objectives = parse_objectives(config.get("objectives") or ["valid_accuracy:max"])
    finished = [t for t in trials if t.state != TrialState.RUNNING]
    best = best_of(trials, objectives[0])
    durations = [t.duration for t in finished if t.duration is not None]
    info = config.get("evaluator_info") or {}
    summary: dict[str, Any] = {
        "study": record.name,
        "space": config.get("space"),
        "strategy": config.get("strategy"),
        "evaluator": config.get("evaluator") or info.get("evaluator"),
        "dataset": config.get("dataset") or info.get("dataset"),
        "seed": config.get("seed"),
        "fidelity": config.get("fidelity"),
        "objectives": [str(o) for o in objectives],
        "budget": config.get("trials"),
        "counts": {s.value: sum(t.state == s for t in trials) for s in TrialState},
        "n_trials": len(trials),
        "total_trial_seconds": round(sum(durations), 3),
        "best": None,
    }
    if best is not None:
        summary["best"] = {
            "number": best.number,
            "arch": best.arch,
            "values": best.values,
            "metrics": best.metrics,
            "fidelity": best.fidelity,
            "seed": best.seed,
        }
    if len(objectives) > 1:
        complete = [t for t in trials if t.state == TrialState.COMPLETE]
        summary.update(_pareto(complete, objectives, config.get("constraints") or []))
    failed = [t for t in trials if t.state == TrialState.FAILED]
    if failed:
        summary["failures"] = [{"number": t.number, "arch": t.arch, "error": t.error} for t in failed[:20]]
    return json_safe(summary)


def ranked(trials: Sequence[Trial], objective: Any) -> list[Trial]:
    """COMPLETE trials best first, by the same key as :func:`best_of` (one notion of best)."""
    complete = [t for t in trials if t.state == TrialState.COMPLETE and t.values]
    return sorted(complete, key=lambda t: best_key(t, objective))


def json_safe(value: Any) -> Any:
    """NaN / inf become None so the payload is valid JSON (``json.dumps`` would write NaN)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def _pareto(complete: list[Trial], objectives: list, constraints: list[str]) -> dict[str, Any]:
    """Pareto front + hypervolume via the report.pareto module (needs the 'mo' extra)."""
    try:
        from .pareto import pareto_summary
    except ImportError as exc:  # pragma: no cover - only without the module/extra
        return {"pareto_error": str(exc)}
    return pareto_summary(complete, objectives, constraints=constraints)
