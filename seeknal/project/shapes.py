"""Shapes of node YAML: which fields must be text, lists or mappings. Pure."""

from __future__ import annotations

from typing import Any

from seeknal.types import NodeKind

_TEXT_LIST = "a list of names, e.g. [a, b]"


def shape_problems(kind: NodeKind, data: dict[str, Any]) -> list[tuple[str, str]]:
    """(top-level key, message) for every field whose YAML type is not what seeknal reads."""
    found: list[tuple[str, str]] = []

    def expect(key: str, field: str, value: Any, ok: bool, wanted: str) -> None:
        if value is not None and not ok:
            found.append((key, f"{field} must be {wanted}, not {yaml_type(value)}"))

    for key in ("description", "owner"):
        expect(key, key, data.get(key), isinstance(data.get(key), str | int | float), "text")
    expect("tags", "tags", data.get("tags"), is_text_list(data.get("tags")), _TEXT_LIST)
    columns = data.get("columns")
    expect(
        "columns", "columns", columns, isinstance(columns, dict), "a mapping of name: description"
    )
    params = data.get("params")
    expect("params", "params", params, isinstance(params, dict), "a mapping of key: value")
    params = params if isinstance(params, dict) else {}
    if kind is NodeKind.EXPOSURE:
        target = params.get("path")
        expect("params", "params.path", target, isinstance(target, str), "a file path")
    if kind is NodeKind.PROFILE:
        options = data.get("profile")
        ok = isinstance(options, dict)
        expect("profile", "profile", options, ok, "a mapping, e.g. {columns: [a, b]}")
        if isinstance(options, dict):
            wanted = options.get("columns")
            expect("profile", "profile.columns", wanted, is_text_list(wanted), _TEXT_LIST)
    rule = data.get("rule") if kind is NodeKind.RULE else None
    for entry in rule if isinstance(rule, list) else [rule]:
        if not isinstance(entry, dict):
            continue  # check_kind reports it
        rparams = entry.get("params")
        ok = isinstance(rparams, dict)
        expect("rule", "rule.params", rparams, ok, "a mapping of key: value")
        for field in ("column", "columns"):
            value = entry.get(field)
            ok = isinstance(value, str) or is_text_list(value)
            expect("rule", f"rule.{field}", value, ok, "a column name or " + _TEXT_LIST)
        checks = entry.get("checks")
        expect("rule", "rule.checks", checks, isinstance(checks, list), "a list of checks")
        limit = rparams.get("max_null_percentage") if isinstance(rparams, dict) else None
        ok = isinstance(limit, int | float) and not isinstance(limit, bool)
        field = "rule.params.max_null_percentage"
        expect("rule", field, limit, ok, "a number from 0 to 100")
    return found


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
