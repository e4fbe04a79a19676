"""Quoting values and names into SQL text (DuckDB's rules, which are standard SQL's). Pure."""

from __future__ import annotations

from typing import Any


def literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
