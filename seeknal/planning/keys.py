"""Which columns identify a node's rows, so that a data diff can say which rows were added,
removed or changed (docs/concepts.md, "Diffs"). Pure: read from manifest node entries.

A node's own `key:` comes first; without one, the columns of a `uniqueness` rule that checks
the node (its first input) are the key, since the rule already promises they identify a row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Key:
    columns: tuple[str, ...]
    source: str  # "key" (declared on the node) or the id of the uniqueness rule it comes from


def key_columns(value: Any) -> list[str] | None:
    """A `key:` as written (a column name or a list of them) as a list; None when unset."""
    if value is None or value == [] or value == "":
        return None
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def declared_key(node_id: str, nodes: Mapping[str, Mapping[str, Any]]) -> Key | None:
    """The key of `node_id` among manifest `nodes`: its `key:`, else the columns of the first
    uniqueness check of the first rule (by id) whose first input it is."""
    columns = key_columns((nodes.get(node_id) or {}).get("key"))
    if columns:
        return Key(tuple(columns), "key")
    for rule_id in sorted(nodes):
        entry = nodes[rule_id]
        if entry.get("type") != "rule" or (entry.get("inputs") or [None])[0] != node_id:
            continue
        for check in _checks((entry.get("config") or {}).get("rule")):
            found = key_columns(check.get("columns") or check.get("column"))
            if check.get("type") == "uniqueness" and found:
                return Key(tuple(found), rule_id)
    return None


def _checks(rule: Any) -> list[Mapping[str, Any]]:
    checks = rule if isinstance(rule, list) else [rule]
    return [c for c in checks if isinstance(c, Mapping)]
