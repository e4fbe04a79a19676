"""Pieces shared by the feature kinds (`feature_group`, `aggregation`,
`second_order_aggregation`): quoting, aggregate function names, window bounds, the node's input.

Pure: these build DuckDB SQL text; the kinds run it through the engine's `ExecutionIO`.
"""

from __future__ import annotations

import re
from typing import Any

from seeknal.kinds.base import ExecutionIO, KindSpec
from seeknal.types import Node

# spellings the older seeknal accepted for the same function
FUNCTIONS = {
    "count": "count",
    "sum": "sum",
    "mean": "avg",
    "avg": "avg",
    "min": "min",
    "max": "max",
    "std": "stddev",
    "stddev": "stddev",
}
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def quote(name: str) -> str:
    """A column name as a DuckDB identifier."""
    return '"' + name.replace('"', '""') + '"'


def is_function_name(text: str) -> bool:
    return bool(_NAME.fullmatch(text))


def day(value: Any) -> int | None:
    """A window bound as written (a whole number of days, or its text), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    return None


def days_pair(value: Any) -> tuple[int, int] | None:
    """`[lower, upper]` in days, or None when it is not two whole numbers."""
    if not isinstance(value, list) or len(value) != 2:
        return None
    lower, upper = day(value[0]), day(value[1])
    return None if lower is None or upper is None else (lower, upper)


def unique_names(names: list[str]) -> list[str]:
    """Output column names made distinct the way the older seeknal's results were: a name met
    again (ignoring case) gets `_1`, `_2`, ... (its own count), skipping any name already taken,
    so `[a, a, a_1, a]` becomes `[a, a_1, a_1_1, a_2]`. Done here, in the SQL seeknal writes,
    so that no engine's own renaming decides the columns."""
    taken: dict[str, int] = {}
    out = []
    for name in names:
        low = name.lower()
        if low in taken:
            new = f"{name}_{taken[low]}"
            while new.lower() in taken:
                taken[low] += 1
                new = f"{name}_{taken[low]}"
            taken[low] += 1
            name, low = new, new.lower()
        taken[low] = taken.get(low, 0) + 1
        out.append(name)
    return out


def listed(value: Any) -> list[str]:
    """A list of names, or one name, or names separated by commas (all three were accepted)."""
    items = value if isinstance(value, list) else [value]
    return [part.strip() for item in items for part in str(item).split(",") if part.strip()]


def source_input(spec: KindSpec, node: Node) -> str:
    """The node whose rows are aggregated: `source:` when given, else the one input."""
    source = node.config.get("source")
    if isinstance(source, str) and source.strip():
        return source.strip()
    return spec.this_input(node)


def source_ref(data: dict[str, Any]) -> list[str]:
    """`source: kind.name` names a node the aggregation reads (an edge, like `inputs`)."""
    source = data.get("source")
    if isinstance(source, str) and "." in source:
        return [source.strip()]
    return []


def input_rows(spec: KindSpec, node: Node, io: ExecutionIO) -> str:
    return io.relation(source_input(spec, node))
