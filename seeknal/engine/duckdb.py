"""The DuckDB engine: materializes one node into its output file (temp file, then rename), and
reads outputs back (digest, schema, row count, read-only queries).

What a node computes is its kind's (seeknal/kinds/); this module hands the kind an `ExecutionIO`
over a DuckDB connection, with the node's inputs as parquet files.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seeknal.digest import file_digest, tree_digest
from seeknal.engine.base import DataDiff, NodeResult, QueryResult, Session
from seeknal.engine.duckdb_core import relational
from seeknal.engine.duckdb_io import NodeIO
from seeknal.engine.duckdb_support import (
    READERS,
    SELECT_ONLY,
    connect,
    fetch,
    first_lines,
    outside_sandbox,
    python_rows_path,
    query_failed,
    read_only,
    refused,
    stop_if_interrupted,
    temp_path,
    to_arrow,
    trim_sql,
    unsupported,
    worker_threads,
)
from seeknal.engine.swap import Swap
from seeknal.engine.warehouse import Warehouse, pg_type
from seeknal.errors import ExecutionError
from seeknal.kinds import spec_for
from seeknal.kinds.materializations import parse
from seeknal.project.placeholders import redact, render_env, secret_values
from seeknal.project.profiles import ProfileError
from seeknal.sigint import on_sigint
from seeknal.sql.quote import ident, literal
from seeknal.sql.refs import replace_refs
from seeknal.state import failpoints
from seeknal.types import FileAccess, Node, Output, OutputKind

CLOSE_WAIT_SECONDS = 5.0  # for a query interrupted on another thread to let go of the database

if TYPE_CHECKING:
    import duckdb
else:
    from seeknal.engine.duckdb_support import duckdb


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
        workers: int = 1,
    ) -> None:
        self.root = project_root
        self.warehouse = warehouse
        self.access = access
        self.db = connect(access, worker_threads(workers))
        self._local = threading.local()
        self._comparisons: Any = None  # engine.compare.ComparisonDB, opened by compare()
        self._open: list[duckdb.DuckDBPyConnection] = []  # what `interrupt` stops
        self._swap = Swap()  # puts new outputs in place of old ones
        self._folders: set[Path] = set()  # output folders known to exist

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
        self._swap.close()
        self._close_db()
        if self._comparisons is not None:
            self._comparisons.close()

    def _close_db(self) -> None:
        """Close the database; a query still running on another thread (one Ctrl-C cut short
        while the run wound down) is interrupted first. DuckDB refuses to close a database in
        use, and that refusal used to replace the Ctrl-C's message with an internal error."""
        deadline = time.monotonic() + CLOSE_WAIT_SECONDS
        while True:
            try:
                self.db.close()
                return
            except duckdb.Error as exc:
                if "busy" not in str(exc) or time.monotonic() > deadline:
                    raise
            self.interrupt()
            time.sleep(0.02)

    def materialize(self, node: Node, inputs: Mapping[str, Output], output: Output) -> NodeResult:
        """Run `node` reading upstream outputs from `inputs` (id → output) into `output`.

        The values of sensitive `{{ env:VAR }}` placeholders are filled in here, so this is
        where they are taken out again: of errors, warnings and the rows seeknal writes."""
        if output.kind is not OutputKind.FILE:
            raise unsupported(output, "write")
        spec = spec_for(node.kind)
        if not spec.runs:
            raise spec.cannot_execute(node)
        secrets = secret_values([node.config, node.sql])
        node = replace(
            node, config=render_env(node.config), sql=render_env(node.sql) if node.sql else None
        )
        path = output.path
        if path.parent not in self._folders:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._folders.add(path.parent)
        tmp = temp_path(path)
        placed = False
        try:
            paths = {n: o.path for n, o in inputs.items()}
            io = NodeIO(
                self._con(), self.root, node, paths, tmp, self.warehouse, secrets, self.access
            )
            if node.python is not None:
                done = spec.execute_rows(node, io, io.python_rows())
            else:
                done = spec.execute(node, io)
            # the warehouse tables first: when one cannot be written, the node fails as a whole
            if parse(node.config):
                self.materialize_tables(node, Output.file(tmp))
            failpoints.hit(f"write.{node.kind}")  # crash tests: killed with the temp file written
            self._swap.replace(tmp, path)
            placed = True
            warnings = [redact(w, secrets) for w in done.warnings]
            return NodeResult(row_count=done.row_count, output=output, warnings=warnings)
        except duckdb.Error as exc:
            if self.access is not None and refused(exc):
                raise outside_sandbox(node, redact(str(exc), secrets)) from None
            message = redact(" ".join(str(exc).strip().splitlines()[:3]), secrets)
            raise ExecutionError(
                f"{node.id} ({node.file_path}) failed in DuckDB: {message}",
                spec.failure_hint(node) + f", then run it again: seeknal run --nodes {node.id}",
            ) from None
        except ExecutionError as exc:
            raise ExecutionError(redact(exc.message, secrets), redact(exc.hint, secrets)) from None
        finally:
            if not placed:
                tmp.unlink(missing_ok=True)
            if node.python is not None:
                python_rows_path(tmp).unlink(missing_ok=True)

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
        relation = f"{READERS.get(data.suffix.lower(), 'read_parquet')}({literal(data)})"
        described = con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
        columns, selected = [], []
        for name, dtype, *_ in described:
            as_text = pg_type(str(dtype)) == "text" and str(dtype) != "VARCHAR"
            selected.append(f"CAST({ident(name)} AS VARCHAR)" if as_text else ident(name))
            columns.append((str(name), "VARCHAR" if as_text else str(dtype)))
        select = f"SELECT {', '.join(selected)} FROM {relation}"
        relational()  # the Arrow table below comes from the relational API
        try:
            return self.warehouse.materialize(
                node,
                columns,
                lambda: con.execute(select).fetchall(),
                lambda: to_arrow(con.sql(f"SELECT * FROM {relation}")),
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
        raise unsupported(output, "read")

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

        bound = replace_refs(trim_sql(sql), bind)
        with on_sigint(self._con().interrupt):  # rows are produced while they are fetched too
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
            raise unsupported(output, "drop")

    def _relation(self, output: Output) -> str:
        """SQL that reads an output: a parquet folder, or a file by its extension."""
        if output.kind is OutputKind.DIR:
            return f"read_parquet({literal(output.path / '**' / '*.parquet')})"
        if output.kind is not OutputKind.FILE:
            raise unsupported(output, "read")
        reader = READERS.get(output.path.suffix.lower(), "read_parquet")
        return f"{reader}({literal(output.location)})"

    def _read(self, output: Output | None, sql: str) -> Any:
        con = self._con()
        try:
            with on_sigint(con.interrupt):  # Ctrl-C stops the query at once
                return con.execute(sql)
        except RuntimeError as exc:
            stop_if_interrupted(exc)
            raise
        except duckdb.Error as exc:
            stop_if_interrupted(exc)
            if output is None:
                raise query_failed(exc) from None
            raise ExecutionError(
                f"Reading {output} failed in DuckDB: " + first_lines(exc),
                "Check the output exists and the SQL names its columns; "
                "'seeknal run' writes outputs again.",
            ) from None
