"""Mermaid flowcharts of a report graph (nodes with a category, edges). Pure."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from seeknal.report.svg import COLORS


def mermaid_id(value: Any) -> str:
    return "n_" + re.sub(r"\W", "_", str(value))


def mermaid_label(value: Any) -> str:
    return str(value).replace('"', "#quot;")


def flowchart(graph: Mapping[str, Any]) -> str:
    """The graph as a `flowchart LR`, coloured by category as the plan reports are."""
    lines = ["flowchart LR"]
    for node in graph.get("nodes", []):
        lines.append(
            f'  {mermaid_id(node["id"])}["{mermaid_label(node["id"])}"]:::{node["category"]}'
        )
    for edge in graph.get("edges", []):
        lines.append(f"  {mermaid_id(edge['from'])} --> {mermaid_id(edge['to'])}")
    used = {node["category"] for node in graph.get("nodes", [])}
    for category, (fill, stroke) in COLORS.items():
        if category in used:
            lines.append(f"  classDef {category} fill:{fill},stroke:{stroke},color:#000")
    return "\n".join(lines) + "\n"
