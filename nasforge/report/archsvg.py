"""Architectures drawn as SVG from the space's graph form (``SearchSpace.to_graph``).

Cells (NB201, NB101: DAGs with one label per node) are laid out in layers by longest path from the
input; chains (every node one in, one out) become a row of blocks. Anything the space cannot parse
or draw falls back to the architecture string. Pure string building: no graphviz binary needed.
"""

from __future__ import annotations

import hashlib
from html import escape
from typing import Any

from ..architecture import LabelledDAG

BOX_W, BOX_H, GAP_X, GAP_Y = 112, 30, 46, 16
FIXED = {"input": "#264653", "output": "#264653", "none": "#cfd4da", "skip_connect": "#a8dadc",
         "avg_pool_3x3": "#f4a261", "maxpool3x3": "#f4a261", "nor_conv_1x1": "#90be6d",
         "nor_conv_3x3": "#2a9d8f", "conv1x1-bn-relu": "#90be6d", "conv3x3-bn-relu": "#2a9d8f"}


def colour(label: str) -> str:
    if label in FIXED:
        return FIXED[label]
    hue = int(hashlib.sha1(label.encode()).hexdigest()[:4], 16) % 360  # stable across runs
    return f"hsl({hue},55%,62%)"


def draw(space: Any, arch: str) -> str:
    """SVG of ``arch`` in ``space`` (None: no space), or the escaped string when it cannot."""
    if space is not None:
        try:
            graph = space.to_graph(space.from_string(arch))
            return draw_graph(graph, title=arch)
        except Exception:  # a space without a graph form, or a string it rejects: show the text
            pass
    return f'<code class="arch">{escape(arch)}</code>'


def is_chain(graph: LabelledDAG) -> bool:
    n = len(graph.labels)
    return sorted(graph.edges) == [(i, i + 1) for i in range(n - 1)]


def draw_graph(graph: LabelledDAG, title: str = "") -> str:
    n = len(graph.labels)
    if is_chain(graph):
        pos = {i: (i, 0) for i in range(n)}
    else:
        depth = [0] * n
        for src, dst in sorted(graph.edges, key=lambda e: e[1]):  # topological: src < dst
            depth[dst] = max(depth[dst], depth[src] + 1)
        rows: dict[int, int] = {}
        pos = {}
        for i in range(n):
            pos[i] = (depth[i], rows.get(depth[i], 0))
            rows[depth[i]] = rows.get(depth[i], 0) + 1
        tallest = max(rows.values())
        pos = {i: (c, r + (tallest - rows[c]) / 2) for i, (c, r) in pos.items()}  # centre columns
    cols = max(c for c, _ in pos.values()) + 1
    height_rows = max(r for _, r in pos.values()) + 1
    width = cols * (BOX_W + GAP_X) - GAP_X + 20
    height = int(height_rows * (BOX_H + GAP_Y) - GAP_Y + 20)

    def xy(i: int) -> tuple[float, float]:
        c, r = pos[i]
        return 10 + c * (BOX_W + GAP_X), 10 + r * (BOX_H + GAP_Y)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="arch-svg" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}" role="img">',
             f"<title>{escape(title)}</title>",
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" '
             'markerHeight="6" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
             'fill="#555"/></marker></defs>']  # fmt: skip
    for src, dst in graph.edges:
        (x1, y1), (x2, y2) = xy(src), xy(dst)
        sx, sy, ex, ey = x1 + BOX_W, y1 + BOX_H / 2, x2, y2 + BOX_H / 2
        if ex <= sx:  # same column (never for DAG layers) or backwards: route below
            ex, ey = x2 + BOX_W / 2, y2
        mid = (sx + ex) / 2
        parts.append(f'<path d="M{sx:.0f},{sy:.0f} C{mid:.0f},{sy:.0f} {mid:.0f},{ey:.0f} '
                     f'{ex:.0f},{ey:.0f}" fill="none" stroke="#555" stroke-width="1.3" '
                     f'marker-end="url(#arrow)"/>')  # fmt: skip
    for i, label in enumerate(graph.labels):
        x, y = xy(i)
        fill = colour(label)
        text_colour = "#fff" if label in ("input", "output") else "#111"
        short = label if len(label) <= 17 else label[:16] + "…"
        parts.append(f'<g><title>{escape(label)}</title><rect x="{x:.0f}" y="{y:.0f}" '
                     f'width="{BOX_W}" height="{BOX_H}" rx="6" fill="{fill}" stroke="#333" '
                     f'stroke-width="0.8"/><text x="{x + BOX_W / 2:.0f}" y="{y + BOX_H / 2 + 4:.0f}" '
                     f'text-anchor="middle" font-family="sans-serif" font-size="11" '
                     f'fill="{text_colour}">{escape(short)}</text></g>')  # fmt: skip
    parts.append("</svg>")
    return "".join(parts)
