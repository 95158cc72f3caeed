"""The dashboard app (Starlette): pages are static shells, the data comes from JSON endpoints
that the page polls, so a trial finished by the running study appears without a reload.

Read-only on the store: the file is opened with ``mode=ro`` (WAL readers never block the study's
writer). Each poll first asks SQLite for a cheap fingerprint of the study (trial count, last
finish, running count); only when it changed are the figures rebuilt, at most once every
``rebuild_every`` seconds however many pages poll, and the random-forest importance at most every
``heavy_every`` seconds in a background thread, which keeps the dashboard's CPU use on a running
study small.
"""

from __future__ import annotations

import threading
import time
from html import escape
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from ..errors import StorageError
from ..report import data
from ..report.html import STYLE, plotly_js
from ..report.views import best_architectures, space_for, study_figures, summary

RECENT = 25  # rows in the table of last finished trials


class StudyCache:
    """Per-study views, rebuilt only when the store's fingerprint of the study changes."""

    def __init__(self, path: str | Path, heavy_every: float = 30.0, rebuild_every: float = 3.0) -> None:
        self.store = data.open_read_only(path)
        self.heavy_every = heavy_every
        self.rebuild_every = rebuild_every  # at most one rebuild per study this often
        self._built: dict[str, float] = {}
        self.lock = threading.Lock()
        self._views: dict[str, tuple[tuple, dict[str, Any]]] = {}
        self._heavy: dict[str, tuple[float, int, Any]] = {}
        self._spaces: dict[str, Any] = {}
        self._fitting: set[str] = set()

    def studies(self) -> list[dict[str, Any]]:
        with self.lock:
            out = []
            for name in self.store.study_names():
                record = data.record(self.store, name)
                out.append({"name": name, "space": record.config.get("space"),
                            "strategy": record.config.get("strategy") or record.config.get("kind"),
                            "counts": self.store.counts(record.study_id)})  # fmt: skip
            return out

    def fingerprint(self, name: str) -> tuple:
        record = data.record(self.store, name)
        row = self.store._db.execute(
            "SELECT COUNT(*), MAX(finished), SUM(state = 'RUNNING'), MAX(started) FROM trials "
            "WHERE study_id = ?", (record.study_id,)).fetchone()  # fmt: skip
        return tuple(row)

    def views(self, name: str) -> dict[str, Any]:
        with self.lock:
            heavy = self._heavy.get(name)
            key = self.fingerprint(name) + (0.0 if heavy is None else round(heavy[0], 3),)
            cached = self._views.get(name)
            if cached is not None and (cached[0] == key or time.monotonic() - self._built[name]
                                       < self.rebuild_every):  # fmt: skip
                return cached[1]
            study = data.load(self.store, name)
            if name not in self._spaces:
                self._spaces[name] = space_for(study)
            space = self._spaces[name]
            figures = study_figures(study, space, heavy=False)
            figures.extend(self._importance(name, study, space))
            finished = sorted((t for t in study.trials if t.finished is not None),
                              key=lambda t: t.finished, reverse=True)[:RECENT]  # fmt: skip
            payload = {
                "version": "-".join(str(v) for v in key),
                "summary": summary(study),
                "figures": figures,
                "best": best_architectures(study, space),
                "recent": [{"number": t.number, "state": t.state.value, "arch": t.arch,
                            "values": t.values, "seconds": t.duration} for t in finished],
            }  # fmt: skip
            self._views[name] = (key, payload)
            self._built[name] = time.monotonic()
            return payload

    def _importance(self, name: str, study: data.StudyData, space: Any) -> list[dict[str, Any]]:
        """The last importance figure; a newer one is fitted in a background thread (so the
        first page load does not wait for the forest) and the next poll picks it up, because its
        time stamp is part of the version."""
        n = len(study.trials)
        last = self._heavy.get(name)
        due = last is None or (time.monotonic() - last[0] >= self.heavy_every and n != last[1])
        if due and name not in self._fitting:
            self._fitting.add(name)
            threading.Thread(target=self._fit, args=(name, study, space), daemon=True).start()
        if last is None or last[2] is None:
            return []
        return [{"id": "importance", "title": "Importance", "figure": last[2]}]

    def _fit(self, name: str, study: data.StudyData, space: Any) -> None:
        from ..report import figures
        from ..report.views import clean

        try:
            figure = figures.importance(study, space)
        except Exception:  # a study the forest cannot fit: no importance view, the rest goes on
            figure = None
        with self.lock:
            self._heavy[name] = (time.monotonic(), len(study.trials),
                                 None if figure is None else clean(figure))  # fmt: skip
            self._fitting.discard(name)


