"""What the DuckDB engine hands a node's kind to execute it: `NodeIO`, the `ExecutionIO` over one
connection, with the node's inputs as parquet files and its output written to a temp file."""

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seeknal.engine.duckdb_core import relational
from seeknal.engine.duckdb_support import (
    connect,
    hidden,
    python_rows_path,
    trim_sql,
)
from seeknal.engine.warehouse import Warehouse
from seeknal.errors import ExecutionError
from seeknal.kinds import spec_for
from seeknal.project.profiles import ProfileError
from seeknal.sql.quote import ident, literal
from seeknal.sql.refs import replace_refs
from seeknal.types import FileAccess, Node

if TYPE_CHECKING:
    import duckdb
else:
    from seeknal.engine.duckdb_support import duckdb

FORMATS = {"parquet": "FORMAT parquet", "csv": "FORMAT csv, HEADER true", "json": "FORMAT json"}


def split_statements(sql: str) -> list[str]:
    """The statements of a script, each trimmed; empty ones left out."""
    if ";" not in sql:
        # one statement at most: DuckDB's parser would only say so, and it costs as much
        # as a small node's query (the loader already checked the syntax)
        one = trim_sql(sql)
        return [one] if one else []
    trimmed = [trim_sql(s.query) for s in duckdb.extract_statements(sql)]
    return [s for s in trimmed if s]


class NodeIO:
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
        relational()  # registering Arrow data takes the package's readers of it
        self.con.register(name, data)
        return ident(name)

    def relation(self, node_id: str) -> str:
        return f"read_parquet({literal(self.inputs[node_id])})"

    def file_path(self, rel: str) -> str:
        return rel if os.path.isabs(rel) else str(self.root / rel)

    def trim(self, sql: str) -> str:
        return trim_sql(sql)

    def statements(self, sql: str) -> list[str]:
        return split_statements(sql)

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
        copy = f"COPY ({select_sql}) TO {literal(self.tmp)} ({FORMATS[fmt]})"
        try:
            row = self.con.execute(copy).fetchone()
        except duckdb.ParserException:
            self._refuse_not_a_query(select_sql)
            raise
        return int(row[0]) if row else 0

    def _refuse_not_a_query(self, select_sql: str) -> None:
        """The wrapper's parser error would show COPY and a temp path for SQL whose last
        statement is not a query (a project loaded without the parse check, or kept from it)."""
        from seeknal.engine.duckdb_core import not_a_query

        try:
            found = not_a_query(select_sql, duckdb.extract_statements(select_sql))
        except duckdb.Error:
            return
        if found is not None:
            raise ExecutionError(
                f"{self.node.id} ({self.node.file_path}): {found[0]}.",
                f"Fix the SQL in {self.node.file_path}",
            ) from None

    def write_values(self, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> int:
        values = ", ".join(
            "(" + ", ".join(literal(hidden(v, self.secrets)) for v in row) + ")" for row in rows
        )
        names = ", ".join(columns)
        return self.write(f"SELECT * FROM (VALUES {values}) AS r({names})")

    def python_rows(self) -> str:
        """Run the node's Python function (seeknal/engine/python_run.py); SQL naming the rows
        it returned, for its kind's `execute_rows`."""
        from seeknal.engine.python_run import run_python

        rows = python_rows_path(self.tmp)
        run_python(self.node, self.inputs, rows, self.root)
        return f"read_parquet({literal(rows)})"

    def write_script(self, statements: Sequence[str]) -> int:
        con = connect(self.access)
        try:
            script = NodeIO(con, self.root, self.node, self.inputs, self.tmp, self.warehouse)
            for statement in statements[:-1]:
                con.execute(script.bind(statement))
            return script.write(script.bind(statements[-1]))
        finally:
            con.close()
