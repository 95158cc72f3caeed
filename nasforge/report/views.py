"""The views of a study (figures, best architectures, counts), shared by the HTML report and the
dashboard so both always show the same things."""

from __future__ import annotations

import math
from typing import Any, Sequence

from ..trial import TrialState
from . import figures
from .archsvg import draw
from .data import StudyData


def space_for(study: StudyData) -> Any:
    """The study's search space rebuilt from its stored config (to parse genes and draw graphs);
    None when the study has no space (ablation) or it cannot be built here."""
    from ..registry import SPACES, resolve

    name = study.space_name
    if not name or name not in SPACES:
        return None
    try:
        return resolve("space", name)(**(study.config.get("space_options") or {}))
    except Exception:  # a space whose options need files absent here: draw strings instead
        return None


def summary(study: StudyData) -> dict[str, Any]:
    counts = {s.value: 0 for s in TrialState}
    for trial in study.trials:
        counts[trial.state.value] += 1
    done = figures.complete(study)
    sign = study.objectives[0].sign
    best = max(done, key=lambda t: (sign * float(t.values[0]), -t.number)) if done else None
    return {
        "study": study.name,
        "space": study.config.get("space"),
        "strategy": study.config.get("strategy"),
        "dataset": study.config.get("dataset"),
        "objectives": [str(o) for o in study.objectives],
        "budget": study.config.get("trials"),
        "counts": counts,
        "n_trials": len(study.trials),
        "best": None if best is None else {"number": best.number, "arch": best.arch,
                                          "values": [float(v) for v in best.values]},
    }  # fmt: skip


def best_architectures(study: StudyData, space: Any, k: int = 3) -> list[dict[str, Any]]:
    """The ``k`` best distinct architectures by the first objective, each drawn as SVG."""
    sign = study.objectives[0].sign
    ranked = sorted(figures.complete(study), key=lambda t: (-sign * float(t.values[0]), t.number))
    out, seen = [], set()
    for trial in ranked:
        if trial.arch in seen:
            continue
        seen.add(trial.arch)
        out.append({"number": trial.number, "arch": trial.arch,
                    "values": {o.name: float(v) for o, v in zip(study.objectives, trial.values)},
                    "svg": draw(space, trial.arch)})  # fmt: skip
        if len(out) == k:
            break
    return out


def study_figures(study: StudyData, space: Any, now: float | None = None,
                  heavy: bool = True) -> list[dict[str, Any]]:
    """[{id, title, figure}] for every view that applies; ``heavy=False`` skips the forest fit
    (the dashboard computes it less often)."""
    candidates = [
        ("best-trials", "Best so far by trial", lambda: figures.best_so_far([study], "trials")),
        ("best-time", "Best so far by wall clock", lambda: figures.best_so_far([study], "time")),
        ("timeline", "Timeline", lambda: figures.timeline(study, now)),
        ("pareto", "Pareto front", lambda: figures.pareto(study)),
        ("hypervolume", "Hypervolume", lambda: figures.hypervolume_curve(study)),
        ("curves", "Learning curves", lambda: figures.learning_curves(study)),
        ("ablation", "Ablation", lambda: figures.ablation(study)),
    ]
    if heavy:
        candidates.append(("importance", "Importance", lambda: figures.importance(study, space)))
    out = []
    for key, title, build in candidates:
        figure = build()
        if figure is not None:
            out.append({"id": key, "title": title, "figure": clean(figure)})
    return out


def compare_figures(studies: Sequence[StudyData]) -> list[dict[str, Any]]:
    out = []
    for key, axis, title in (("cmp-trials", "trials", "Best so far by trial (all studies)"),
                             ("cmp-time", "time", "Best so far by wall clock (all studies)")):
        figure = figures.best_so_far(studies, axis)
        if figure is not None:
            out.append({"id": key, "title": title, "figure": clean(figure)})
    return out


def clean(value: Any) -> Any:
    """Non-finite floats as None (null): JSON has no NaN and plotly leaves gaps for null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    return value
