"""The report model: everything a reader needs to understand a plan, as plain JSON-able data.

Pure: built from a plan (plan.json or a revision plan), the manifest it was made from, and
optionally the env's run results. Renderers never compute anything themselves.
"""

from __future__ import annotations

import difflib
from collections import deque
from collections.abc import Mapping
from typing import Any

from seeknal.state.records import Plan

REPORT_SCHEMA_VERSION = "1.1"
GIT_KEYS = ("branch", "base_ref", "base", "head")
CATEGORY_ORDER = (
    "breaking",
    "non_breaking",
    "metadata",
    "added",
    "removed",
    "indirect_breaking",
    "indirect_non_breaking",
)
DIRECT = {"breaking", "non_breaking", "metadata", "added", "removed"}
# direct changes whose effect reaches downstream nodes (a description edit reaches none)
IMPACTING = DIRECT - {"metadata"}
MAX_DIFF_LINES = 400


def sql_diff(old: str | None, new: str | None, node_id: str) -> str:
    if old is None and new is None:
        return ""
    lines = difflib.unified_diff(
        (old or "").splitlines(),
        (new or "").splitlines(),
        fromfile=f"a/{node_id}",
        tofile=f"b/{node_id}",
        lineterm="",
        n=3,
    )
    out = list(lines)
    if len(out) > MAX_DIFF_LINES:
        out = out[:MAX_DIFF_LINES] + [f"... {len(out) - MAX_DIFF_LINES} more diff lines"]
    return "\n".join(out)


def _downstream(node_id: str, kids: Mapping[str, list[str]], within: set[str]) -> list[str]:
    seen: set[str] = set()
    stack = list(kids.get(node_id, []))
    while stack:
        kid = stack.pop()
        if kid in seen:
            continue
        seen.add(kid)
        stack.extend(kids.get(kid, []))
    return sorted(seen & within)


def build_report(
    plan: Plan | Mapping[str, Any],
    manifest: Mapping[str, Any],
    run: Mapping[str, Any] | None = None,
    project: str | None = None,
    stale: str | None = None,
    data_changes: list[dict[str, Any]] | None = None,
    graph: bool = True,
) -> dict[str, Any]:
    """`run` (optional) maps node id → {status, rows, seconds, prod_rows, schema_added, ...};
    `data_changes` (optional, once applied) the data diff of each node the env computed or
    removes, in report order (docs/report-schema.md). `graph=False` leaves the graph out (None):
    the terminal view does not draw it (~10 ms of thousands of affected nodes)."""
    if isinstance(plan, Plan):
        plan = plan.to_json()
    cats: dict[str, str] = dict(plan.get("categorized_changes") or {})
    to_execute: list[str] = list(plan.get("nodes_to_execute") or [])
    base_nodes: dict[str, Any] = dict(plan.get("base_nodes") or {})
    head_nodes: dict[str, Any] = dict(manifest.get("nodes") or {})
    affected = set(cats) | set(to_execute)
    nodes = _report_nodes(plan, head_nodes, affected, run)
    counts = {c: sum(1 for n in nodes if n["category"] == c) for c in CATEGORY_ORDER}
    direct = [n for n in nodes if n["direct"]]
    total = int(plan.get("total_nodes") or len(head_nodes))
    env = plan.get("env_name")
    # every key present (null when unknown), so templates and readers need no guards
    git = {k: (plan.get("git") or {}).get(k) for k in GIT_KEYS} if plan.get("git") else {}
    return {
        "schema_version": REPORT_SCHEMA_VERSION,
        "kind": "seeknal-plan-report",
        "project": project or (manifest.get("metadata") or {}).get("project"),
        "env": env,
        "plan_id": plan.get("plan_id"),
        "created_at": plan.get("created_at"),
        "manifest_fingerprint": plan.get("manifest_fingerprint"),
        "base_fingerprint": plan.get("base_fingerprint"),
        "git": git or None,
        "summary": {
            "text": _summary_text(counts, len(direct), len(to_execute), total),
            "changed": len(direct),
            "downstream": len(nodes) - len(direct),
            "to_execute": len(to_execute),
            "total_nodes": total,
            "by_category": counts,
        },
        "nodes": nodes,
        "graph": _graph(affected, cats, head_nodes, base_nodes) if graph else None,
        "run": _run_summary(run) if run is not None else None,
        "data_changes": data_changes,
        "commands": _commands(env, git),
        "omitted": {},
        "stale": stale,
        "promoted": None,  # once promoted: {into, time, promotion_id, data_unavailable}
    }


