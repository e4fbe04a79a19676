"""Node diffs as JSON: `seeknal diff --json` and the `data_changes` of plan reports share this
shape (docs/cli.md, docs/report-schema.md)."""

from __future__ import annotations

import datetime as dt
import decimal
import math
from typing import Any

from seeknal.envs.diff import EnvDiff, NodeDiff

DIFF_SCHEMA_VERSION = "1.0"


def env_diff_json(diff: EnvDiff) -> dict[str, Any]:
    return {
        "schema_version": DIFF_SCHEMA_VERSION,
        "kind": "seeknal-diff",
        "env": diff.env,
        "plan_id": diff.plan_id,
        "stale": diff.stale,
        "nodes": [
            {**node_json(n), "definition_diff": n.definition, "examples": examples_json(n)}
            for n in diff.nodes
        ],
    }


def node_json(node: NodeDiff) -> dict[str, Any]:
    """Counts and schema changes of one node (no row values: reports carry this as is)."""
    data = node.data
    before, after = node.rows_before, node.rows_after
    columns = data.columns if data else ()
    return {
        "id": node.node_id,
        "category": node.category,
        "reason": node.reason,
        "rows_before": before,
        "rows_after": after,
        "row_delta": after - before if before is not None and after is not None else None,
        "key": list(node.key.columns) if node.key else None,
        "key_source": node.key.source if node.key else None,
        "columns": [{"name": c.name, "before": c.before, "after": c.after} for c in columns],
        "schema_changes": [_schema_change(c.name, c.before, c.after) for c in columns],
        "rows_added": data.added if data else None,
        "rows_removed": data.removed if data else None,
        "rows_changed": data.changed if data else None,
        "duplicate_keys": data.duplicate_keys if data else None,
        "note": node.note,
    }


def _schema_change(name: str, before: str | None, after: str | None) -> str:
    """As reports write them: `+name TYPE` (added), `-name` (removed), `name: OLD → NEW`."""
    if before is None:
        return f"+{name} {after}"
    return f"-{name}" if after is None else f"{name}: {before} → {after}"


def examples_json(node: NodeDiff) -> dict[str, list[Any]] | None:
    """A few rows of each kind (the smallest keys), when the rows were compared by key."""
    data = node.data
    if data is None or not data.key:
        return None

    def rows(result: Any) -> list[dict[str, Any]]:
        if result is None:
            return []
        return [
            {c: plain(v) for c, v in zip(result.columns, row, strict=True)} for row in result.rows
        ]

    return {
        "added": rows(data.added_rows),
        "removed": rows(data.removed_rows),
        "changed": [
            {
                "key": {k: plain(v) for k, v in zip(data.key, row.key, strict=True)},
                "columns": {c: {"before": plain(a), "after": plain(b)} for c, a, b in row.columns},
            }
            for row in data.changed_rows
        ],
    }


def plain(value: Any) -> Any:
    """A value as JSON holds it: numbers, text, booleans and null as they are, dates and times
    in ISO 8601, decimals and anything else as text."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dt.date | dt.time | dt.datetime):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return str(value)
