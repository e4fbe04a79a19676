"""The report model of a production plan: what `seeknal run` on the production branch would do.

The same shape as an env plan's report (docs/report-schema.md), so that the shipped templates
and custom ones render it: nodes to run are listed with their reason (category `computed`),
nodes no longer in the project as `removed`, and `production` adds what only a production plan
has (the cached nodes, what cannot execute yet).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from seeknal.report.model import CATEGORY_ORDER, REPORT_SCHEMA_VERSION, _graph, sql_diff


@dataclass(frozen=True)
class NodeAction:
    """One node of a production plan: `run`, `cached` or `unsupported`, and why."""

    node_id: str
    action: str
    reason: str


def build_production_report(
    actions: Sequence[NodeAction],
    removed: Sequence[str],
    manifest: Mapping[str, Any],
    previous: Mapping[str, Any] | None = None,
    base_fingerprint: str | None = None,
) -> dict[str, Any]:
    """`manifest`: the project as it is now; `previous`: the nodes production last ran."""
    head_nodes: dict[str, Any] = dict(manifest.get("nodes") or {})
    base_nodes: dict[str, Any] = dict(previous or {})
    to_run = [a for a in actions if a.action == "run"]
    cached = [a.node_id for a in actions if a.action == "cached"]
    idle = [a.node_id for a in actions if a.action == "unsupported"]
    nodes = [_node(a.node_id, "computed", a.reason, True, head_nodes, base_nodes) for a in to_run]
    nodes += [
        _node(n, "removed", "no longer in the project", False, head_nodes, base_nodes)
        for n in removed
    ]
    counts = {c: 0 for c in CATEGORY_ORDER}
    counts["removed"] = len(removed)
    cats = {n["id"]: n["category"] for n in nodes}
    return {
        "schema_version": REPORT_SCHEMA_VERSION,
        "kind": "seeknal-plan-report",
        "project": (manifest.get("metadata") or {}).get("project"),
        "env": None,
        "plan_id": None,
        "created_at": (manifest.get("metadata") or {}).get("generated_at"),
        "manifest_fingerprint": manifest.get("fingerprint"),
        "base_fingerprint": base_fingerprint,
        "git": None,
        "summary": {
            "text": _summary_text(len(to_run), len(cached), len(idle), len(removed)),
            "changed": len(removed),
            "downstream": 0,
            "to_execute": len(to_run),
            "total_nodes": len(actions),
            "by_category": counts,
        },
        "nodes": nodes,
        "graph": _graph(set(cats), cats, head_nodes, base_nodes),
        "run": None,
        "data_changes": None,
        "commands": ["seeknal plan", "seeknal run"],
        "omitted": {},
        "stale": None,
        "production": {"to_run": len(to_run), "cached": cached, "not_executable": idle},
    }


def _node(
    node_id: str,
    category: str,
    reason: str,
    executes: bool,
    head_nodes: Mapping[str, Any],
    base_nodes: Mapping[str, Any],
) -> dict[str, Any]:
    head = head_nodes.get(node_id) or {}
    base = base_nodes.get(node_id) or {}
    diff = sql_diff(base.get("sql"), head.get("sql"), node_id) if base.get("sql") else ""
    return {
        "id": node_id,
        "kind": head.get("type") or base.get("type") or node_id.split(".", 1)[0],
        "category": category,
        "direct": category == "removed",
        "reason": reason,
        "executes": executes,
        "file_path": head.get("file_path") or base.get("file_path"),
        "description": head.get("description") or base.get("description") or "",
        "sql_diff": diff if diff.count("\n") > 1 else "",
        "downstream": [],
    }


def _summary_text(to_run: int, cached: int, idle: int, removed: int) -> str:
    if not to_run and not removed:
        return f"Nothing to do: all {cached} nodes are up to date."
    text = f"{to_run} node(s) to run, {cached} cached"
    if idle:
        text += f", {idle} not executable yet"
    if removed:
        text += f", {removed} removed"
    return text + "."
