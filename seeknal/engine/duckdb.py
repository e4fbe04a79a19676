"""The DuckDB engine: materializes one node into its output file (temp file, then rename), and
reads outputs back (digest, schema, row count, read-only queries)."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import threading
from collections.abc import Mapping, MutableMapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import duckdb

from seeknal.digest import file_digest, tree_digest
from seeknal.engine.base import NodeResult, QueryResult
from seeknal.errors import ExecutionError
from seeknal.project.placeholders import render_env
from seeknal.sql.refs import replace_refs
from seeknal.types import EXECUTABLE_KINDS, Node, NodeKind, Output, OutputKind

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
_AGE = re.compile(r"^\s*(\d+)\s*([smhdw]?)\s*$")
_AGE_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class DuckDBEngine:
    """One in-memory database; every worker thread gets a connection of its own. Outputs are
    files (parquet, or an exposure's csv/json) and folders of parquet files; DuckDB keeps no
    tables between runs."""

    name = "duckdb"

    def __init__(self, project_root: Path) -> None:
        self.root = project_root
        self.db = duckdb.connect(":memory:")
        self._local = threading.local()

    def _con(self) -> duckdb.DuckDBPyConnection:
        con = getattr(self._local, "con", None)
        if con is None:
            con = self.db.cursor()
            self._local.con = con
        return con

    def close(self) -> None:
        self.db.close()

    def materialize(self, node: Node, inputs: Mapping[str, Output], output: Output) -> NodeResult:
        """Run `node` reading upstream outputs from `inputs` (id → output) into `output`."""
        if output.kind is not OutputKind.FILE:
            raise _unsupported(output, "write")
        if node.kind not in EXECUTABLE_KINDS:
            raise ExecutionError(
                f"{node.id} ({node.file_path}): kind '{node.kind}' is not supported for "
                "execution yet.",
                f"Remove it from the run with --nodes, or delete {node.file_path}.",
            )
        node = replace(
            node, config=render_env(node.config), sql=render_env(node.sql) if node.sql else None
        )
        path = output.path
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".seeknal-tmp-{os.getpid()}-{threading.get_ident()}-{path.name}")
        try:
            result = self._dispatch(node, {n: o.path for n, o in inputs.items()}, tmp, output)
            os.replace(tmp, path)
            return result
        except duckdb.Error as exc:
            message = str(exc).strip().splitlines()
            raise ExecutionError(
                f"{node.id} ({node.file_path}) failed in DuckDB: " + " ".join(message[:3]),
                (
                    f"Fix the SQL in {node.file_path}"
                    if node.kind is NodeKind.TRANSFORM
                    else f"Check {node.file_path} against its input's columns and types "
                    "(the data may have changed)"
                )
                + f", then run it again: seeknal run --nodes {node.id}",
            ) from None
        finally:
            tmp.unlink(missing_ok=True)

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

    def query(self, sql: str, relations: Mapping[str, Output]) -> QueryResult:
        try:
            statements = duckdb.extract_statements(sql)
        except duckdb.Error as exc:
            raise ExecutionError(f"The query is not valid SQL: {str(exc).strip()}") from None
        if len(statements) != 1 or statements[0].type is not duckdb.StatementType.SELECT:
            raise ExecutionError(
                "A query must be one SELECT statement; it only reads outputs.",
                "Remove other statements (CREATE, COPY, INSERT, ...) from the query.",
            )

        def bind(ref: str) -> str:
            if ref not in relations:
                raise ExecutionError(
                    f"The query reads ref('{ref}'), which is not one of its inputs.",
                    f"Its inputs: {', '.join(sorted(relations)) or 'none'}.",
                )
            return self._relation(relations[ref])

        bound = replace_refs(_trim(sql), bind)
        cursor = self._read(None, bound)
        return QueryResult([str(d[0]) for d in cursor.description or []], cursor.fetchall())

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
            what = f"Reading {output}" if output else "The query"
            raise ExecutionError(
                f"{what} failed in DuckDB: " + " ".join(str(exc).strip().splitlines()[:3]),
                "Check the output exists and the SQL names its columns; "
                "'seeknal run' writes outputs again.",
            ) from None

    # -- kinds -----------------------------------------------------------------------------
    def _dispatch(self, node: Node, inputs: dict[str, Path], tmp: Path, out: Output) -> NodeResult:
        if node.kind is NodeKind.SOURCE:
            return self._copy(self.source_sql(node), tmp, out)
        if node.kind is NodeKind.TRANSFORM:
            return self._transform(node, inputs, tmp, out)
        if node.kind is NodeKind.PROFILE:
            upstream = _single(node, inputs)
            # `profile: {columns: [...]}` limits the statistics to those columns
            options = node.config.get("profile") or {}
            wanted = options.get("columns") if isinstance(options, dict) else None
            selected = ", ".join(ident(str(c)) for c in wanted) if wanted else "*"
            sql = (
                f"SELECT * FROM (SUMMARIZE SELECT {selected} "
                f"FROM read_parquet({literal(upstream)}))"
            )
            return self._copy(sql, tmp, out)
        if node.kind is NodeKind.RULE:
            return self._rule(node, inputs, tmp, out)
        return self._exposure(node, inputs, tmp, out)

    def _copy(self, select: str, tmp: Path, out: Output, fmt: str = "parquet") -> NodeResult:
        options = {
            "parquet": "FORMAT parquet",
            "csv": "FORMAT csv, HEADER true",
            "json": "FORMAT json",
        }[fmt]
        row = self._con().execute(f"COPY ({select}) TO {literal(tmp)} ({options})").fetchone()
        return NodeResult(row_count=int(row[0]) if row else 0, output=out)

    def source_sql(self, node: Node) -> str:
        stype = str(node.config.get("source"))
        table = str(node.config.get("table", ""))
        path = table if os.path.isabs(table) else str(self.root / table)
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
            f"{node.id} ({node.file_path}): source type '{stype}' is not supported for "
            "execution yet.",
            "Use a csv, parquet, json or jsonl source, or leave this node out with --nodes.",
        )

    def _bind_inputs(self, con: Any, node: Node, inputs: dict[str, Path], sql: str) -> str:
        """Replace ref('x') with the upstream file, and define input_N / __THIS__ views."""
        for index, up in enumerate(node.inputs):
            name = f"input_{index}"
            if name in sql:
                con.execute(
                    f"CREATE OR REPLACE TEMP VIEW {name} AS "
                    f"SELECT * FROM read_parquet({literal(inputs[up])})"
                )
        if "__THIS__" in sql:
            con.execute(
                "CREATE OR REPLACE TEMP VIEW __THIS__ AS "
                f"SELECT * FROM read_parquet({literal(_single(node, inputs))})"
            )
        return replace_refs(sql, lambda ref: f"read_parquet({literal(inputs[ref])})")

    def _transform(self, node: Node, inputs: dict[str, Path], tmp: Path, out: Output) -> NodeResult:
        assert node.sql is not None
        statements = [_trim(s.query) for s in duckdb.extract_statements(node.sql)]
        statements = [s for s in statements if s]
        if not statements:
            raise ExecutionError(f"{node.id} ({node.file_path}): the transform SQL is empty.")
        if len(statements) == 1:
            con = self._con()
            sql = self._bind_inputs(con, node, inputs, statements[0])
            row = con.execute(f"COPY ({sql}) TO {literal(tmp)} (FORMAT parquet)").fetchone()
            return NodeResult(row_count=int(row[0]) if row else 0, output=out)
        # Several statements may create tables; give them a database of their own so that
        # names never collide with another node's.
        con = duckdb.connect(":memory:")
        try:
            for statement in statements[:-1]:
                con.execute(self._bind_inputs(con, node, inputs, statement))
            last = self._bind_inputs(con, node, inputs, statements[-1])
            row = con.execute(f"COPY ({last}) TO {literal(tmp)} (FORMAT parquet)").fetchone()
            return NodeResult(row_count=int(row[0]) if row else 0, output=out)
        finally:
            con.close()

    def _rule(self, node: Node, inputs: dict[str, Path], tmp: Path, out: Output) -> NodeResult:
        con = self._con()
        source = f"read_parquet({literal(_single(node, inputs))})"
        rules = node.config.get("rule")
        entries: list[dict[str, Any]] = (
            rules if isinstance(rules, list) else [rules] if isinstance(rules, dict) else []
        )
        params = node.config.get("params") or {}
        severity = str(params.get("severity", "error"))
        rows: list[tuple[str, str, int, int, bool, str]] = []
        total_row = con.execute(f"SELECT count(*) FROM {source}").fetchone()
        total = int(total_row[0]) if total_row else 0
        for entry in entries:
            if entry.get("type") == "profile_check":
                rows.extend(self._profile_checks(con, node, entry, source, severity))
                continue
            check, violations = self._rule_violations(con, node, entry, inputs, source)
            rows.append(
                (str(entry.get("type")), check, violations, total, violations == 0, severity)
            )
        values = ", ".join(
            f"({literal(t)}, {literal(c)}, {v}, {n}, {literal(ok)}, {literal(sev)})"
            for t, c, v, n, ok, sev in rows
        )
        select = (
            "SELECT * FROM (VALUES "
            + values
            + ") AS r(rule_type, check_description, violations, total_rows, passed, severity)"
        )
        self._copy(select, tmp, out)
        message = str(params.get("error_message") or f"rule {node.id} found violations")
        errors = [r for r in rows if not r[4] and r[5] == "error"]
        if errors:
            detail = "; ".join(_violation(r) for r in errors)
            raise ExecutionError(
                f"{node.id} ({node.file_path}): {message} ({detail})",
                "Fix the data or the rule, or set params.severity: warn to only report it.",
            )
        warned = [r for r in rows if not r[4]]
        warnings = [f"{message} ({'; '.join(_violation(r) for r in warned)})"] if warned else []
        return NodeResult(row_count=len(rows), output=out, warnings=warnings)

    def _profile_checks(
        self, con: Any, node: Node, entry: dict[str, Any], source: str, severity: str
    ) -> list[tuple[str, str, int, int, bool, str]]:
        """The older tool's `profile_check`: thresholds on a profile's (or a table's) statistics.

        Each check has a `metric` (row_count, avg, min, max, stddev, null_percent,
        distinct_count), a `column` for column metrics, and `fail:` and/or `warn:` conditions
        like "> 50" or "= 0"."""
        rows: list[tuple[str, str, int, int, bool, str]] = []
        columns = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()]
        summarized = {"column_name", "null_percentage", "approx_unique"} <= set(columns)
        for check in entry.get("checks") or []:
            if not isinstance(check, dict) or "metric" not in check:
                raise ExecutionError(
                    f"{node.id} ({node.file_path}): each profile_check check needs a 'metric'."
                )
            metric, column = str(check["metric"]), check.get("column")
            value = _profile_metric(con, node, source, summarized, metric, column)
            label = f"{metric}({column})" if column else metric
            for level in ("fail", "warn"):
                if level not in check:
                    continue
                condition = str(check[level])
                hit = _condition(node, value, condition)
                rows.append(
                    (
                        "profile_check",
                        f"{label} = {value:g} must not be {condition}",
                        int(hit),
                        1,
                        not hit,
                        severity if level == "fail" else "warn",
                    )
                )
        return rows

    def _rule_violations(
        self, con: Any, node: Node, entry: dict[str, Any], inputs: dict[str, Path], source: str
    ) -> tuple[str, int]:
        rtype = str(entry.get("type"))
        params = entry.get("params") or {}
        columns = entry.get("columns") or ([entry["column"]] if entry.get("column") else [])
        columns = [str(c) for c in (columns if isinstance(columns, list) else [columns])]
        need_column = rtype in ("null", "uniqueness", "range", "freshness")
        if need_column and not columns:
            raise ExecutionError(
                f"{node.id} ({node.file_path}): rule type '{rtype}' needs 'column' or 'columns'."
            )

        def count(sql: str) -> int:
            row = con.execute(sql).fetchone()
            return int(row[0]) if row and row[0] is not None else 0

        if rtype == "null":
            # max_null_percentage is a percentage of rows (0-100); 0 allows no nulls at all
            limit = float(params.get("max_null_percentage", 0.0))
            total = count(f"SELECT count(*) FROM {source}")
            worst = 0
            for col in columns:
                nulls = count(f"SELECT count(*) FROM {source} WHERE {ident(col)} IS NULL")
                if total and 100.0 * nulls / total > limit:
                    worst += nulls
            return f"nulls in {', '.join(columns)} at most {limit:g}%", worst
        if rtype == "uniqueness":
            cols = ", ".join(ident(c) for c in columns)
            dupes = count(
                f"SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM {source} "
                f"GROUP BY {cols} HAVING count(*) > 1)"
            )
            return f"{', '.join(columns)} unique", dupes
        if rtype == "range":
            col = ident(columns[0])
            conds = []
            if params.get("min_val") is not None:
                conds.append(f"{col} < {literal(params['min_val'])}")
            if params.get("max_val") is not None:
                conds.append(f"{col} > {literal(params['max_val'])}")
            where = " OR ".join(conds) or "false"
            bounds = f"[{params.get('min_val', '-inf')}, {params.get('max_val', 'inf')}]"
            return f"{columns[0]} in {bounds}", count(
                f"SELECT count(*) FROM {source} WHERE {where}"
            )
        if rtype == "freshness":
            col = ident(columns[0])
            max_age = _seconds(params.get("max_age", "1d"), node)
            newest = con.execute(f"SELECT max({col})::TIMESTAMP FROM {source}").fetchone()
            stale = newest is None or newest[0] is None
            if not stale:
                # timestamps without a zone are taken as UTC, like every time seeknal writes
                age = dt.datetime.now(dt.UTC).replace(tzinfo=None) - newest[0]
                stale = age.total_seconds() > max_age
            return f"newest {columns[0]} within {params.get('max_age', '1d')}", int(stale)
        if rtype == "sql_assertion":
            sql = str(entry.get("sql") or params.get("sql") or "")
            if not sql:
                raise ExecutionError(f"{node.id} ({node.file_path}): sql_assertion needs 'sql'.")
            bound = self._bind_inputs(con, node, inputs, _trim(sql))
            return "assertion query returns no rows", count(f"SELECT count(*) FROM ({bound})")
        # custom: a boolean expression every row must satisfy
        expr = str(entry.get("expression") or entry.get("sql") or params.get("expression") or "")
        if not expr:
            raise ExecutionError(f"{node.id} ({node.file_path}): custom rule needs 'expression'.")
        cond = _trim(expr)
        return expr, count(f"SELECT count(*) FROM {source} WHERE NOT coalesce(({cond}), false)")

    def _exposure(self, node: Node, inputs: dict[str, Path], tmp: Path, out: Output) -> NodeResult:
        etype = str(node.config.get("type", "file"))
        if etype != "file":
            # only file exposures produce something; never invent a file for the others
            raise ExecutionError(
                f"{node.id} ({node.file_path}): exposure type '{etype}' is not supported for "
                "execution yet (supported: file).",
                f"Leave it out of the run with --nodes, or delete {node.file_path}.",
            )
        params = node.config.get("params") or {}
        fmt = str(params.get("format", "csv"))
        upstream = _single(node, inputs)
        return self._copy(f"SELECT * FROM read_parquet({literal(upstream)})", tmp, out, fmt)


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


def _single(node: Node, inputs: dict[str, Path]) -> Path:
    """The node's one input. A rule checks its first input; further inputs are nodes its
    sql_assertion joins against."""
    if node.kind is NodeKind.RULE and node.inputs:
        return inputs[node.inputs[0]]
    if len(node.inputs) != 1:
        raise ExecutionError(
            f"{node.id} ({node.file_path}) reads one input, but has {len(node.inputs)}.",
            "List exactly one input under 'inputs' (or 'depends_on').",
        )
    return inputs[node.inputs[0]]


def _violation(row: tuple[str, str, int, int, bool, str]) -> str:
    if row[0] == "profile_check":
        return row[1]
    return f"{row[1]}: {row[2]} violating row(s)"


_PROFILE_COLUMNS = {
    "avg": ("avg", "avg({c})"),
    "mean": ("avg", "avg({c})"),
    "min": ("min", "min({c})"),
    "max": ("max", "max({c})"),
    "stddev": ("std", "stddev({c})"),
    "std": ("std", "stddev({c})"),
    "null_percent": ("null_percentage", "100.0 * count_if({c} IS NULL) / count(*)"),
    "null_percentage": ("null_percentage", "100.0 * count_if({c} IS NULL) / count(*)"),
    "distinct_count": ("approx_unique", "count(DISTINCT {c})"),
}
_CONDITION = re.compile(r"^\s*(==|=|!=|<>|<=|>=|<|>)\s*(-?\d+(?:\.\d+)?)\s*$")


def _profile_metric(
    con: Any, node: Node, source: str, summarized: bool, metric: str, column: Any
) -> float:
    def one(sql: str) -> float:
        row = con.execute(sql).fetchone()
        return float(row[0]) if row and row[0] is not None else 0.0

    if metric == "row_count":
        if summarized:
            return one(f"SELECT max(count) FROM {source}")
        return one(f"SELECT count(*) FROM {source}")
    if metric not in _PROFILE_COLUMNS or not column:
        raise ExecutionError(
            f"{node.id} ({node.file_path}): profile_check metric '{metric}' "
            + ("needs a 'column'." if metric in _PROFILE_COLUMNS else "is unknown")
            + (
                ""
                if metric in _PROFILE_COLUMNS
                else f" (known: row_count, {', '.join(_PROFILE_COLUMNS)})."
            ),
        )
    stat, expression = _PROFILE_COLUMNS[metric]
    if summarized:
        return one(
            f"SELECT TRY_CAST({ident(stat)} AS DOUBLE) FROM {source} "
            f"WHERE column_name = {literal(column)}"
        )
    return one(f"SELECT ({expression.format(c=ident(str(column)))})::DOUBLE FROM {source}")


def _condition(node: Node, value: float, condition: str) -> bool:
    match = _CONDITION.match(condition)
    if not match:
        raise ExecutionError(
            f"{node.id} ({node.file_path}): condition '{condition}' is not like '> 50' or '= 0'."
        )
    op, number = match.group(1), float(match.group(2))
    return {
        "=": value == number,
        "==": value == number,
        "!=": value != number,
        "<>": value != number,
        "<": value < number,
        "<=": value <= number,
        ">": value > number,
        ">=": value >= number,
    }[op]


def _seconds(value: Any, node: Node) -> float:
    match = _AGE.match(str(value))
    if not match:
        raise ExecutionError(
            f"{node.id} ({node.file_path}): max_age '{value}' is not like 30m, 24h or 7d."
        )
    return int(match.group(1)) * _AGE_UNITS[match.group(2)]


_READERS = {".csv": "read_csv_auto", ".json": "read_json_auto", ".jsonl": "read_json_auto"}


def _unsupported(output: Output, action: str) -> ExecutionError:
    return ExecutionError(
        f"The duckdb engine cannot {action} {output.kind} output {output.location}; it writes "
        "files and reads files and folders.",
        "Use an engine that keeps tables for table outputs.",
    )