def _report_nodes(
    plan: Mapping[str, Any],
    head_nodes: Mapping[str, Any],
    affected: set[str],
    run: Mapping[str, Any] | None,
) -> list[dict[str, Any]]:
    """One entry per affected node, most severe category first."""
    cats: dict[str, str] = dict(plan.get("categorized_changes") or {})
    reasons: dict[str, str] = dict(plan.get("reasons") or {})
    to_execute = set(plan.get("nodes_to_execute") or [])
    base_nodes: dict[str, Any] = dict(plan.get("base_nodes") or {})
    kids: dict[str, list[str]] = {}
    for node_id, entry in head_nodes.items():
        for up in entry.get("inputs") or []:
            kids.setdefault(up, []).append(node_id)
    rank = {c: i for i, c in enumerate(CATEGORY_ORDER)}
    nodes = []
    for node_id in sorted(affected, key=lambda n: (rank.get(cats.get(n, ""), 99), n)):
        head = head_nodes.get(node_id) or {}
        base = base_nodes.get(node_id) or {}
        category = cats.get(node_id, "computed")
        diff = ""
        if category in ("breaking", "non_breaking", "added", "removed"):
            diff = sql_diff(base.get("sql"), head.get("sql"), node_id)
        item: dict[str, Any] = {
            "id": node_id,
            "kind": head.get("type") or base.get("type") or node_id.split(".", 1)[0],
            "category": category,
            "direct": category in DIRECT,
            "reason": reasons.get(node_id, ""),
            "executes": node_id in to_execute,
            "file_path": head.get("file_path") or base.get("file_path"),
            "description": head.get("description") or base.get("description") or "",
            "sql_diff": diff,
            "downstream": _downstream(node_id, kids, affected) if category in IMPACTING else [],
        }
        if run is not None and node_id in run:
            item["run"] = dict(run[node_id])
        nodes.append(item)
    return nodes


def _summary_text(counts: Mapping[str, int], direct: int, to_execute: int, total: int) -> str:
    if not direct and not to_execute:
        return "No changes against production."
    parts = [
        f"{counts[c]} {label}"
        for c, label in (
            ("breaking", "breaking"),
            ("non_breaking", "non-breaking"),
            ("metadata", "metadata"),
            ("added", "added"),
            ("removed", "removed"),
        )
        if counts[c]
    ]
    downstream = counts["indirect_breaking"] + counts["indirect_non_breaking"]
    return (
        f"{direct} changed node(s) ({', '.join(parts) or 'none'}), {downstream} downstream; "
        f"{to_execute} of {total} nodes to execute."
    )


