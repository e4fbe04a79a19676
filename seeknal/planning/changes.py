"""Pure decisions for an environment plan: what changed against production, how, and what runs.

Categories (docs/concepts.md): `breaking` reruns the node and everything downstream; `non_breaking` (only
new columns in the final SELECT) reruns the node, while downstream keeps production data unless
its result can depend on the set of columns; `metadata` runs nothing; added nodes run; removed
nodes are dropped on promote.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Set
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from seeknal.dag import Dag
from seeknal.errors import EnvError
from seeknal.kinds import spec_for
from seeknal.planning.fingerprint import NodeFingerprint
from seeknal.planning.keys import key_columns
from seeknal.sql import compare as sqlmod
from seeknal.sql.columns import PASSES
from seeknal.types import Node, Project


class Category(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    BREAKING = "breaking"
    NON_BREAKING = "non_breaking"
    METADATA = "metadata"
    INDIRECT_BREAKING = "indirect_breaking"
    INDIRECT_NON_BREAKING = "indirect_non_breaking"


DIRECT = {Category.ADDED, Category.BREAKING, Category.NON_BREAKING, Category.METADATA}
# running nodes in these categories force every child to run as well
FORCES_CHILDREN = {Category.ADDED, Category.BREAKING, Category.INDIRECT_BREAKING}


@dataclass(frozen=True)
class EnvDecision:
    categories: dict[str, str]
    reasons: dict[str, str]
    nodes_to_execute: list[str]
    added: list[str]
    removed: list[str]
    refs: list[str]  # unchanged nodes read from production
    direct: dict[str, str] = field(default_factory=dict)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _changed_keys(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    keys = set(old) | set(new)
    return sorted(k for k in keys if _canonical(old.get(k)) != _canonical(new.get(k)))


Direct = tuple[Category, str, tuple[str, ...]]  # category, reason, new columns if non-breaking


def direct_change(node: Node, fp: NodeFingerprint, prev: Mapping[str, Any] | None) -> Direct | None:
    """The category and reason of a node's own change against production, or None."""
    if prev is None:
        return Category.ADDED, "new node", ()
    if prev.get("content_hash") != fp.content:
        old_config = prev.get("config") or {}
        keys = _changed_keys(old_config, node.config)
        code = _python_change(node, prev)
        if code and not keys:
            return Category.BREAKING, code, ()
        spec = spec_for(node.kind)
        own = spec.describe_change(node, keys, prev)
        if own is not None:
            category = Category.BREAKING if own.breaking else Category.NON_BREAKING
            return category, own.reason, own.added
        if "inputs" in keys or "depends_on" in keys:
            return Category.BREAKING, "inputs changed", ()
        return Category.BREAKING, f"{node.kind} {spec.changed_fields(keys)} changed", ()
    if prev.get("metadata_hash") != fp.metadata:
        old_meta = {k: prev.get(k) for k in ("description", "owner", "tags", "columns", "key")}
        new_meta = {
            "description": node.meta.get("description"),
            "owner": node.meta.get("owner"),
            "tags": node.meta.get("tags") or [],
            "columns": node.meta.get("columns") or {},
            "key": key_columns(node.meta.get("key")),
        }
        fields = _changed_keys(old_meta, new_meta)
        if not fields and node.python is not None:
            return Category.METADATA, "Python docstrings or comments changed", ()
        fields = fields or ["metadata"]
        names = {"columns": "column descriptions"}
        changed = " and ".join(names.get(f, f) for f in fields) + " changed"
        return Category.METADATA, changed, ()
    return None


def _python_change(node: Node, prev: Mapping[str, Any]) -> str | None:
    """Why a Python node's own content changed, when its code or dependencies did."""
    before = prev.get("python") or {}
    now = node.python.to_json() if node.python is not None else {}
    if bool(before) != bool(now):
        return "became a Python node" if now else "no longer a Python node"
    if not now:
        return None
    if (
        before.get("dependencies") != now["dependencies"]
        or before.get("requires_python") != now["requires_python"]
    ):
        return "Python dependencies changed"
    return "Python code changed" if before.get("code") != now["code"] else None


