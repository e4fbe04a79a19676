"""Query results as text: an aligned table, CSV or JSON (`seeknal query`, `seeknal repl`).

Values keep their meaning in every format: NULL is `NULL` in a table, an empty field in CSV and
`null` in JSON; decimals keep their exact digits; dates and times are ISO 8601; lists and
structs are JSON text outside JSON. docs/cli.md lists the rules.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import json
import math
from decimal import Decimal
from typing import Any

FORMATS = ("table", "csv", "json")
TABLE_ROWS = 100  # rows a table shows when no --limit is given
CELL_WIDTH = 80  # longer table cells are cut, ending in '…'


def render(columns: list[str], rows: list[tuple[Any, ...]], fmt: str, more: bool) -> str:
    if fmt == "csv":
        return to_csv(columns, rows)
    if fmt == "json":
        return to_json(columns, rows)
    return to_table(columns, rows, more)


def footer(shown: int, more: bool, hint: str) -> str:
    """The line under a table: how many rows, and how to see the others (`hint`)."""
    if more:
        return f"(first {shown} rows; more not shown: {hint})"
    return "(1 row)" if shown == 1 else f"({shown} rows)"


# -- table ----------------------------------------------------------------------------------
def to_table(columns: list[str], rows: list[tuple[Any, ...]], more: bool = False) -> str:
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    numeric = [bool(rows) and all(_is_number(r[i]) for r in rows) for i in range(len(columns))]

    def line(values: list[str]) -> str:
        parts = [
            v.rjust(w) if num else v.ljust(w)
            for v, w, num in zip(values, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    lines = [line(list(columns)), line(["-" * w for w in widths])]
    lines += [line(r) for r in cells]
    return "\n".join(lines)


def _is_number(value: Any) -> bool:
    return value is None or (
        isinstance(value, int | float | Decimal) and not isinstance(value, bool)
    )


def _cell(value: Any) -> str:
    if value is None:
        return "NULL"
    text = _text(value, " ")
    text = text.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return text if len(text) <= CELL_WIDTH else text[: CELL_WIDTH - 1] + "…"


def _text(value: Any, sep: str) -> str:
    """A value as text in a table cell or CSV field (not None)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return _decimal(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, list | tuple | dict):
        return _json(value)
    return str(value)


def _decimal(value: Decimal) -> str:
    return format(value, "f") if value.is_finite() else str(value)


# -- csv --------------------------------------------------------------------------------------
def to_csv(columns: list[str], rows: list[tuple[Any, ...]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if v is None else _text(v, " ") for v in row])
    return buffer.getvalue().rstrip("\n")


# -- json -------------------------------------------------------------------------------------
def to_json(columns: list[str], rows: list[tuple[Any, ...]]) -> str:
    """A list of objects, one per row and one row per line."""
    if not rows:
        return "[]"
    keys = [json.dumps(c, ensure_ascii=False) for c in columns]
    objects = [
        "  {" + ", ".join(f"{k}: {_json(v)}" for k, v in zip(keys, row, strict=True)) + "}"
        for row in rows
    ]
    return "[\n" + ",\n".join(objects) + "\n]"


def _json(value: Any) -> str:
    """JSON text of one value; decimals are numbers written with their exact digits."""
    if isinstance(value, Decimal):
        return _decimal(value) if value.is_finite() else "null"
    if isinstance(value, float) and not math.isfinite(value):
        return "null"
    if isinstance(value, dict):
        items = (f"{json.dumps(str(k), ensure_ascii=False)}: {_json(v)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_json(v) for v in value) + "]"
    if value is None or isinstance(value, bool | int | float | str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dt.datetime):
        return json.dumps(value.isoformat())
    return json.dumps(_text(value, "T"), ensure_ascii=False)
