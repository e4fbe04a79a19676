"""Query results as text (`seeknal query`, `seeknal repl`): each value kept exact per format."""

from __future__ import annotations

import datetime as dt
import json
import math
from decimal import Decimal

from seeknal.cli.result_view import footer, to_csv, to_json, to_table

COLUMNS = ["amount", "ratio", "day", "at", "flag", "note", "tags", "raw"]
ROW = (
    Decimal("12.50"),
    0.1,
    dt.date(2024, 6, 1),
    dt.datetime(2024, 6, 1, 10, 30),
    True,
    'say "hi",\nbye',
    {"a": [Decimal("1.0"), None]},
    b"\x00\xff",
)
NULLS = (None,) * len(COLUMNS)


def test_json_keeps_decimal_digits_and_uses_iso_dates() -> None:
    text = to_json(COLUMNS, [ROW, NULLS])
    assert text.splitlines()[1] == (
        '  {"amount": 12.50, "ratio": 0.1, "day": "2024-06-01", "at": "2024-06-01T10:30:00", '
        '"flag": true, "note": "say \\"hi\\",\\nbye", "tags": {"a": [1.0, null]}, "raw": "AP8="},'
    )
    rows = json.loads(text)
    assert rows[1] == dict.fromkeys(COLUMNS)
    assert rows[0]["amount"] == 12.5 and rows[0]["note"] == 'say "hi",\nbye'
    assert (
        to_json(["x"], [(math.nan,), (Decimal("1E+3"),)]) == '[\n  {"x": null},\n  {"x": 1000}\n]'
    )
    assert to_json(["x"], []) == "[]"


def test_csv_quotes_what_needs_it_and_leaves_null_empty() -> None:
    assert to_csv(COLUMNS, [ROW, NULLS]).splitlines() == [
        "amount,ratio,day,at,flag,note,tags,raw",
        '12.50,0.1,2024-06-01,2024-06-01 10:30:00,true,"say ""hi"",',
        'bye","{""a"": [1.0, null]}",AP8=',
        ",,,,,,,",
    ]


def test_table_aligns_numbers_right_and_escapes_newlines() -> None:
    table = to_table(["id", "name"], [(1, "a\tb"), (10, None), (None, "x" * 100)])
    assert table.splitlines() == [
        "  id  name",
        "----  " + "-" * 80,
        "   1  a\\tb",
        "  10  NULL",
        "NULL  " + "x" * 79 + "…",
    ]
    assert footer(1, False, "") == "(1 row)" and footer(0, False, "") == "(0 rows)"
    assert footer(5, True, "raise --limit") == "(first 5 rows; more not shown: raise --limit)"
