"""`nasforge report --html`: one self-contained HTML file (plotly.js inlined, nothing fetched when
it is opened), built from the store alone."""

from __future__ import annotations

import json
import time
from html import escape
from pathlib import Path
from typing import Any, Sequence

from .data import StudyData
from .views import best_architectures, compare_figures, space_for, study_figures, summary

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:0 auto;max-width:1200px;
padding:1em 2em;color:#222;background:#fafafa}
h1{margin-bottom:.2em} h2{border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:2em}
.meta{color:#555} .plot{background:#fff;border:1px solid #e3e3e3;border-radius:6px;margin:1em 0;
min-height:380px} table{border-collapse:collapse;background:#fff} td,th{border:1px solid #ddd;
padding:4px 8px;text-align:left;font-size:14px} .arch{font-family:monospace;word-break:break-all}
.best{background:#fff;border:1px solid #e3e3e3;border-radius:6px;padding:.6em 1em;margin:.6em 0;
overflow-x:auto} .counts span{margin-right:1em}
"""


def plotly_js() -> str:
    """plotly.js as shipped inside the plotly Python package (no network)."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def render(studies: Sequence[StudyData], now: float | None = None) -> str:
    """The whole page for one study or (several) a comparison."""
    now = time.time() if now is None else now
    body: list[str] = []
    scripts: list[tuple[str, dict[str, Any]]] = []
    names = ", ".join(s.name for s in studies)
    title = f"nasforge report: {names}"
    body.append(f"<h1>{escape(title)}</h1><p class='meta'>generated "
                f"{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(now))} from the study store</p>")
    if len(studies) > 1:
        body.append("<h2>Comparison</h2>" + _compare_table(studies))
        for view in compare_figures(studies):
            body.append(_plot_div(view["id"], view["title"]))
            scripts.append((view["id"], view["figure"]))
    for i, study in enumerate(studies):
        space = space_for(study)
        info = summary(study)
        prefix = f"s{i}-"
        body.append(f"<section class='study' data-study='{escape(study.name)}'>"
                    f"<h2>{escape(study.name)}</h2>{_meta(info)}")  # fmt: skip
        best = best_architectures(study, space)
        if best:
            body.append("<h3>Best architectures</h3>")
            for item in best:
                values = ", ".join(f"{k}={v:.4g}" for k, v in item["values"].items())
                body.append(f"<div class='best'><b>#{item['number']}</b> {escape(values)}<br>"
                            f"<span class='arch'>{escape(item['arch'])}</span><br>{item['svg']}</div>")
        for view in study_figures(study, space, now):
            div = prefix + view["id"]
            body.append(_plot_div(div, view["title"]))
            scripts.append((div, view["figure"]))
        body.append("</section>")
    calls = "\n".join(
        f"Plotly.newPlot({_js(div)}, {_js(fig['data'])}, {_js(fig['layout'])}, "
        "{responsive: true, displaylogo: false});"
        for div, fig in scripts
    )
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{escape(title)}</title>"
            f"<style>{STYLE}</style><script>{plotly_js()}</script></head><body>{''.join(body)}"
            f"<script>{calls}</script></body></html>")  # fmt: skip


def write(studies: Sequence[StudyData], path: str | Path) -> Path:
    path = Path(path)
    path.write_text(render(studies), encoding="utf-8")
    return path


def _js(value: Any) -> str:
    """JSON as a script literal: '</' escaped so no string can close the <script> element."""
    return json.dumps(value).replace("</", "<\\/")


def _plot_div(div: str, title: str) -> str:
    return f"<div class='plot' id='{escape(div)}' data-title='{escape(title)}'></div>"


def _meta(info: dict[str, Any]) -> str:
    counts = "".join(f"<span>{k.lower()}: <b>{v}</b></span>" for k, v in info["counts"].items())
    parts = [f"{k}: <b>{escape(str(info[k]))}</b>" for k in ("space", "strategy", "dataset", "budget")
             if info.get(k) is not None]  # fmt: skip
    parts.append(f"objectives: <b>{escape(', '.join(info['objectives']))}</b>")
    return f"<p class='meta'>{' · '.join(parts)}</p><p class='counts'>{counts}</p>"


def _compare_table(studies: Sequence[StudyData]) -> str:
    rows = ["<table><tr><th>study</th><th>strategy</th><th>trials</th><th>best</th>"
            "<th>architecture</th></tr>"]
    for study in studies:
        info = summary(study)
        best = info["best"]
        value = "-" if best is None else f"{best['values'][0]:.4g}"
        arch = "-" if best is None else best["arch"]
        rows.append(f"<tr><td>{escape(study.name)}</td><td>{escape(str(info['strategy']))}</td>"
                    f"<td>{info['n_trials']}</td><td>{value}</td>"
                    f"<td class='arch'>{escape(arch)}</td></tr>")
    return "".join(rows) + "</table>"
