"""What the Spark engine hands a node's kind to execute it: `SparkNodeIO`, the `ExecutionIO` over
a Spark session of the node's own (its temp views meet no other node's), with its inputs as
parquet files and its output written by Spark into one file beside the output.

Kinds write DuckDB's SQL; every statement is transpiled (`sql/transpile.py`) before Spark runs
it. File sources are read by Spark's own readers, with DuckDB's defaults where they differ
(a header line, the columns of a JSON file in the order they appear).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from seeknal.engine.duckdb_support import hidden, trim_sql
from seeknal.errors import ExecutionError
from seeknal.kinds import spec_for
from seeknal.sql.quote import literal
from seeknal.sql.refs import replace_refs
from seeknal.sql.transpile import TranspileError, to_spark, to_spark_script
from seeknal.types import Node

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
CSV_OPTIONS = {"delimiter": "sep", "delim": "sep", "sep": "sep", "header": "header"}
CSV_OPTIONS |= {"quote": "quote", "escape": "escape", "nullstr": "nullValue"}

# Spark's type names as DuckDB's DESCRIBE writes them (kinds read DuckDB's names)
DUCKDB_TYPES = {
    "tinyint": "TINYINT",
    "smallint": "SMALLINT",
    "int": "INTEGER",
    "bigint": "BIGINT",
    "float": "FLOAT",
    "double": "DOUBLE",
    "string": "VARCHAR",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP WITH TIME ZONE",
    "timestamp_ntz": "TIMESTAMP",
    "binary": "BLOB",
}


class SparkNodeIO:
    """The `ExecutionIO` of one node on Spark; the output goes to the file `tmp`."""

    def __init__(
        self,
        session: Any,
        root: Path,
        node: Node,
        inputs: dict[str, Path],
        tmp: Path,
        schemas: dict[tuple[str, int, int], Any] | None = None,
    ) -> None:
        self.session = session
        self.root = root
        self.node = node
        self.inputs = inputs
        self.tmp = tmp
        self.secrets: Sequence[str] = ()
        # parquet schemas by (path, mtime, size): Spark infers one by reading the file's footer,
        # a round trip per input that an output read by several nodes need only make once
        self.schemas = schemas if schemas is not None else {}
        self.written: Any = None  # the schema of the output written

    def read_parquet(self, path: str) -> Any:
        key = file_key(path)
        schema = self.schemas.get(key) if key else None
        reader = self.session.read if schema is None else self.session.read.schema(schema)
        frame = reader.parquet(path)
        if key and schema is None:
            self.schemas[key] = frame.schema
        return frame

    # -- naming data -----------------------------------------------------------------------
    def relation(self, node_id: str) -> str:
        path = str(self.inputs[node_id])
        name = "seeknal_in_" + hashlib.sha1(path.encode()).hexdigest()[:16]
        self.read_parquet(path).createOrReplaceTempView(name)
        return name

    def external(self) -> str:
        raise ExecutionError(
            f"{self.node.id} ({self.node.file_path}): the spark engine reads file sources only.",
            "Run this node on DuckDB (seeknal run --engine duckdb), or read the table with a "
            "file source.",
        )

    def file_path(self, rel: str) -> str:
        return rel if os.path.isabs(rel) else str(self.root / rel)

    def trim(self, sql: str) -> str:
        return trim_sql(sql)

    def statements(self, sql: str) -> list[str]:
        from seeknal.engine.duckdb_io import split_statements

        return split_statements(sql)

    def bind(self, sql: str) -> str:
        for index, up in enumerate(self.node.inputs):
            name = f"input_{index}"
            if name in sql:
                self._view(name, up)
        if "__THIS__" in sql:
            self._view("__THIS__", spec_for(self.node.kind).this_input(self.node))
        return replace_refs(sql, self.relation)

    def _view(self, name: str, node_id: str) -> None:
        self.read_parquet(str(self.inputs[node_id])).createOrReplaceTempView(name)

    # -- running SQL -----------------------------------------------------------------------
    def frame(self, sql: str) -> Any:
        """A DataFrame of one DuckDB SELECT, transpiled."""
        return self.session.sql(self._spark(sql))

    def _spark(self, sql: str) -> str:
        try:
            return to_spark(sql)
        except TranspileError as exc:
            raise untranspilable(self.node, exc.construct) from None

    def scalar(self, sql: str) -> Any:
        rows = self.rows(sql)
        return rows[0][0] if rows else None

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        text = trim_sql(sql)
        if text[:9].upper() == "DESCRIBE ":
            schema = self.frame(text[9:]).schema
            return [(f.name, duckdb_type(f.dataType.simpleString()), "YES") for f in schema]
        return [tuple(r) for r in self.frame(text).collect()]

    # -- writing the output ----------------------------------------------------------------
    def write(self, select_sql: str, fmt: str = "parquet") -> int:
        return self.write_frame(self.frame(select_sql), fmt)

    def write_frame(self, frame: Any, fmt: str = "parquet") -> int:
        """Write a DataFrame as the node's output file (one file, as DuckDB writes); the count."""
        folder = self.tmp.with_name(self.tmp.name + ".spark")
        shutil.rmtree(folder, ignore_errors=True)
        try:
            writer = frame.coalesce(1).write.mode("overwrite")
            if fmt == "csv":
                writer = writer.option("header", "true").option(
                    "timestampNTZFormat", "yyyy-MM-dd HH:mm:ss[.SSSSSS]"
                )
                writer.csv(str(folder))
            elif fmt == "json":
                writer.option("ignoreNullFields", "false").json(str(folder))
            else:
                writer.parquet(str(folder))
            parts = sorted(p for p in folder.iterdir() if p.name.startswith("part-"))
            if len(parts) != 1:
                raise ExecutionError(
                    f"{self.node.id}: Spark wrote {len(parts)} files where one was expected.",
                    "Run it again; report it if it repeats.",
                )
            os.replace(parts[0], self.tmp)
            self.written = frame.schema if fmt == "parquet" else None
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return self._count(fmt, frame)

    def _count(self, fmt: str, frame: Any) -> int:
        if fmt != "parquet":
            return int(frame.count())
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(self.tmp).metadata.num_rows)

    def write_values(self, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> int:
        values = ", ".join(
            "(" + ", ".join(literal(hidden(v, self.secrets)) for v in row) + ")" for row in rows
        )
        return self.write(f"SELECT * FROM (VALUES {values}) AS r({', '.join(columns)})")

    def write_script(self, statements: Sequence[str]) -> int:
        own = SparkNodeIO(
            _fresh(self.session), self.root, self.node, self.inputs, self.tmp, self.schemas
        )
        for statement in statements[:-1]:
            try:
                own.session.sql(to_spark_script(own.bind(statement)))
            except TranspileError as exc:
                raise untranspilable(self.node, exc.construct) from None
        count = own.write(own.bind(statements[-1]))
        self.written = own.written
        return count

    def python_rows(self) -> str:
        raise ExecutionError(
            f"{self.node.id} ({self.node.file_path}): Python nodes run on DuckDB only.",
            "Run the project with --engine duckdb.",
        )

    # -- file sources ----------------------------------------------------------------------
    def read_file(self, node: Node) -> Any:
        """A source's data file as a DataFrame, read by Spark."""
        stype = str(node.config.get("source"))
        path = self.file_path(str(node.config.get("table", "")))
        params = node.config.get("params") or {}
        reader = self.session.read
        if stype == "csv":
            options = {"header": "true", "inferSchema": "true"}
            for key, value in params.items():
                if str(key).lower() in CSV_OPTIONS:
                    options[CSV_OPTIONS[str(key).lower()]] = _option(value)
                elif str(key).lower() == "all_varchar" and _option(value) == "true":
                    options["inferSchema"] = "false"
            return _wide_integers(reader.options(**options).csv(path))
        if stype == "parquet":
            return reader.parquet(path)
        multi = stype == "json" and _starts_with_array(path)
        frame = reader.options(inferTimestamp="true", multiLine=str(multi).lower()).json(path)
        first = _json_first(path, multi)
        known = [c for c in first if c in frame.columns]
        frame = frame.select(*known, *[c for c in frame.columns if c not in known])
        return _wide_integers(_json_dates(frame, first))


def _wide_integers(frame: Any) -> Any:
    """Whole numbers of a csv or json file as BIGINT, as DuckDB's readers type them."""
    from pyspark.sql import functions

    columns = [
        functions.col(f"`{f.name}`").cast("bigint").alias(f.name)
        if f.dataType.simpleString() in ("int", "smallint", "tinyint")
        else functions.col(f"`{f.name}`")
        for f in frame.schema
    ]
    return frame.select(*columns)


def _fresh(session: Any) -> Any:
    try:
        return session.newSession()
    except Exception:  # noqa: BLE001 - Spark Connect has no new sessions to give
        return session


def file_key(path: str | Path) -> tuple[str, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (str(path), st.st_mtime_ns, st.st_size)


def untranspilable(node: Node, construct: str) -> ExecutionError:
    return ExecutionError(
        f"{node.id} ({node.file_path}): its SQL cannot run on Spark: {construct}.",
        "Write it in SQL both engines share, or run the project on DuckDB (--engine duckdb).",
    )


def duckdb_type(spark_type: str) -> str:
    lower = spark_type.lower()
    if lower.startswith("decimal"):
        return "DECIMAL" + lower[len("decimal") :].replace(" ", "")
    return DUCKDB_TYPES.get(lower, lower.upper())


def _option(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _starts_with_array(path: str) -> bool:
    with open(path, encoding="utf-8") as handle:
        return handle.read(4096).lstrip().startswith("[")


def _json_dates(frame: Any, first: dict[str, Any]) -> Any:
    """Columns Spark inferred as timestamps whose first value is a date alone, as DATE (what
    DuckDB's reader infers for them)."""
    from pyspark.sql import functions

    columns = []
    for field in frame.schema:
        value = first.get(field.name)
        column = functions.col(f"`{field.name}`")
        if field.dataType.simpleString().startswith("timestamp") and _DATE.match(str(value)):
            column = column.cast("date").alias(field.name)
        columns.append(column)
    return frame.select(*columns)


def _json_first(path: str, multi: bool) -> dict[str, Any]:
    """A JSON file's first record, its keys in order (Spark's reader sorts them)."""
    try:
        with open(path, encoding="utf-8") as handle:
            if multi:
                first = (json.load(handle) or [{}])[0]
            else:
                first = json.loads(next((line for line in handle if line.strip()), "{}"))
    except (OSError, ValueError, StopIteration):
        return {}
    return first if isinstance(first, dict) else {}
