"""`kind: source`: data read from a file (csv, parquet, json, jsonl) or, later, a database."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from seeknal.errors import ExecutionError
from seeknal.kinds.base import Change, Executed, ExecutionIO, FileChecks, KindSpec, misspelt
from seeknal.kinds.materializations import IDENTIFIER
from seeknal.project.placeholders import redact, render_env, secret_values
from seeknal.sql.quote import literal
from seeknal.types import Node, NodeKind

SOURCE_TYPES = ("csv", "parquet", "json", "jsonl", "postgresql", "iceberg")
FILE_SOURCE_TYPES = frozenset({"csv", "parquet", "json", "jsonl"})
WAREHOUSE_SOURCE_TYPES = frozenset({"postgresql", "iceberg"})
UNSAFE_PATH = re.compile(r"""['";\n\r\x00]""")
CSV_OPTIONS = {
    "delimiter": "delim",
    "delim": "delim",
    "sep": "delim",
    "header": "header",
    "quote": "quote",
    "escape": "escape",
    "skip": "skip",
    "dateformat": "dateformat",
    "timestampformat": "timestampformat",
    "nullstr": "nullstr",
    "all_varchar": "all_varchar",
    "sample_size": "sample_size",
}


class SourceSpec(KindSpec):
    kind = NodeKind.SOURCE
    keys = ("source", "table", "connection")

    def check(self, data: dict[str, Any], checks: FileChecks) -> None:
        stype = str(data.get("source", ""))
        line = checks.line("source")
        if stype not in SOURCE_TYPES:
            supported = ", ".join(SOURCE_TYPES)
            checks.problem(f"unsupported source type '{stype}' (supported: {supported})", line)
            return
        table = render_env(data.get("table"))
        if stype in FILE_SOURCE_TYPES and not table and misspelt(data, "table"):
            checks.problem(f"{stype} source needs 'table: <path>'{misspelt(data, 'table')}", line)
        elif stype in FILE_SOURCE_TYPES:
            _check_file_table(stype, table, checks, data.get("table"))
        elif stype == "postgresql":
            if not table and not (data.get("params") or {}).get("query"):
                checks.problem("postgresql source needs 'table:' or 'params.query'", line)
            elif table:
                _check_names(str(table), 2, "[schema.]table", checks)
        elif stype == "iceberg" and (not isinstance(table, str) or table.count(".") != 2):
            checks.problem("iceberg source needs 'table: catalog.namespace.table'", line)
        elif stype == "iceberg":
            _check_names(str(table), 3, "catalog.namespace.table", checks)

    def data_file(self, node: Node) -> str | None:
        if node.config.get("source") not in FILE_SOURCE_TYPES:
            return None
        return str(render_env(node.config.get("table", "")))

    def describe_change(
        self, node: Node, changed_keys: list[str], previous: Mapping[str, Any]
    ) -> Change | None:
        # the content moved while the config did not: only the data file can have
        return None if changed_keys else Change(True, "source data changed")

    def change_reason(self, previous: Mapping[str, Any], data_digest: str | None) -> str:
        if previous.get("data_digest") != data_digest:
            return "source data changed"
        return super().change_reason(previous, data_digest)

    def execute(self, node: Node, io: ExecutionIO) -> Executed:
        if node.config.get("source") in WAREHOUSE_SOURCE_TYPES:
            return Executed(io.write(f"SELECT * FROM {io.external()}"))
        return Executed(io.write(source_sql(node, io)))


def _check_file_table(stype: str, table: Any, checks: FileChecks, as_written: Any) -> None:
    if not isinstance(table, str) or not table:
        checks.problem(f"{stype} source needs 'table: <path>'", checks.line("source"))
        return
    shown = redact(table, secret_values(as_written))  # a path may hold a {{ env:...TOKEN }}
    if UNSAFE_PATH.search(table):
        checks.problem(
            f"table path {shown!r} contains a quote, ';' or newline; use a plain file path",
            checks.line("table"),
        )
    elif not checks.data_exists(table):
        folder = table.rstrip("/")
        if not any(ch in table for ch in "*?[") and checks.data_exists(f"{folder}/*"):
            checks.problem(
                f"table '{shown}' is a folder; name the files to read, e.g. '{folder}/*.{stype}'",
                checks.line("table"),
            )
            return
        checks.problem(
            f"data file '{shown}' does not exist (paths are relative to the project root)",
            checks.line("table"),
        )


def _check_names(table: str, most: int, shape: str, checks: FileChecks) -> None:
    parts = table.split(".")
    if len(parts) > most:
        checks.problem(f"'table: {table}' must be {shape}", checks.line("table"))
    for part in parts:
        if not IDENTIFIER.match(part):
            checks.problem(
                f"'{part}' in 'table: {table}' is not a plain identifier (letters, digits, _)",
                checks.line("table"),
            )


def source_sql(node: Node, io: ExecutionIO) -> str:
    """A query reading the source's file."""
    stype = str(node.config.get("source"))
    path = io.file_path(str(node.config.get("table", "")))
    params = node.config.get("params") or {}
    if stype == "csv":
        args = [literal(path)]
        for key, value in params.items():
            if str(key).lower() in CSV_OPTIONS:
                args.append(f"{CSV_OPTIONS[str(key).lower()]}={literal(value)}")
        return f"SELECT * FROM read_csv_auto({', '.join(args)})"
    if stype == "parquet":
        return f"SELECT * FROM read_parquet({literal(path)})"
    if stype == "json":
        return f"SELECT * FROM read_json_auto({literal(path)})"
    if stype == "jsonl":
        return f"SELECT * FROM read_json_auto({literal(path)}, format='newline_delimited')"
    raise ExecutionError(
        f"{node.id} ({node.file_path}): source type '{stype}' is not supported for execution yet.",
        "Use a csv, parquet, json or jsonl source, or leave this node out with --nodes.",
    )