def create_app(storage: str | Path, poll_seconds: float = 2.0, heavy_every: float = 30.0) -> Starlette:
    """The app over one study file; ``poll_seconds`` is how often pages ask for new trials."""
    cache = StudyCache(storage, heavy_every)
    script = plotly_js().encode()
    title = f"nasforge dashboard: {escape(Path(storage).name)}"

    async def index(request: Request) -> HTMLResponse:
        rows = []
        for item in cache.studies():
            counts = " ".join(f"{k.lower()}={v}" for k, v in item["counts"].items() if v)
            href = f"study/{escape(item['name'])}"
            rows.append(f"<tr><td><a href='{href}'>{escape(item['name'])}</a></td>"
                        f"<td>{escape(str(item['space']))}</td><td>{escape(str(item['strategy']))}</td>"
                        f"<td class='counts' data-study='{escape(item['name'])}'>"
                        f"{escape(counts or 'empty')}</td></tr>")  # fmt: skip
        body = (f"<h1>{title}</h1><p class='meta'>{escape(str(Path(storage).resolve()))} "
                f"(read-only)</p><table id='studies'><tr><th>study</th><th>space</th>"
                f"<th>strategy</th><th>trials</th></tr>{''.join(rows)}</table>")  # fmt: skip
        return HTMLResponse(_page(title, body, _INDEX_JS % int(poll_seconds * 1000), plotly=False))

    async def study_page(request: Request) -> HTMLResponse:
        name = request.path_params["name"]
        if name not in cache.store.study_names():  # noqa: SIM102
            return HTMLResponse(_page(title, f"<h1>no study {escape(name)!s}</h1>"
                                      "<p><a href='/'>studies</a></p>", ""), status_code=404)  # fmt: skip
        body = (f"<p><a href='/'>&larr; studies</a></p><h1>{escape(name)}</h1>"
                "<p class='meta' id='meta'></p><p class='counts' id='counts'></p>"
                "<p class='meta'>updated <span id='updated'>never</span> · version "
                "<span id='version'></span></p><h3>Best architectures</h3><div id='best'></div>"
                "<div id='plots'></div><h3>Last finished trials</h3><table id='recent'></table>")
        return HTMLResponse(_page(f"{escape(name)} · nasforge", body,
                                  _LIVE_JS % {"name": _js_string(name), "poll": int(poll_seconds * 1000)}))

    def api_studies(request: Request) -> JSONResponse:
        return JSONResponse(cache.studies())

    def api_study(request: Request) -> JSONResponse:
        try:
            payload = cache.views(request.path_params["name"])
        except StorageError as exc:
            return JSONResponse({"error": str(exc)}, status_code=404)
        if request.query_params.get("version") == payload["version"]:
            return JSONResponse({"version": payload["version"], "unchanged": True})
        return JSONResponse(payload)

    async def plotly(request: Request) -> Response:
        return Response(script, media_type="application/javascript",
                        headers={"Cache-Control": "max-age=86400"})

    routes = [
        Route("/", index),
        Route("/study/{name:path}", study_page),
        Route("/api/studies", api_studies),
        Route("/api/study/{name:path}", api_study),
        Route("/static/plotly.js", plotly),
    ]
    app = Starlette(routes=routes)
    app.state.cache = cache
    return app


