"""The node graph for `seeknal lineage`: which nodes to draw and the terminal tree. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from seeknal.dag import Dag
from seeknal.types import Project


def lineage_ids(dag: Dag, focus: Iterable[str] | None) -> set[str]:
    """The focus nodes with everything upstream and downstream of them (None: every node)."""
    if focus is None:
        return set(dag.parents)
    chosen = set(focus)
    return chosen | dag.upstream(chosen) | dag.downstream(chosen)


def graph(project: Project, dag: Dag, ids: set[str], focus: set[str]) -> dict[str, Any]:
    """The report graph shape (nodes with a category, edges) that report/svg.py draws."""
    ordered = [n for n in project.order if n in ids]
    return {
        "nodes": [
            {
                "id": n,
                "kind": project.nodes[n].kind,
                "category": "computed" if n in focus else "unchanged",
            }
            for n in ordered
        ],
        "edges": [{"from": up, "to": n} for n in ordered for up in dag.parents[n] if up in ids],
    }


def tree_lines(project: Project, dag: Dag, focus: Sequence[str] | None) -> list[str]:
    """Indented trees: for each focus node its upstream and its downstream; without a focus,
    every root node with its downstream. A node already drawn is not expanded again."""
    lines: list[str] = []
    if focus is None:
        seen: set[str] = set()
        for root in (n for n in project.order if not dag.parents[n]):
            lines.append(_label(project, root))
            lines += _branches(project, dag.kids, root, seen, "")
        return lines
    for node_id in focus:
        lines.append(_label(project, node_id))
        for title, edges in (("upstream", dag.parents), ("downstream", dag.kids)):
            below = _branches(project, edges, node_id, set(), "    ")
            lines += [f"  {title}:"] + (below or ["    (none)"])
    return lines


def _label(project: Project, node_id: str) -> str:
    return f"{node_id} ({project.nodes[node_id].kind})"


def _branches(
    project: Project, edges: Mapping[str, list[str]], start: str, seen: set[str], prefix: str
) -> list[str]:
    lines: list[str] = []
    seen.add(start)
    kids = sorted(edges[start])
    for i, kid in enumerate(kids):
        last = i == len(kids) - 1
        again = kid in seen
        mark = " (see above)" if again and edges[kid] else ""
        lines.append(f"{prefix}{'└─ ' if last else '├─ '}{_label(project, kid)}{mark}")
        if not again:
            lines += _branches(project, edges, kid, seen, prefix + ("   " if last else "│  "))
    return lines
