"""The DuckDB engine: materializes one node into its output file (temp file, then rename), and
reads outputs back (digest, schema, row count, read-only queries).

What a node computes is its kind's (seeknal/kinds/); this module hands the kind an `ExecutionIO`
over a DuckDB connection, with the node's inputs as parquet files.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import threading
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import duckdb

from seeknal.digest import file_digest, tree_digest
from seeknal.engine.base import DataDiff, NodeResult, QueryResult, Session
from seeknal.engine.warehouse import Warehouse, pg_type
from seeknal.errors import ExecutionError
from seeknal.kinds import spec_for
from seeknal.kinds.materializations import parse
from seeknal.project.placeholders import redact, render_env, secret_values
from seeknal.project.profiles import ProfileError
from seeknal.sql.quote import ident, literal
from seeknal.sql.refs import replace_refs
from seeknal.state import failpoints
from seeknal.types import FileAccess, Node, Output, OutputKind


class DuckDBEngine:
    """One in-memory database; every worker thread gets a connection of its own. Outputs are
    files (parquet, or an exposure's csv/json) and folders of parquet files; DuckDB keeps no
    tables between runs."""

    name = "duckdb"

    def __init__(
        self,
        project_root: Path,
        warehouse: Warehouse | None = None,
        access: FileAccess | None = None,
    ) -> None:
        self.root = project_root
        self.warehouse = warehouse
        self.access = access
        self.db = _connect(access)
        self._local = threading.local()
        self._comparisons: Any = None  # engine.compare.ComparisonDB, opened by compare()
        self._open: list[duckdb.DuckDBPyConnection] = []  # what `interrupt` stops

    def _con(self) -> duckdb.DuckDBPyConnection:
        con = getattr(self._local, "con", None)
        if con is None:
            con = self.db.cursor()
            self._local.con = con
            self._open.append(con)
        return con

    def interrupt(self) -> None:
        for con in list(self._open):
            try:
                con.interrupt()
            except duckdb.Error:
                pass  # closed meanwhile: nothing runs on it

    def close(self) -> None:
        self.db.close()
        if self._comparisons is not None:
            self._comparisons.close()

    def materialize(self, node: Node, inputs: Mapping[str, Output], output: Output) -> NodeResult:
        """Run `node` reading upstream outputs from `inputs` (id → output) into `output`.

        The values of sensitive `{{ env:VAR }}` placeholders are filled in here, so this is
        where they are taken out again: of errors, warnings and the rows seeknal writes."""
        if output.kind is not OutputKind.FILE:
            raise _unsupported(output, "write")
        spec = spec_for(node.kind)
        if not spec.runs:
            raise spec.cannot_execute(node)
        secrets = secret_values([node.config, node.sql])
        node = replace(
            node, config=render_env(node.config), sql=render_env(node.sql) if node.sql else None
        )
        path = output.path
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = temp_path(path)
        try:
            paths = {n: o.path for n, o in inputs.items()}
            io = _NodeIO(
                self._con(), self.root, node, paths, tmp, self.warehouse, secrets, self.access
            )
            done = spec.execute(node, io)
            # the warehouse tables first: when one cannot be written, the node fails as a whole
            self.materialize_tables(node, Output.file(tmp))
            failpoints.hit(f"write.{node.kind}")  # crash tests: killed with the temp file written
            os.replace(tmp, path)
            warnings = [redact(w, secrets) for w in done.warnings]
            return NodeResult(row_count=done.row_count, output=output, warnings=warnings)
        except duckdb.Error as exc:
            if self.access is not None and _refused(exc):
                raise _outside(node, redact(str(exc), secrets)) from None
            message = redact(" ".join(str(exc).strip().splitlines()[:3]), secrets)
            raise ExecutionError(
                f"{node.id} ({node.file_path}) failed in DuckDB: {message}",
                spec.failure_hint(node) + f", then run it again: seeknal run --nodes {node.id}",
            ) from None
        except ExecutionError as exc:
            raise ExecutionError(redact(exc.message, secrets), redact(exc.hint, secrets)) from None
        finally:
            tmp.unlink(missing_ok=True)

    def materialize_tables(self, node: Node, output: Output) -> list[str]:
        """Write `node`'s output to its `materializations:`; the tables written."""
        data = output.path
        if not parse(node.config):
            return []
        if self.warehouse is None:
            raise ExecutionError(
                f"{node.id} ({node.file_path}) has materializations, but nothing gave this run "
                "a profile to write them with.",
                "Run it with seeknal run (or run --env), which reads the profile.",
            )
        con = self._con()
        relation = f"{_READERS.get(data.suffix.lower(), 'read_parquet')}({literal(data)})"
        described = con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
        columns, selected = [], []
        for name, dtype, *_ in described:
            as_text = pg_type(str(dtype)) == "text" and str(dtype) != "VARCHAR"
            selected.append(f"CAST({ident(name)} AS VARCHAR)" if as_text else ident(name))
            columns.append((str(name), "VARCHAR" if as_text else str(dtype)))
        select = f"SELECT {', '.join(selected)} FROM {relation}"
        try:
            return self.warehouse.materialize(
                node,
                columns,
                lambda: con.execute(select).fetchall(),
                lambda: _arrow(con.sql(f"SELECT * FROM {relation}")),
            )
        except ExecutionError:
            raise
        except ProfileError as exc:
            raise ExecutionError(exc.message, exc.hint) from None

    # -- outputs ---------------------------------------------------------------------------
    def exists(self, output: Output) -> bool:
        if output.kind is OutputKind.DIR:
            return output.path.is_dir()
        if output.kind is OutputKind.FILE:
            return output.path.is_file()
        raise _unsupported(output, "read")

    def digest(self, output: Output, memo: MutableMapping[str, Any] | None = None) -> str | None:
        if not self.exists(output):
            return None
        if output.kind is OutputKind.DIR:
            return tree_digest(output.path, memo)
        return file_digest(output.path, memo)

    def schema(self, output: Output) -> list[tuple[str, str]]:
        rows = self._read(output, f"DESCRIBE SELECT * FROM {self._relation(output)}").fetchall()
        return [(str(r[0]), str(r[1])) for r in rows]

    def row_count(self, output: Output) -> int:
        row = self._read(output, f"SELECT count(*) FROM {self._relation(output)}").fetchone()
        return int(row[0]) if row else 0

    def query(
        self, sql: str, relations: Mapping[str, Output], limit: int | None = None
    ) -> QueryResult:
        read_only(sql, SELECT_ONLY)

        def bind(ref: str) -> str:
            if ref not in relations:
                raise ExecutionError(
                    f"The query reads ref('{ref}'), which is not one of its inputs.",
                    f"Its inputs: {', '.join(sorted(relations)) or 'none'}.",
                )
            return self._relation(relations[ref])

        bound = replace_refs(_trim(sql), bind)
        return fetch(self._read(None, bound), limit)

    def session(self, views: Mapping[str, Output]) -> Session:
        from seeknal.engine.duckdb_session import DuckDBSession

        return DuckDBSession({name: self._relation(o) for name, o in views.items()})

    def compare(
        self, before: Output, after: Output, key: Sequence[str] = (), examples: int = 5
    ) -> DataDiff:
        from seeknal.engine.compare import ComparisonDB

        names = (f"output {before}", f"output {after}")
        for output in (before, after):
            if not self.exists(output):
                raise ExecutionError(
                    f"Output {output} does not exist.", "'seeknal run' writes outputs again."
                )
        if self._comparisons is None:
            self._comparisons = ComparisonDB()
        return self._comparisons.compare(
            self._relation(before), self._relation(after), key, examples, names
        )

    def drop(self, output: Output) -> None:
        if output.kind is OutputKind.DIR:
            shutil.rmtree(output.path, ignore_errors=True)
        elif output.kind is OutputKind.FILE:
            output.path.unlink(missing_ok=True)
        else:
            raise _unsupported(output, "drop")

    def _relation(self, output: Output) -> str:
        """SQL that reads an output: a parquet folder, or a file by its extension."""
        if output.kind is OutputKind.DIR:
            return f"read_parquet({literal(output.path / '**' / '*.parquet')})"
        if output.kind is not OutputKind.FILE:
            raise _unsupported(output, "read")
        reader = _READERS.get(output.path.suffix.lower(), "read_parquet")
        return f"{reader}({literal(output.location)})"

    def _read(self, output: Output | None, sql: str) -> Any:
        try:
            return self._con().execute(sql)
        except duckdb.Error as exc:
            if output is None:
                raise query_failed(exc) from None
            raise ExecutionError(
                f"Reading {output} failed in DuckDB: " + _first_lines(exc),
                "Check the output exists and the SQL names its columns; "
                "'seeknal run' writes outputs again.",
            ) from None


_FORMATS = {"parquet": "FORMAT parquet", "csv": "FORMAT csv, HEADER true", "json": "FORMAT json"}


class _NodeIO:
    """The `ExecutionIO` of one node: inputs are parquet files, the output is written to `tmp`."""

    def __init__(
        self,
        con: Any,
        root: Path,
        node: Node,
        inputs: dict[str, Path],
        tmp: Path,
        warehouse: Warehouse | None = None,
        secrets: Sequence[str] = (),
        access: FileAccess | None = None,
    ) -> None:
        self.con = con
        self.root = root
        self.node = node
        self.inputs = inputs
        self.tmp = tmp
        self.warehouse = warehouse
        self.secrets = secrets  # taken out of the values write_values writes
        self.access = access  # what a script's own database may reach

    def external(self) -> str:
        if self.warehouse is None:
            raise ExecutionError(
                f"{self.node.id}: nothing gave this run a profile to read the source with.",
                "Run it with seeknal run (or run --env), which reads the profile.",
            )
        try:
            data = self.warehouse.read_source(self.node)
        except ProfileError as exc:
            raise ExecutionError(exc.message, exc.hint) from None
        name = "seeknal_source_" + hashlib.sha1(self.node.id.encode()).hexdigest()[:12]
        self.con.register(name, data)
        return ident(name)

    def relation(self, node_id: str) -> str:
        return f"read_parquet({literal(self.inputs[node_id])})"

    def file_path(self, rel: str) -> str:
        return rel if os.path.isabs(rel) else str(self.root / rel)

    def trim(self, sql: str) -> str:
        return _trim(sql)

    def statements(self, sql: str) -> list[str]:
        trimmed = [_trim(s.query) for s in duckdb.extract_statements(sql)]
        return [s for s in trimmed if s]

    def bind(self, sql: str) -> str:
        for index, up in enumerate(self.node.inputs):
            name = f"input_{index}"
            if name in sql:
                self.con.execute(
                    f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM {self.relation(up)}"
                )
        if "__THIS__" in sql:
            this = spec_for(self.node.kind).this_input(self.node)
            self.con.execute(
                f"CREATE OR REPLACE TEMP VIEW __THIS__ AS SELECT * FROM {self.relation(this)}"
            )
        return replace_refs(sql, self.relation)

    def scalar(self, sql: str) -> Any:
        row = self.con.execute(sql).fetchone()
        return row[0] if row else None

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return list(self.con.execute(sql).fetchall())

    def write(self, select_sql: str, fmt: str = "parquet") -> int:
        copy = f"COPY ({select_sql}) TO {literal(self.tmp)} ({_FORMATS[fmt]})"
        row = self.con.execute(copy).fetchone()
        return int(row[0]) if row else 0

    def write_values(self, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> int:
        values = ", ".join(
            "(" + ", ".join(literal(_hidden(v, self.secrets)) for v in row) + ")" for row in rows
        )
        names = ", ".join(columns)
        return self.write(f"SELECT * FROM (VALUES {values}) AS r({names})")

    def write_script(self, statements: Sequence[str]) -> int:
        con = _connect(self.access)
        try:
            script = _NodeIO(con, self.root, self.node, self.inputs, self.tmp, self.warehouse)
            for statement in statements[:-1]:
                con.execute(script.bind(statement))
            return script.write(script.bind(statements[-1]))
        finally:
            con.close()


SELECT_ONLY = frozenset({duckdb.StatementType.SELECT})
READS = frozenset({duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN})


def read_only(sql: str, allowed: frozenset[Any]) -> None:
    """Refuse anything but one statement of an `allowed` type: a query only reads outputs."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise ExecutionError(f"The query is not valid SQL: {_first_lines(exc)}") from None
    if len(statements) != 1 or statements[0].type not in allowed:
        what = "one SELECT statement" if allowed == SELECT_ONLY else "one SELECT (or EXPLAIN)"
        raise ExecutionError(
            f"A query must be {what}; it only reads outputs.",
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
    return QueryResult(columns, rows[:limit], more=len(rows) > limit)


def query_failed(exc: Exception) -> ExecutionError:
    return ExecutionError(
        "The query failed in DuckDB: " + _first_lines(exc),
        "Fix the SQL and run it again; ref('kind.name') reads a node's output.",
    )


def _first_lines(exc: Exception) -> str:
    return " ".join(str(exc).strip().splitlines()[:3])


def _arrow(relation: Any) -> Any:
    """A relation's rows as an Arrow table (the method's name changed in DuckDB 1.4)."""
    to_table = getattr(relation, "to_arrow_table", None)
    return to_table() if to_table is not None else relation.arrow()


def syntax_error(sql: str) -> tuple[str, int | None] | None:
    """`engine.sql_syntax_error`: (DuckDB's parser error, its line in `sql`), or None."""
    try:
        duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        text = str(exc).strip()
        line = re.search(r"^LINE (\d+):", text, re.MULTILINE)
        first = text.splitlines()[0].split(" Error: ", 1)[-1] if text else "not valid SQL"
        return first, int(line.group(1)) if line else None
    return None


def temp_path(path: Path) -> Path:
    """Where an output is written before it is renamed into place. One name per output and
    process: node SQL may write it when the output is one of `FileAccess.files`."""
    return path.with_name(f".seeknal-tmp-{os.getpid()}-{path.name}")


def _connect(access: FileAccess | None) -> duckdb.DuckDBPyConnection:
    """An in-memory database; with `access`, one whose SQL reaches only those files, for good:
    external access off and the configuration locked, so no statement can undo it."""
    db = duckdb.connect(":memory:")
    if access is None:
        return db
    folders = ", ".join(literal(str(p)) for p in access.folders)
    files = ", ".join(literal(str(p)) for f in access.files for p in (f, temp_path(f)))
    db.execute(f"SET allowed_directories = [{folders}]")
    db.execute(f"SET allowed_paths = [{files}]")
    db.execute("SET enable_external_access = false")
    db.execute("SET lock_configuration = true")
    return db


def _refused(exc: duckdb.Error) -> bool:
    """Whether DuckDB refused what the sandbox of `_connect` keeps node SQL from doing."""
    locked = "configuration has been locked" in str(exc)
    return locked or isinstance(exc, duckdb.PermissionException)


def _outside(node: Node, message: str) -> ExecutionError:
    first = message.strip().splitlines()[0].split(" Error: ", 1)[-1]
    return ExecutionError(
        f"{node.id} ({node.file_path}): its SQL reaches outside the project's own folders or "
        f"DuckDB's settings, which node SQL may not: {first}",
        f"Read and write only the project's files in {node.file_path}; a project that needs "
        "more lists the folders under sql_sandbox: {allow: [...]} in seeknal_project.yml "
        "(or sets sql_sandbox: false).",
    )


def _hidden(value: Any, secrets: Sequence[str]) -> Any:
    return redact(value, secrets) if isinstance(value, str) else value


def _trim(sql: str) -> str:
    """`sql` without trailing comments and semicolons, so that it can be wrapped in `( )`.

    A trailing `-- comment` would otherwise swallow the closing parenthesis of COPY (...).
    """
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


_READERS = {".csv": "read_csv_auto", ".json": "read_json_auto", ".jsonl": "read_json_auto"}


def _unsupported(output: Output, action: str) -> ExecutionError:
    return ExecutionError(
        f"The duckdb engine cannot {action} {output.kind} output {output.location}; it writes "
        "files and reads files and folders.",
        "Use an engine that keeps tables for table outputs.",
    )