def _graph(
    affected: set[str],
    cats: Mapping[str, str],
    head_nodes: Mapping[str, Any],
    base_nodes: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The affected part of the DAG plus one level of unchanged parents for context.

    Removed nodes are drawn from the plan's base snapshot, attached to parents that still exist."""
    removed = {
        n: base
        for n, base in (base_nodes or {}).items()
        if n in affected and n not in head_nodes and cats.get(n) == "removed"
    }
    inputs = {n: list(head_nodes[n].get("inputs") or []) for n in affected if n in head_nodes}
    inputs.update({n: list(base.get("inputs") or []) for n, base in removed.items()})
    members = set(inputs)
    parents = {up for n in members for up in inputs[n] if up not in members and up in head_nodes}
    shown = members | parents
    ids = sorted(shown)
    edges = [{"from": up, "to": n} for n in ids if n in members for up in inputs[n] if up in shown]

    def kind(n: str) -> Any:
        entry = head_nodes.get(n) or removed.get(n) or {}
        return entry.get("type") or n.split(".", 1)[0]

    return {
        "nodes": [
            {
                "id": n,
                "kind": kind(n),
                "category": cats.get(n, "computed" if n in members else "unchanged"),
            }
            for n in ids
        ],
        "edges": edges,
    }


def _run_summary(run: Mapping[str, Any]) -> dict[str, Any]:
    statuses: dict[str, int] = {}
    for entry in run.values():
        status = str(entry.get("status"))
        statuses[status] = statuses.get(status, 0) + 1
    return {"applied": True, "statuses": dict(sorted(statuses.items()))}


def _commands(env: str | None, git: Mapping[str, Any]) -> list[str]:
    commands = []
    if git.get("branch"):
        commands.append(f"git checkout {git['branch']}")
    if env:
        commands += [
            f"seeknal plan {env}",
            f"seeknal run --env {env}",
            f"seeknal report {env} --format markdown",
            f"seeknal promote {env}",
        ]
    elif git.get("base_ref"):
        head = git.get("head", "HEAD")
        commands.append(f"seeknal plan --base {git['base_ref']} --head {str(head)[:12]}")
    return commands


def fold(report: dict[str, Any], details: int, graph: int, listed: int) -> dict[str, Any]:
    """A copy of `report` limited to `details` SQL diffs, `graph` graph nodes and `listed`
    listed nodes, recording what was left out (`omitted`)."""
    folded = dict(report)
    nodes = report["nodes"]
    shown = []
    dropped_diffs = 0
    for index, node in enumerate(nodes[:listed]):
        copy = dict(node)
        if index >= details and copy.get("sql_diff"):
            copy["sql_diff"] = ""
            copy["folded"] = True
            dropped_diffs += 1
        if index >= details and len(copy["downstream"]) > 10:
            copy["downstream_total"] = len(copy["downstream"])
            copy["downstream"] = copy["downstream"][:10]
        shown.append(copy)
    folded["nodes"] = shown
    data = report.get("data_changes")
    if data is not None:
        folded["data_changes"] = data[:listed]
    graph_nodes = report["graph"]["nodes"]
    if len(graph_nodes) > graph:
        keep_ids = set(_graph_priority(report["graph"])[:graph])
        folded["graph"] = {
            "nodes": [g for g in graph_nodes if g["id"] in keep_ids],
            "edges": [
                e for e in report["graph"]["edges"] if e["from"] in keep_ids and e["to"] in keep_ids
            ],
        }
    folded["omitted"] = {
        "details": dropped_diffs,
        "nodes": max(0, len(nodes) - listed),
        "graph_nodes": max(0, len(graph_nodes) - graph),
    }
    if data is not None:
        folded["omitted"]["data_changes"] = max(0, len(data) - listed)
    return folded


def _graph_priority(graph: Mapping[str, Any]) -> list[str]:
    """Graph node ids, most telling first: changed nodes and their unchanged parents, then the
    nodes nearest to them downstream, so that a cut graph stays connected around the changes."""
    kids: dict[str, list[str]] = {}
    for edge in graph["edges"]:
        kids.setdefault(edge["from"], []).append(edge["to"])
    category = {g["id"]: g["category"] for g in graph["nodes"]}
    distance = {n: 0 for n, c in category.items() if c in DIRECT}
    queue = deque(sorted(distance))
    while queue:
        node_id = queue.popleft()
        for kid in kids.get(node_id, []):
            if kid not in distance:
                distance[kid] = distance[node_id] + 1
                queue.append(kid)
    far = len(category) + 1
    for node_id, cat in category.items():
        if cat == "unchanged":  # context for its nearest child
            distance[node_id] = min(
                (distance.get(k, far) for k in kids.get(node_id, [])), default=far
            )
    return sorted(
        category,
        key=lambda n: (
            distance.get(n, far),
            category[n] not in DIRECT,
            category[n] == "unchanged",
            n,
        ),
    )