def _js_string(text: str) -> str:
    import json

    return json.dumps(text).replace("</", "<\\/")


def _page(title: str, body: str, script: str, plotly: bool = True) -> str:
    plotly_tag = "<script src='/static/plotly.js'></script>" if script and plotly else ""
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
            f"<link rel='icon' href='data:,'><style>{STYLE}</style>{plotly_tag}</head><body>{body}"
            f"<script>{script}</script></body></html>")  # fmt: skip


_INDEX_JS = r"""
async function refresh() {  // trial counts of every study, live
  try {
    const r = await fetch('/api/studies');
    if (r.ok) for (const s of await r.json()) {
      const cell = [...document.querySelectorAll('td.counts')].find(td => td.dataset.study === s.name);
      if (cell) cell.textContent = Object.entries(s.counts).filter(([k, v]) => v)
        .map(([k, v]) => k.toLowerCase() + '=' + v).join(' ') || 'empty';
    }
  } catch (e) { /* server restarting: next tick */ }
  setTimeout(refresh, %d);
}
setTimeout(refresh, 0);
"""

_LIVE_JS = r"""
const NAME = %(name)s, POLL = %(poll)d;
let version = null;
function esc(s) { const d = document.createElement('div'); d.textContent = String(s); return d.innerHTML; }
function fmt(v) { return (typeof v === 'number') ? (Math.abs(v) >= 1e4 || Math.abs(v) < 1e-3 && v !== 0 ? v.toExponential(3) : +v.toPrecision(5)) : (v === null || v === undefined ? '-' : v); }
function render(p) {
  const s = p.summary;
  document.getElementById('meta').innerHTML = ['space', 'strategy', 'dataset', 'budget']
    .filter(k => s[k] !== null && s[k] !== undefined).map(k => k + ': <b>' + esc(s[k]) + '</b>')
    .concat(['objectives: <b>' + esc(s.objectives.join(', ')) + '</b>']).join(' · ');
  document.getElementById('counts').innerHTML = Object.entries(s.counts)
    .map(([k, v]) => '<span>' + k.toLowerCase() + ': <b data-count="' + k + '">' + v + '</b></span>').join('');
  document.getElementById('best').innerHTML = p.best.map(b => '<div class="best"><b>#' + b.number + '</b> ' +
    esc(Object.entries(b.values).map(([k, v]) => k + '=' + fmt(v)).join(', ')) +
    '<br><span class="arch">' + esc(b.arch) + '</span><br>' + b.svg + '</div>').join('');
  const plots = document.getElementById('plots');
  for (const view of p.figures) {
    let div = document.getElementById('plot-' + view.id);
    if (!div) {
      div = document.createElement('div');
      div.id = 'plot-' + view.id; div.className = 'plot'; div.dataset.title = view.title;
      plots.appendChild(div);
    }
    Plotly.react(div, view.figure.data, view.figure.layout, {responsive: true, displaylogo: false});
  }
  document.getElementById('recent').innerHTML = '<tr><th>#</th><th>state</th><th>values</th><th>seconds</th><th>architecture</th></tr>' +
    p.recent.map(t => '<tr data-trial="' + t.number + '"><td>' + t.number + '</td><td>' + t.state + '</td><td>' +
      (t.values ? t.values.map(fmt).join(', ') : '-') + '</td><td>' + fmt(t.seconds) + '</td><td class="arch">' +
      esc(t.arch) + '</td></tr>').join('');
  document.getElementById('version').textContent = p.version;
}
async function poll() {
  try {
    const r = await fetch('/api/study/' + encodeURIComponent(NAME) + (version ? '?version=' + encodeURIComponent(version) : ''));
    if (r.ok) {
      const p = await r.json();
      if (!p.unchanged) { render(p); version = p.version; }
      document.getElementById('updated').textContent = new Date().toLocaleTimeString();
    }
  } catch (e) { /* the server restarted or is busy: try again at the next tick */ }
  setTimeout(poll, POLL);
}
poll();
"""
