"""DuckDB's SQL parser for the loader's syntax check, with as little of DuckDB as it takes.

DuckDB 2's compiled module is the top-level `_duckdb`; the `duckdb` package around it adds
Python modules (relations, expressions, its version from the package metadata) that cost about
twice the compiled module's own import. A check needs only `extract_statements` and the error
class, which the package re-exports unchanged from `_duckdb`. Older DuckDB (1.x) keeps the
compiled module inside the package: then the package is imported.
"""

from __future__ import annotations

import re
from typing import Any


def _parser() -> Any:
    try:
        import _duckdb

        return _duckdb
    except ImportError:
        import duckdb

        return duckdb


def syntax_error(sql: str) -> tuple[str, int | None] | None:
    """`engine.sql_syntax_error`: (DuckDB's parser error, its line in `sql`), or None."""
    parser = _parser()
    try:
        parser.extract_statements(sql)
    except parser.Error as exc:
        text = str(exc).strip()
        line = re.search(r"^LINE (\d+):", text, re.MULTILINE)
        first = text.splitlines()[0].split(" Error: ", 1)[-1] if text else "not valid SQL"
        return first, int(line.group(1)) if line else None
    return None
