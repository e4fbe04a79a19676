"""An inline SVG drawing of the affected part of the DAG (layers left to right). Pure."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

COLORS = {
    "breaking": ("#fde2e1", "#c62828"),
    "indirect_breaking": ("#fff0ef", "#e57373"),
    "non_breaking": ("#fff4d6", "#b26a00"),
    "indirect_non_breaking": ("#fffaeb", "#d4a017"),
    "metadata": ("#e3f0fd", "#1565c0"),
    "added": ("#e3f7e5", "#2e7d32"),
    "removed": ("#f3e5f5", "#6a1b9a"),
    "computed": ("#eeeeee", "#616161"),
    "unchanged": ("#ffffff", "#9e9e9e"),
}
BOX_W, BOX_H, GAP_X, GAP_Y, PAD = 210, 34, 60, 14, 16


def render_svg(graph: Mapping[str, Any]) -> str:
    nodes = {n["id"]: n for n in graph.get("nodes", [])}
    if not nodes:
        return ""
    parents: dict[str, list[str]] = {n: [] for n in nodes}
    for edge in graph.get("edges", []):
        if edge["from"] in nodes and edge["to"] in nodes:
            parents[edge["to"]].append(edge["from"])
    depth: dict[str, int] = {}

    def level(node_id: str, seen: frozenset[str] = frozenset()) -> int:
        if node_id in depth:
            return depth[node_id]
        if node_id in seen:
            return 0
        ups = [level(p, seen | {node_id}) for p in parents[node_id]]
        depth[node_id] = 1 + max(ups) if ups else 0
        return depth[node_id]

    for node_id in sorted(nodes):
        level(node_id)
    columns: dict[int, list[str]] = {}
    for node_id in sorted(nodes):
        columns.setdefault(depth[node_id], []).append(node_id)
    pos: dict[str, tuple[int, int]] = {}
    for col, ids in columns.items():
        for row, node_id in enumerate(ids):
            pos[node_id] = (PAD + col * (BOX_W + GAP_X), PAD + row * (BOX_H + GAP_Y))
    width = PAD * 2 + (max(columns) + 1) * (BOX_W + GAP_X) - GAP_X
    height = PAD * 2 + max(len(v) for v in columns.values()) * (BOX_H + GAP_Y) - GAP_Y
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="affected DAG" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" class="dag">'
    ]
    for node_id, ups in parents.items():
        x2, y2 = pos[node_id]
        for up in ups:
            x1, y1 = pos[up]
            sx, sy, ex, ey = x1 + BOX_W, y1 + BOX_H // 2, x2, y2 + BOX_H // 2
            mid = (sx + ex) // 2
            parts.append(
                f'<path d="M{sx},{sy} C{mid},{sy} {mid},{ey} {ex},{ey}" fill="none" '
                'stroke="#9e9e9e" stroke-width="1.2"/>'
            )
    for node_id, (x, y) in pos.items():
        category = str(nodes[node_id].get("category", "unchanged"))
        fill, stroke = COLORS.get(category, COLORS["unchanged"])
        label = node_id if len(node_id) <= 30 else node_id[:28] + "…"
        dash = ' stroke-dasharray="4 3"' if category == "unchanged" else ""
        parts.append(
            f'<g class="node {escape(category)}"><title>{escape(node_id)} ({escape(category)})'
            f'</title><rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="6" '
            f'fill="{fill}" stroke="{stroke}" stroke-width="1.5"{dash}/>'
            f'<text x="{x + 8}" y="{y + 21}" font-size="12" font-family="sans-serif" '
            f'fill="#212121">{escape(label)}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)
