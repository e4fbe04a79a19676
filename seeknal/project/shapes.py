"""Shapes of node YAML: which fields must be text, lists or mappings. Pure.

The fields every node has are checked here; each kind module checks its own fields."""

from __future__ import annotations

from typing import Any

TEXT_LIST = "a list of names, e.g. [a, b]"


class Shape:
    """Collects (top-level key, message) for fields whose YAML type is not what seeknal reads."""

    def __init__(self) -> None:
        self.found: list[tuple[str, str]] = []

    def expect(self, key: str, field: str, value: Any, ok: bool, wanted: str) -> None:
        if value is not None and not ok:
            self.found.append((key, f"{field} must be {wanted}, not {yaml_type(value)}"))


def shape_problems(data: dict[str, Any]) -> list[tuple[str, str]]:
    """The problems of the fields every kind has; each kind checks its own fields."""
    shape = Shape()
    for key in ("description", "owner"):
        shape.expect(key, key, data.get(key), isinstance(data.get(key), str | int | float), "text")
    shape.expect("tags", "tags", data.get("tags"), is_text_list(data.get("tags")), TEXT_LIST)
    columns = data.get("columns")
    ok = isinstance(columns, dict)
    shape.expect("columns", "columns", columns, ok, "a mapping of name: description")
    row_key = data.get("key")
    ok = isinstance(row_key, str) or is_text_list(row_key)
    shape.expect("key", "key", row_key, ok, "a column name or a list of column names")
    params = data.get("params")
    ok = isinstance(params, dict)
    shape.expect("params", "params", params, ok, "a mapping of key: value")
    return shape.found


def is_text_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str | int | float) for v in value)


def plain(value: Any) -> str:
    """A scalar as it was written in YAML."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def yaml_type(value: Any) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, dict):
        return "a mapping"
    return "a list" if isinstance(value, list) else f"a {type(value).__name__}"


def non_text_keys(value: Any) -> list[Any]:
    """Mapping keys (at any depth) that are not strings, e.g. `1:`, `~:` or `2024-01-01:`."""
    if isinstance(value, dict):
        return [
            bad
            for key, item in value.items()
            for bad in ([] if isinstance(key, str) else [key]) + non_text_keys(item)
        ]
    if isinstance(value, list):
        return [bad for item in value for bad in non_text_keys(item)]
    return []
