"""DuckDB's compiled module alone, for what needs no more of DuckDB: the loader's syntax check
and the engine's connections, statements and errors.

DuckDB 2's compiled module is the top-level `_duckdb`; the `duckdb` package around it adds
Python modules (the relational API, expressions, its version from the package metadata) that
cost about twice the compiled module's own import. Connections, `execute`, `fetch*`,
`extract_statements`, `tokenize` and the error classes are the compiled module's, re-exported
by the package unchanged; the relational API (`DuckDBPyConnection.sql` and the like) is the
package's, so code that uses it calls `relational()` first. Older DuckDB (1.x) keeps the
compiled module inside the package: then the package is the core.

`open_soon()` starts opening the in-memory database a run needs on a thread of its own (DuckDB
lets go of the GIL while it sets a database up, ~25 ms), so that it is ready by the time the
project is loaded and planned; `take_opened()` hands it over.
"""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Callable
from typing import Any

from seeknal.state.failpoints import hit


def core() -> Any:
    """The module connections and statements come from (imported on first use)."""
    try:
        return _imported("_duckdb")
    except ImportError:
        return _imported("duckdb")


def _imported(name: str) -> Any:
    """`import name`, with a Ctrl-C meanwhile acted on once the import is done: DuckDB's
    compiled module aborts the process (exit 134) when interrupted while it sets itself up."""
    from seeknal.sigint import imported

    return imported(name, "duckdb.import")


def is_interrupt(exc: BaseException) -> bool:
    """Whether `exc` is DuckDB's word for Ctrl-C: it stops the statement and raises
    `RuntimeError: Query interrupted` (or an InterruptException) instead of KeyboardInterrupt."""
    if isinstance(exc, RuntimeError) and "interrupted" in str(exc).lower():
        return True
    loaded = sys.modules.get("_duckdb") or sys.modules.get("duckdb")
    kind = getattr(loaded, "InterruptException", None)
    return kind is not None and isinstance(exc, kind)


def relational() -> Any:
    """The `duckdb` package: importing it adds the relational API to every connection."""
    _imported("duckdb")
    import duckdb

    return duckdb


_parser: Any = None  # what parses: a database of the parser's own (a run takes `open_soon`'s)


def syntax_error(
    sql: str, meanwhile: Callable[[], object] | None = None
) -> tuple[str, int | None] | None:
    """`engine.sql_syntax_error`: (DuckDB's parser error, its line in `sql`), or None. The
    first call opens the parser's database on a thread and runs `meanwhile` while it opens."""
    global _parser
    if _parser is None:
        opening = _Opening()
        if meanwhile is not None:
            try:
                meanwhile()
            except Exception:  # noqa: BLE001 - only a head start: whoever needs it reports it
                pass
        # a database of its own, else the module's default connection
        _parser = opening.take() or core()
    try:
        statements = _parser.extract_statements(sql)
    except core().Error as exc:
        text = str(exc).strip()
        line = re.search(r"^LINE (\d+):", text, re.MULTILINE)
        first = text.splitlines()[0].split(" Error: ", 1)[-1] if text else "not valid SQL"
        return first, int(line.group(1)) if line else None
    return not_a_query(sql, statements)


LAST_NOT_A_QUERY = "the last statement must be a query"  # how such a message starts


def not_a_query(sql: str, statements: list[Any]) -> tuple[str, int] | None:
    """(why, its line in `sql`) when the last of `statements` (parsed from `sql`) is not a query
    whose rows can be the node's output (a CREATE, INSERT, ...), else None. PIVOT parses as
    several statements and is a query."""
    if not statements:
        return None
    last = statements[-1]
    kinds = core().StatementType
    if last.type in (kinds.SELECT, kinds.MULTI):
        return None
    head = str(last.query).strip()
    at = sql.rfind(head.splitlines()[0]) if head else -1
    word = head.split(None, 1)[0].upper() if head else str(last.type.name)
    return (
        f"{LAST_NOT_A_QUERY} (SELECT, WITH ..., VALUES or FROM ...) whose rows become the "
        f"node's output, not a {word} statement; end the SQL with a query, e.g. "
        "SELECT * FROM the_table_it_creates",
        sql.count("\n", 0, at) + 1 if at >= 0 else 1,
    )


class _Opening:
    """An in-memory database being opened on a thread; None when opening it failed (the
    caller then opens one itself and meets the error there, worded as usual)."""

    def __init__(self) -> None:
        self.db: Any = None
        # imported here, not on the thread: a Ctrl-C that stops an import in this thread can
        # leave Python's import lock taken, and a thread importing then waits for it forever
        self.module = core()
        # not a daemon: the interpreter waits for it before it finalizes, which a thread still
        # inside DuckDB's C++ would not survive (a run with nothing to execute never takes it)
        self.thread = threading.Thread(target=self._open, name="seeknal-duckdb-open")
        self.thread.start()

    def _open(self) -> None:
        hit("duckdb.open")  # tests: a thread that is still opening when Ctrl-C ends the command
        try:
            self.db = self.module.connect(":memory:")
        except Exception:  # noqa: BLE001 - reported by the caller's own connect
            self.db = None

    def take(self) -> Any:
        self.thread.join()
        return self.db


_opening: _Opening | None = None
_lock = threading.Lock()


def open_soon() -> None:
    """Start opening an in-memory database for the next `take_opened()`."""
    global _opening
    with _lock:
        if _opening is None:
            _opening = _Opening()


def take_opened() -> Any:
    """The database `open_soon()` opened (waiting for it), or None when none was started."""
    global _opening
    with _lock:
        opening, _opening = _opening, None
    return opening.take() if opening is not None else None