def categorize(
    project: Project,
    dag: Dag,
    fingerprints: Mapping[str, NodeFingerprint],
    prod_nodes: Mapping[str, Any],
    prod_valid: Set[str],
    force_breaking: Set[str] = frozenset(),
    force_non_breaking: Set[str] = frozenset(),
) -> EnvDecision:
    categories, reasons, new_columns = _direct_changes(project, fingerprints, prod_nodes)
    direct = dict(categories)
    _apply_overrides(categories, reasons, force_breaking, force_non_breaking)

    running: dict[str, bool] = {}  # node: whether its running reruns everything below it
    to_execute: list[str] = []
    for node_id in project.order:
        node = project.nodes[node_id]
        category = categories.get(node_id)
        if category == Category.NON_BREAKING and _breaking_inputs(node, running):
            # its existing columns change too: the new rows come from upstream
            _indirect(node, categories, reasons, running, new_columns)
        elif category in (Category.ADDED, Category.BREAKING):
            running[node_id] = True
        elif category == Category.NON_BREAKING:
            before = (prod_nodes.get(node_id) or {}).get("sql")
            why = _widened_use(node, running, new_columns, before)
            running[node_id] = why is not None  # its existing columns can change too
            if why:
                reasons[node_id] += f"; {why}, so what reads it runs too"
        else:
            _indirect(node, categories, reasons, running, new_columns)
        if node_id in running:
            to_execute.append(node_id)
        elif node_id not in prod_valid and _runs(node):
            missing = "production has no valid output for it, so it is computed here"
            reasons[node_id] = f"{reasons[node_id]}; {missing}" if node_id in reasons else missing
            to_execute.append(node_id)
    from seeknal.planning.production import unneeded_unsupported

    idle = unneeded_unsupported(project, to_execute)
    for node_id in idle:
        note = f"{_idle(project.nodes[node_id])}, so it is not run"
        reasons[node_id] = f"{reasons[node_id]}; {note}" if node_id in reasons else note
    to_execute = [n for n in to_execute if n not in idle]
    removed = sorted(set(prod_nodes) - set(project.nodes))
    for node_id in removed:
        categories[node_id] = Category.REMOVED.value
        reasons[node_id] = "node file removed; its output is deleted on promote"
    executed = set(to_execute)
    return EnvDecision(
        categories=dict(sorted(categories.items())),
        reasons=dict(sorted(reasons.items())),
        nodes_to_execute=to_execute,
        added=[n for n in project.order if categories.get(n) == Category.ADDED],
        removed=removed,
        refs=[n for n in project.order if n not in executed and _runs(project.nodes[n])],
        direct=direct,
    )


def _direct_changes(
    project: Project, fingerprints: Mapping[str, NodeFingerprint], prod_nodes: Mapping[str, Any]
) -> tuple[dict[str, str], dict[str, str], dict[str, frozenset[str]]]:
    """Each changed node's own category and reason, and the new columns of those that gain
    some (when the comparison names them)."""
    categories: dict[str, str] = {}
    reasons: dict[str, str] = {}
    new_columns: dict[str, frozenset[str]] = {}
    for node_id in project.order:
        change = direct_change(
            project.nodes[node_id], fingerprints[node_id], prod_nodes.get(node_id)
        )
        if change:
            categories[node_id] = change[0].value
            reasons[node_id] = change[1]
            if change[2]:
                new_columns[node_id] = frozenset(c.lower() for c in change[2])
    return categories, reasons, new_columns


def _indirect(
    node: Node,
    categories: dict[str, str],
    reasons: dict[str, str],
    running: dict[str, bool],
    new_columns: dict[str, frozenset[str]],
) -> None:
    """Categorise a node that did not change itself by what its running upstream does to it."""
    node_id = node.id
    breaking_up = _breaking_inputs(node, running)
    widening_up = [u for u in node.inputs if u in running and u not in breaking_up]
    own = categories.get(node_id) in (Category.METADATA, Category.NON_BREAKING)
    note = f"; also {reasons[node_id]}" if own else ""
    if breaking_up:
        up = breaking_up[0]
        categories[node_id] = Category.INDIRECT_BREAKING.value
        reasons[node_id] = f"upstream {up} is {_label(categories[up])}{note}"
        running[node_id] = True
    elif widening_up:
        up = widening_up[0]
        categories[node_id] = Category.INDIRECT_NON_BREAKING.value
        new = _gained(widening_up, new_columns)
        why = _column_set_use(node, widening_up, new)
        if why:
            reasons[node_id] = f"{why}, and {up} gains columns{note}"
            if spec_for(node.kind).passes_columns_through:
                reasons[node_id] = f"{node.kind} of {up}, which gains columns{note}"
            # the same rows, only wider: below it, the same question again; otherwise its
            # own rows or values can change, and everything below it runs too
            running[node_id] = why != PASSES
            if why == PASSES:
                reasons[node_id] = f"passes on the new columns of {up} (SELECT *){note}"
                if new is not None:
                    new_columns[node_id] = new
        elif reasons.get(up, "").endswith("with --non-breaking)"):  # the user's call, not ours
            reasons[node_id] = (
                f"upstream {up} is non-breaking by --non-breaking; production data kept{note}"
            )
        else:
            reasons[node_id] = (
                f"upstream {up} only adds columns this node does not select; "
                f"production data kept{note}"
            )


