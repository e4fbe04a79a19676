"""DuckDB helpers shared by the engine, its node IO and its query sessions: connections with the
file sandbox, read-only statement checks, result fetching, error wording, SQL trimming."""

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seeknal.engine.base import QueryResult
from seeknal.engine.duckdb_core import core, is_interrupt, take_opened
from seeknal.errors import ExecutionError
from seeknal.project.placeholders import redact
from seeknal.sql.quote import literal
from seeknal.types import FileAccess, Node, Output

if TYPE_CHECKING:
    import duckdb
else:
    duckdb = core()  # the compiled module: a run needs no more of DuckDB (duckdb_core.py)

SELECT_ONLY = frozenset({duckdb.StatementType.SELECT})
READS = frozenset({duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN})


FIX_QUERY = "Fix the SQL and run it again; ref('kind.name') reads a node's output."


def read_only(sql: str, allowed: frozenset[Any]) -> None:
    """Refuse anything but one statement of an `allowed` type: a query writes nothing (it may
    read node outputs and any file the user can read; it is not sandboxed like node SQL)."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise ExecutionError(f"The query is not valid SQL: {first_lines(exc)}", FIX_QUERY) from None
    if len(statements) != 1 or statements[0].type not in allowed:
        what = "one SELECT statement" if allowed == SELECT_ONLY else "one SELECT (or EXPLAIN)"
        raise ExecutionError(
            f"A query must be {what}: queries are read-only SQL, which reads node outputs "
            "and the files you can read, and writes nothing.",
            "Remove other statements (CREATE, COPY, INSERT, ...) from the query.",
        )


def fetch(cursor: Any, limit: int | None) -> QueryResult:
    """The rows of an executed statement, at most `limit` of them."""
    columns = [str(d[0]) for d in cursor.description or []]
    try:
        if limit is None:
            return QueryResult(columns, cursor.fetchall())
        rows = cursor.fetchmany(limit + 1)
    except duckdb.Error as exc:  # some errors only surface while rows are produced
        raise query_failed(exc) from None
    except RuntimeError as exc:
        stop_if_interrupted(exc)
        raise
    return QueryResult(columns, rows[:limit], more=len(rows) > limit)


def stop_if_interrupted(exc: BaseException) -> None:
    """Raise KeyboardInterrupt when `exc` is DuckDB's word for Ctrl-C: it stops the query and
    raises `RuntimeError: Query interrupted` (or an InterruptException), which would otherwise
    read as an internal error instead of the Ctrl-C it was."""
    if is_interrupt(exc):
        raise KeyboardInterrupt from None


def query_failed(exc: Exception) -> ExecutionError:
    stop_if_interrupted(exc)
    return ExecutionError(
        "The query failed in DuckDB: " + first_lines(exc),
        FIX_QUERY,
    )


def first_lines(exc: Exception) -> str:
    return " ".join(str(exc).strip().splitlines()[:3])


def to_arrow(relation: Any) -> Any:
    """A relation's rows as an Arrow table (the method's name changed in DuckDB 1.4)."""
    to_table = getattr(relation, "to_arrow_table", None)
    return to_table() if to_table is not None else relation.arrow()


def temp_path(path: Path) -> Path:
    """Where an output is written before it is renamed into place. One name per output and
    process: node SQL may write it when the output is one of `FileAccess.files`."""
    return path.with_name(f".seeknal-tmp-{os.getpid()}-{path.name}")


def python_rows_path(tmp: Path) -> Path:
    """Where a Python node's rows wait for its kind, beside its output's temp file `tmp`."""
    return tmp.with_name(tmp.name + ".rows.parquet")


def worker_threads(workers: int) -> int | None:
    """DuckDB's threads for each of `workers` nodes running at once: the cores shared between
    them (None: one node at a time, DuckDB's own default, every core). Small nodes gain more
    from running side by side on one thread each than from DuckDB's threads inside each query,
    and more threads than cores only wait for each other."""
    if workers <= 1:
        return None
    return max(1, (os.cpu_count() or 1) // workers)


def connect(access: FileAccess | None, threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory database; with `access`, one whose SQL reaches only those files, for good:
    external access off and the configuration locked, so no statement can undo it. `threads`:
    DuckDB's worker threads (None: its default)."""
    db = take_opened() or duckdb.connect(":memory:")
    try:
        return _configured(db, access, threads)
    except (duckdb.Error, RuntimeError) as exc:
        stop_if_interrupted(exc)  # Ctrl-C while the settings are made
        raise


def _configured(
    db: duckdb.DuckDBPyConnection, access: FileAccess | None, threads: int | None
) -> duckdb.DuckDBPyConnection:
    if threads is not None:
        db.execute(f"SET threads = {int(threads)}")
    if access is None:
        return db
    folders = ", ".join(literal(str(p)) for p in access.folders)
    files = ", ".join(
        literal(str(p))
        for f in access.files
        for p in (f, temp_path(f), python_rows_path(temp_path(f)))
    )
    db.execute(f"SET allowed_directories = [{folders}]")
    db.execute(f"SET allowed_paths = [{files}]")
    db.execute("SET enable_external_access = false")
    db.execute("SET lock_configuration = true")
    return db


def refused(exc: duckdb.Error) -> bool:
    """Whether DuckDB refused what the sandbox of `connect` keeps node SQL from doing."""
    locked = "configuration has been locked" in str(exc)
    return locked or isinstance(exc, duckdb.PermissionException)


def outside_sandbox(node: Node, message: str) -> ExecutionError:
    first = message.strip().splitlines()[0].split(" Error: ", 1)[-1]
    return ExecutionError(
        f"{node.id} ({node.file_path}): its SQL reaches outside the project's own folders or "
        f"DuckDB's settings, which node SQL may not: {first}",
        f"Read and write only the project's files in {node.file_path}; a project that needs "
        "more lists the folders under sql_sandbox: {allow: [...]} in seeknal_project.yml "
        "(or sets sql_sandbox: false).",
    )


def hidden(value: Any, secrets: Sequence[str]) -> Any:
    return redact(value, secrets) if isinstance(value, str) else value


def trim_sql(sql: str) -> str:
    """`sql` without trailing comments and semicolons, so that it can be wrapped in `( )`.

    A trailing `-- comment` would otherwise swallow the closing parenthesis of COPY (...).
    """
    if ";" not in sql and "--" not in sql and "/*" not in sql:
        return sql.strip()  # neither comments nor semicolons: nothing for the tokenizer to find
    try:
        tokens = duckdb.tokenize(sql)
    except duckdb.Error:
        return sql.strip().rstrip(";").strip()
    cut = len(sql)
    for pos, kind in reversed(tokens):
        if kind == duckdb.token_type.comment or sql[pos] == ";":
            cut = pos
        else:
            break
    return sql[:cut].strip()


READERS = {".csv": "read_csv_auto", ".json": "read_json_auto", ".jsonl": "read_json_auto"}


def unsupported(output: Output, action: str) -> ExecutionError:
    return ExecutionError(
        f"The duckdb engine cannot {action} {output.kind} output {output.location}; it writes "
        "files and reads files and folders.",
        "Use an engine that keeps tables for table outputs.",
    )
