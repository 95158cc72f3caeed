"""The plots of a study, as plain plotly figure dicts ({"data": [...], "layout": {...}}).

Plain dicts rather than ``plotly.graph_objects``: building and validating graph objects costs
seconds on a 10,000-trial study, while the JSON the browser needs is the same. The HTML report
inlines these dicts; the dashboard serves them as JSON and the page redraws with ``Plotly.react``.
Each function returns ``None`` when its view does not apply (no second objective, no curves).
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from ..trial import Trial, TrialState
from .data import StudyData

Figure = dict[str, Any]
STATE_COLOURS = {"COMPLETE": "#2a9d8f", "FAILED": "#e63946", "PRUNED": "#f4a261", "RUNNING": "#8d99ae"}
PALETTE = ["#1d3557", "#e63946", "#2a9d8f", "#f4a261", "#6a4c93", "#8ab17d", "#bc6c25"]
MAX_CURVES = 60  # learning curves drawn: the best trials' (more is unreadable)
MAX_POINTS = 2000  # markers per trace: beyond this a browser spends seconds drawing SVG


def thin(n: int, limit: int = MAX_POINTS) -> np.ndarray:
    """Indices of at most ``limit`` of ``n`` points, evenly spread (deterministic), in order."""
    if n <= limit:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, limit).round().astype(int))


def fronts(values: np.ndarray, objectives: Sequence[Any], checkpoints: Sequence[int] = ()) -> tuple:
    """Non-dominated mask of ``values`` (rows in arrival order) and, for each k in
    ``checkpoints``, the front of the first k rows: one incremental pass, O(n x front size),
    instead of a full non-dominated sort per checkpoint."""
    signs = [-o.sign for o in objectives]  # all minimised
    # plain tuples: fronts hold tens of points, where numpy's per-call cost would dominate
    points = [tuple(sg * float(v) for sg, v in zip(signs, row)) for row in np.asarray(values)]
    front: list[int] = []
    at: dict[int, np.ndarray] = {}
    wanted = set(checkpoints)

    def dominates(a: tuple, b: tuple) -> bool:
        return a != b and all(x <= y for x, y in zip(a, b))

    for i, p in enumerate(points):
        if not any(dominates(points[f], p) for f in front):
            front = [f for f in front if not dominates(p, points[f])]
            front.append(i)
        if i + 1 in wanted:
            at[i + 1] = np.array(front)
    mask = np.zeros(len(points), dtype=bool)
    mask[front] = True
    return mask, at


def _layout(title: str, x: str, y: str, **extra: Any) -> dict[str, Any]:
    return {"title": {"text": title}, "xaxis": {"title": {"text": x}},
            "yaxis": {"title": {"text": y}}, "margin": {"l": 60, "r": 20, "t": 50, "b": 50},
            "hovermode": "closest", "template": None, **extra}  # fmt: skip


def finished_trials(study: StudyData) -> list[Trial]:
    return [t for t in study.trials if t.state != TrialState.RUNNING]


def complete(study: StudyData) -> list[Trial]:
    m = len(study.objectives)
    return [t for t in study.trials if t.state == TrialState.COMPLETE and t.values
            and len(t.values) >= m and all(math.isfinite(float(v)) for v in t.values[:m])]


def t0(study: StudyData) -> float:
    starts = [t.started for t in study.trials if t.started is not None]
    return min([study.created, *starts])


# --- best so far ----------------------------------------------------------------------------------


def best_so_far(studies: Sequence[StudyData], axis: str = "trials") -> Figure | None:
    """Best first-objective value after each finished trial, by trial number or wall clock."""
    data = []
    for index, study in enumerate(studies):
        colour = PALETTE[index % len(PALETTE)]
        objective = study.objectives[0]
        done = complete(study)
        if axis == "time":
            origin = t0(study)
            done = sorted((t for t in done if t.finished is not None), key=lambda t: t.finished)
            xs = [t.finished - origin for t in done]
        else:
            xs = [t.number for t in done]
        values = np.array([float(t.values[0]) for t in done])
        if len(values) == 0:
            continue
        best = (np.maximum.accumulate(values) if objective.sign > 0
                else np.minimum.accumulate(values))  # fmt: skip
        shown = thin(len(done))
        data.append({"type": "scatter", "mode": "markers", "name": f"{study.name} trials",
                     "x": [xs[i] for i in shown], "y": values[shown].tolist(),
                     "marker": {"size": 4, "opacity": 0.35, "color": colour},
                     "text": [done[i].arch for i in shown], "hoverinfo": "x+y+text",
                     "legendgroup": study.name, "showlegend": len(studies) > 1})
        steps = [0] + [i for i in range(1, len(best)) if best[i] != best[i - 1]] + [len(best) - 1]
        steps = sorted(set(steps))  # a step line is exact from its change points alone
        xs, best = [xs[i] for i in steps], best[steps]  # fmt: skip
        data.append({"type": "scatter", "mode": "lines", "name": f"{study.name} best",
                     "x": xs, "y": best.tolist(), "line": {"shape": "hv", "width": 2, "color": colour},
                     "legendgroup": study.name})  # fmt: skip
    if not data:
        return None
    x = "seconds since the study started" if axis == "time" else "trial number"
    name = studies[0].objectives[0]
    return {"data": data, "layout": _layout(f"Best {name.name} so far ({name.direction})", x, name.name)}


# --- timeline -----------------------------------------------------------------------------------


def lanes(trials: Sequence[Trial], now: float) -> dict[int, int]:
    """Worker lane per trial: the store keeps no worker id, so trials are packed greedily into
    the fewest lanes that never overlap in time (interval partitioning), which is the number of
    workers when they were kept busy."""
    ends: list[float] = []
    out: dict[int, int] = {}
    for trial in sorted(trials, key=lambda t: (t.started, t.number)):
        end = trial.finished if trial.finished is not None else now
        for lane, lane_end in enumerate(ends):
            if lane_end <= trial.started + 1e-6:
                ends[lane] = end
                out[trial.number] = lane
                break
        else:
            out[trial.number] = len(ends)
            ends.append(end)
    return out


def timeline(study: StudyData, now: float | None = None) -> Figure | None:
    """Gantt chart: one horizontal bar per trial, in inferred worker lanes, coloured by state."""
    timed = [t for t in study.trials if t.started is not None]
    if not timed:
        return None
    import time

    now = time.time() if now is None else now
    origin = t0(study)
    lane_of = lanes(timed, now)
    total = len(timed)
    timed = sorted(timed, key=lambda t: t.started)[-MAX_POINTS:]
    data = []
    for state, colour in STATE_COLOURS.items():
        rows = [t for t in timed if t.state.value == state]
        if not rows:
            continue
        data.append({"type": "bar", "orientation": "h", "name": state,
                     "base": [t.started - origin for t in rows],
                     "x": [max((t.finished or now) - t.started, 1e-3) for t in rows],
                     "y": [f"lane {lane_of[t.number]}" for t in rows],
                     "text": [f"#{t.number} {t.arch}" for t in rows], "hoverinfo": "text+x",
                     "textposition": "none",
                     "marker": {"color": colour}})  # fmt: skip
    shown = "" if total == len(timed) else f", last {len(timed)} of {total}"
    layout = _layout(f"Trials per worker lane (inferred from start / finish times{shown})",
                     "seconds since the study started", "lane", barmode="overlay")
    layout["yaxis"]["categoryorder"] = "category descending"
    return {"data": data, "layout": layout}


# --- Pareto front and hypervolume ------------------------------------------------------------------


def pareto(study: StudyData) -> Figure | None:
    """2-D: all complete trials and the front, architecture on hover; more objectives: a scatter
    matrix with the front highlighted."""
    if len(study.objectives) < 2:
        return None
    done = complete(study)
    if not done:
        return None
    m = len(study.objectives)
    values = np.array([t.values[:m] for t in done], dtype=float)
    mask, _ = fronts(values, study.objectives)
    shown = np.union1d(thin(len(done)), np.flatnonzero(mask))  # every front point, others thinned
    names = [o.name for o in study.objectives]
    text = [f"#{t.number} {t.arch}" for t in done]
    if m == 2:
        order = np.argsort(values[mask][:, 0])
        front = values[mask][order]
        front_text = [text[i] for i in np.flatnonzero(mask)[order]]
        data = [
            {"type": "scatter", "mode": "markers", "name": "trials", "x": values[shown, 0].tolist(),
             "y": values[shown, 1].tolist(), "text": [text[i] for i in shown], "hoverinfo": "x+y+text",
             "marker": {"size": 5, "color": "#8d99ae", "opacity": 0.5}},
            {"type": "scatter", "mode": "lines+markers", "name": "Pareto front",
             "x": front[:, 0].tolist(), "y": front[:, 1].tolist(), "text": front_text,
             "hoverinfo": "x+y+text", "line": {"shape": "hv"},
             "marker": {"size": 8, "color": "#e63946"}},
        ]  # fmt: skip
        title = f"Pareto front ({int(mask.sum())} of {len(done)} complete trials)"
        return {"data": data, "layout": _layout(title, str(study.objectives[0]), str(study.objectives[1]))}
    dims = [{"label": n, "values": values[shown, j].tolist()} for j, n in enumerate(names)]
    colours = ["#e63946" if mask[i] else "#8d99ae" for i in shown]
    data = [{"type": "splom", "dimensions": dims, "text": [text[i] for i in shown], "name": "trials",
             "marker": {"size": 4, "color": colours}, "diagonal": {"visible": False}}]  # fmt: skip
    layout = {"title": {"text": f"Objectives scatter matrix (red: Pareto front, {int(mask.sum())} "
                                f"of {len(done)})"}, "hovermode": "closest", "height": 600}  # fmt: skip
    return {"data": data, "layout": layout}


def hypervolume_curve(study: StudyData, points: int = 40) -> Figure | None:
    """Normalised hypervolume of the front of the first k finished trials, k over the study
    (bounds from all complete trials, reference point 1.1: see report.pareto)."""
    if len(study.objectives) < 2:
        return None
    try:
        from ..pareto import bounds_array, hypervolume
    except ImportError:  # pragma: no cover - pymoo is part of the 'mo' extra
        return None
    done = sorted(complete(study), key=lambda t: (t.finished or 0.0, t.number))
    if len(done) < 2:
        return None
    m = len(study.objectives)
    values = np.array([t.values[:m] for t in done], dtype=float)
    box = bounds_array(study.objectives, None, values)
    ks = sorted({int(k) for k in np.linspace(1, len(done), min(points, len(done)))})
    _, at = fronts(values, study.objectives, ks)
    hv = [hypervolume(values[at[k]], study.objectives, box) for k in ks]
    data = [{"type": "scatter", "mode": "lines+markers", "name": "hypervolume", "x": ks, "y": hv}]
    return {"data": data, "layout": _layout("Hypervolume over the study (normalised, ref 1.1)",
                                            "finished trials", "hypervolume")}  # fmt: skip


# --- importance -----------------------------------------------------------------------------------


def importance(study: StudyData, space: Any, max_rows: int = 2000, seed: int = 0) -> Figure | None:
    """Random-forest importance of each gene (summed over its one-hot columns) and of each
    operation (one-hot columns grouped by the choice, summed over genes) for the first objective.

    Impurity importance from scikit-learn's forest: cheap and good enough to rank genes; it is
    biased towards genes with many choices, which the title says.
    """
    if space is None:
        return None
    from ..architecture import Categorical

    done = complete(study)
    if len(done) < 10:
        return None
    rng = np.random.default_rng(seed)
    if len(done) > max_rows:
        done = [done[i] for i in sorted(rng.choice(len(done), max_rows, replace=False))]
    genes = list(space.genes())
    rows, cache = [], {}
    for trial in done:
        if trial.arch not in cache:
            try:
                cache[trial.arch] = space.to_genes(space.from_string(trial.arch))
            except Exception:  # an architecture the space no longer parses: leave it out
                cache[trial.arch] = None
        if cache[trial.arch] is not None:
            rows.append((cache[trial.arch], float(trial.values[0])))
    if len(rows) < 10:
        return None
    columns: list[tuple[str, str]] = []  # (gene, choice or "") per column
    for gene in genes:
        if isinstance(gene, Categorical):
            columns.extend((gene.name, str(c)) for c in gene.choices)
        else:
            columns.append((gene.name, ""))
    X = np.zeros((len(rows), len(columns)))
    for i, (values, _) in enumerate(rows):
        col = 0
        for gene, value in zip(genes, values):
            if isinstance(gene, Categorical):
                index = value if isinstance(value, (int, np.integer)) else gene.choices.index(value)
                X[i, col + int(index)] = 1.0
                col += gene.size
            else:
                X[i, col] = float(value)
                col += 1
    y = np.array([v for _, v in rows])
    if np.ptp(y) == 0:
        return None
    from sklearn.ensemble import RandomForestRegressor

    forest = RandomForestRegressor(n_estimators=48, min_samples_leaf=2, n_jobs=1,
                                   random_state=seed).fit(X, y)  # fmt: skip
    by_gene: dict[str, float] = {}
    by_op: dict[str, float] = {}
    for (gene, choice), weight in zip(columns, forest.feature_importances_):
        by_gene[gene] = by_gene.get(gene, 0.0) + float(weight)
        if choice:
            by_op[choice] = by_op.get(choice, 0.0) + float(weight)
    gene_order = sorted(by_gene, key=by_gene.get)
    op_order = sorted(by_op, key=by_op.get)[-20:]
    data = [{"type": "bar", "orientation": "h", "name": "gene", "x": [by_gene[g] for g in gene_order],
             "y": gene_order, "xaxis": "x", "yaxis": "y", "marker": {"color": "#457b9d"}}]
    layout = _layout(f"Importance for {study.objectives[0].name} (random forest over one-hot genes, "
                     f"{len(rows)} trials)", "importance", "gene")  # fmt: skip
    layout["xaxis"]["domain"] = [0.0, 0.45] if op_order else [0.0, 1.0]
    if op_order:
        data.append({"type": "bar", "orientation": "h", "name": "operation",
                     "x": [by_op[o] for o in op_order], "y": op_order, "xaxis": "x2",
                     "yaxis": "y2", "marker": {"color": "#e76f51"}})  # fmt: skip
        layout["xaxis2"] = {"domain": [0.58, 1.0], "title": {"text": "importance"}, "anchor": "y2"}
        layout["yaxis2"] = {"anchor": "x2", "title": {"text": "operation"}}
    layout["height"] = max(360, 18 * max(len(gene_order), len(op_order)) + 120)
    layout["yaxis"]["automargin"] = True
    return {"data": data, "layout": layout}


# --- learning curves, ablation --------------------------------------------------------------------


def learning_curves(study: StudyData, metric: str | None = None) -> Figure | None:
    """Intermediate reports (step, metric) of the best trials, from the store's intermediate
    table; the metric is the first objective when trials report it, else the first reported."""
    if not study.curves:
        return None
    metric = metric or _curve_metric(study)
    if metric is None:
        return None
    by_number = {t.number: t for t in study.trials}
    sign = study.objectives[0].sign

    def final(number: int) -> float:
        points = [float(m[metric]) for _, m in study.curves[number] if _finite(m.get(metric))]
        return sign * points[-1] if points else -math.inf

    numbers = sorted(study.curves, key=final, reverse=True)[:MAX_CURVES]
    data = []
    for number in sorted(numbers):
        points = [(s, float(m[metric])) for s, m in study.curves[number] if _finite(m.get(metric))]
        if not points:
            continue
        trial = by_number.get(number)
        state = trial.state.value if trial else "?"
        data.append({"type": "scatter", "mode": "lines+markers", "name": f"#{number} {state}",
                     "x": [p[0] for p in points], "y": [p[1] for p in points],
                     "text": f"#{number} {trial.arch if trial else ''} ({state})",
                     "hoverinfo": "x+y+text", "marker": {"size": 4},
                     "line": {"dash": "dot" if state == "PRUNED" else "solid", "width": 1.5}})  # fmt: skip
    if not data:
        return None
    for trace in data:
        trace["showlegend"] = len(data) <= 12
    title = f"Learning curves: {metric} per step ({len(data)} of {len(study.curves)} trials)"
    return {"data": data, "layout": _layout(title, "step", metric)}


def _curve_metric(study: StudyData) -> str | None:
    names = [o.name for o in study.objectives]
    seen: list[str] = []
    for reports in study.curves.values():
        for _, metrics in reports:
            for key, value in metrics.items():
                if key not in seen and _finite(value):
                    seen.append(key)
    for name in names:
        if name in seen:
            return name
    return seen[0] if seen else None


def ablation(study: StudyData) -> Figure | None:
    """Ablation studies: mean ± std of the metric per removed component (trials grouped by their
    architecture string, which names the component), base first, then by impact."""
    if not study.is_ablation:
        return None
    groups: dict[str, list[float]] = {}
    for trial in complete(study):
        groups.setdefault(trial.arch, []).append(float(trial.values[0]))
    if not groups:
        return None
    sign = study.objectives[0].sign
    names = sorted(groups, key=lambda n: (n != "base", sign * float(np.mean(groups[n]))))
    means = [float(np.mean(groups[n])) for n in names]
    stds = [float(np.std(groups[n], ddof=1)) if len(groups[n]) > 1 else 0.0 for n in names]
    colours = ["#264653" if n == "base" else "#e76f51" for n in names]
    data = [{"type": "bar", "x": names, "y": means, "marker": {"color": colours},
             "error_y": {"type": "data", "array": stds, "visible": True},
             "text": [f"n={len(groups[n])}" for n in names], "name": study.objectives[0].name}]
    return {"data": data, "layout": _layout("Ablation: metric with each component removed "
                                            "(mean ± std over seeds)", "component removed",
                                            study.objectives[0].name)}  # fmt: skip


def _finite(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return math.isfinite(float(value))