def _widened_use(
    node: Node,
    running: Mapping[str, bool],
    new_columns: Mapping[str, frozenset[str]],
    before: Any,
) -> str | None:
    """How the existing columns of a node that only gains columns itself depend on the new
    columns of its running inputs, or None. They are computed by its production SQL
    (`before`), which is its SQL without the new columns."""
    widened = [u for u in node.inputs if u in running]
    if not widened:
        return None
    texts = [before] if isinstance(before, str) else None
    why = _column_set_use(node, widened, _gained(widened, new_columns), texts)
    return None if why in (None, PASSES) else f"{why}, and {widened[0]} gains columns"


def _breaking_inputs(node: Node, running: Mapping[str, bool]) -> list[str]:
    """Inputs that run and rerun everything below them (FORCES_CHILDREN, and nodes whose
    rows can change with an input's new columns)."""
    return [u for u in node.inputs if running.get(u)]


def _gained(widened: list[str], new_columns: Mapping[str, frozenset[str]]) -> frozenset[str] | None:
    """The columns the widened inputs gain; None when one of them does not say (a change made
    non-breaking with --non-breaking)."""
    if any(up not in new_columns for up in widened):
        return None
    return frozenset().union(*(new_columns[up] for up in widened))


def _column_set_use(
    node: Node, widened: list[str], new: frozenset[str] | None, texts: list[str] | None = None
) -> str | None:
    """How the node's result depends on which columns its widened inputs have (or on the names
    of the new ones), or None when it provably does not (production's data of it stays
    valid)."""
    if spec_for(node.kind).passes_columns_through:
        return "passes its input's columns through"
    texts = texts or spec_for(node.kind).column_set_sql(node)
    if texts is None:
        if node.python is not None:
            return "a Python node: which columns it reads cannot be traced"
        return f"a {node.kind} node: which columns it reads cannot be traced"
    names: set[str] = set()
    for up in widened:
        names.add(sqlmod.ref_table_name(up))
        names.add(f"input_{node.inputs.index(up)}")
        if len(node.inputs) == 1:
            names.add("__this__")
    from seeknal.sql.columns import column_set_use, name_mention, unqualified_mention

    uses = [why for sql in texts if (why := column_set_use(sql, names))]
    found = next((why for why in uses if why != PASSES), uses[0] if uses else None)
    if found not in (None, PASSES):
        return found
    for sql in texts if new else ():
        name = unqualified_mention(sql, set(new or ()))
        if name:
            return f"names `{name}` without a table, like a new column (it can now bind to it)"
        name = name_mention(sql, set(new or ()))
        if name:
            return f"mentions `{name}`, the name of a new column (it can now refer to it)"
    return found


def _label(category: str) -> str:
    return {
        "added": "new",
        "breaking": "breaking",
        "indirect_breaking": "rebuilt (indirectly breaking)",
        "indirect_non_breaking": "recomputed and its rows can change with its input's new columns",
        "non_breaking": "recomputed and its existing columns can change with its input's new columns",
    }.get(category, category)


def _apply_overrides(
    categories: dict[str, str],
    reasons: dict[str, str],
    force_breaking: Set[str],
    force_non_breaking: Set[str],
) -> None:
    for wanted, nodes in (
        (Category.BREAKING, force_breaking),
        (Category.NON_BREAKING, force_non_breaking),
    ):
        for node_id in sorted(nodes):
            current = categories.get(node_id)
            if current not in (Category.BREAKING, Category.NON_BREAKING):
                raise EnvError(
                    f"--{wanted.value.replace('_', '-')} {node_id}: the node is not directly "
                    "changed in this plan"
                    + (f" (it is {current})." if current else " (its own file did not change)."),
                    "Only nodes whose SQL or config changed can be re-categorised.",
                )
            if current != wanted:
                categories[node_id] = wanted.value
                flag = wanted.value.replace("_", "-")
                reasons[node_id] = f"{reasons[node_id]} (set to {wanted.value} with --{flag})"


def base_snapshot(decision: EnvDecision, base_nodes: Mapping[str, Any]) -> dict[str, Any]:
    """What changed nodes looked like before, so reports can diff without the old manifest."""
    keep = ("type", "file_path", "sql", "config", "description", "inputs")
    return {
        node_id: {k: base_nodes[node_id].get(k) for k in keep}
        for node_id in sorted(set(decision.direct) | set(decision.removed))
        if node_id in base_nodes
    }


def _runs(node: Node) -> bool:
    return spec_for(node.kind).executable(node)


def _idle(node: Node) -> str:
    return spec_for(node.kind).idle_reason(node)
