"""What a study produced, as one JSON-serialisable dict (the `report --json` payload)."""

from __future__ import annotations

from typing import Any

from ..study.study import Study, best_of
from ..trial import TrialState


def study_summary(study: Study) -> dict[str, Any]:
    config = study.record.config
    trials = study.trials
    finished = [t for t in trials if t.state != TrialState.RUNNING]
    best = best_of(trials, study.objectives[0])
    durations = [t.duration for t in finished if t.duration is not None]
    summary: dict[str, Any] = {
        "study": study.name,
        "space": config.get("space"),
        "strategy": config.get("strategy"),
        "evaluator": config.get("evaluator") or study.evaluator.name,
        "dataset": config.get("dataset") or study.evaluator.describe().get("dataset"),
        "seed": config.get("seed"),
        "fidelity": study.fidelity,
        "objectives": [str(o) for o in study.objectives],
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
    if len(study.objectives) > 1:
        summary.update(_pareto(study, trials, config.get("constraints") or []))
    failed = [t for t in trials if t.state == TrialState.FAILED]
    if failed:
        summary["failures"] = [{"number": t.number, "arch": t.arch, "error": t.error} for t in failed[:20]]
    return summary


def _pareto(study: Study, trials: list, constraints: list[str]) -> dict[str, Any]:
    """Pareto front + hypervolume via the report.pareto module (needs the 'mo' extra)."""
    try:
        from .pareto import pareto_summary
    except ImportError as exc:  # pragma: no cover - only without the module/extra
        return {"pareto_error": str(exc)}
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    return pareto_summary(complete, study.objectives, constraints=constraints)
