"""`kind: profile`: statistics of every column of its input, or of the columns listed under
`profile.columns`, one row per statistic (docs/concepts.md): `column_name`, `metric`, `value`
(text) and `detail` (the JSON list of the most frequent values, for `top_values`), starting with
the table's `row_count` under the column name `_table_`. `profile.params.max_top_values: N`
(5 by default) bounds the `top_values` list of text and boolean columns."""

from __future__ import annotations

from typing import Any

from seeknal.kinds.base import Executed, ExecutionIO, FileChecks, KindSpec
from seeknal.project.shapes import TEXT_LIST, Shape, is_text_list
from seeknal.sql.quote import ident, literal
from seeknal.types import Node, NodeKind

OPTIONS = ("columns", "params")
PARAMS = ("max_top_values",)
DEFAULT_TOP_VALUES = 5
TABLE = "_table_"
# Bumped whenever the rows a profile writes change shape, so that the next run recomputes
# every profile instead of keeping outputs of an older layout (docs/decisions.md).
LAYOUT = "metric-rows"

_NUMERIC = {
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "FLOAT", "DOUBLE",
    "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT",
}  # fmt: skip
_TIMESTAMP = {
    "TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ", "TIMESTAMP_S", "TIMESTAMP_MS",
    "TIMESTAMP_NS", "DATE",
}  # fmt: skip
_BINARY = {"BLOB", "BYTEA"}


class ProfileSpec(KindSpec):
    kind = NodeKind.PROFILE
    keys = ("profile",)
    passes_columns_through = True

    def shape_problems(self, data: dict[str, Any]) -> list[tuple[str, str]]:
        shape = Shape()
        options = data.get("profile")
        ok = isinstance(options, dict)
        shape.expect("profile", "profile", options, ok, "a mapping, e.g. {columns: [a, b]}")
        if isinstance(options, dict):
            wanted = options.get("columns")
            shape.expect("profile", "profile.columns", wanted, is_text_list(wanted), TEXT_LIST)
            params = options.get("params")
            ok = isinstance(params, dict)
            shape.expect("profile", "profile.params", params, ok, "a mapping of option: value")
        return shape.found

    def check(self, data: dict[str, Any], checks: FileChecks) -> None:
        self.check_one_input(data, checks)
        options = data.get("profile") or {}
        if not isinstance(options, dict):
            return
        params = options.get("params") or {}
        unknown = [f"profile.{k}" for k in options if k not in OPTIONS]
        unknown += [f"profile.params.{k}" for k in params if k not in PARAMS]
        line = checks.line("profile")
        if unknown:
            checks.problem(
                f"{', '.join(unknown)}: not a profile option (known: profile.columns, "
                "profile.params.max_top_values); another option would be ignored",
                line,
            )
        top = params.get("max_top_values")
        if top is not None and (isinstance(top, bool) or not isinstance(top, int) or top < 1):
            checks.problem(
                f"profile.params.max_top_values must be a positive integer, not {top!r}", line
            )

    def execution_config(self, node: Node, normalize: Any) -> dict[str, Any]:
        return {**node.config, "layout": LAYOUT}

    def execute(self, node: Node, io: ExecutionIO) -> Executed:
        source = io.relation(self.this_input(node))
        options = node.config.get("profile") or {}
        wanted = options.get("columns") if isinstance(options, dict) else None
        top = (options.get("params") or {}).get("max_top_values") if options else None
        described = [(str(r[0]), str(r[1])) for r in io.rows(f"DESCRIBE SELECT * FROM {source}")]
        warnings: tuple[str, ...] = ()
        if wanted:
            present = {name for name, _ in described}
            missing = [str(c) for c in wanted if str(c) not in present]
            if missing:
                warnings = (
                    f"{node.id}: profile.columns {', '.join(missing)} not in the input; "
                    "profiled the others",
                )
            described = [(n, t) for n, t in described if n in {str(c) for c in wanted}]
        stats = [(TABLE, "row_count", "CAST(count(*) AS BIGINT)")]
        tops: list[tuple[str, str]] = []
        for name, column_type in described:
            more, top_sql = _column_stats(name, column_type, source, int(top or DEFAULT_TOP_VALUES))
            stats += more
            tops += [(name, top_sql)] if top_sql else []
        return Executed(io.write(_ordered(stats, tops, source)), warnings)


def category(column_type: str) -> str:
    """Which statistics a column of this DuckDB type gets: numeric, timestamp, binary or text
    (any other type, booleans, lists and structs included)."""
    upper = column_type.upper()
    if upper in _NUMERIC or upper.startswith("DECIMAL"):
        return "numeric"
    if upper in _TIMESTAMP:
        return "timestamp"
    return "binary" if upper in _BINARY else "text"


def _column_stats(
    name: str, column_type: str, source: str, top: int
) -> tuple[list[tuple[str, str, str]], str | None]:
    """(column, metric, aggregate) of one column's statistics, and the query of its
    `top_values` list (None when it has none)."""
    c = ident(name)
    nulls = f"CAST(sum(CASE WHEN {c} IS NULL THEN 1 ELSE 0 END) AS BIGINT)"
    # the percentage of all rows, 0 for an empty input
    share = (
        f"CASE WHEN count(*) = 0 THEN 0 "
        f"ELSE 100.0 * sum(CASE WHEN {c} IS NULL THEN 1 ELSE 0 END) / count(*) END"
    )
    rows = [(name, "null_count", nulls), (name, "null_percent", share)]
    kind = category(column_type)
    if kind == "binary":
        return rows, None
    rows.append((name, "distinct_count", f"CAST(count(DISTINCT {c}) AS BIGINT)"))
    stats: list[tuple[str, str]] = []
    if kind == "numeric":
        stats = [
            ("min", f"min({c})"),
            ("max", f"max({c})"),
            ("avg", f"avg({c})"),
            ("sum", f"CAST(sum({c}) AS DOUBLE)"),
            ("stddev", f"stddev({c})"),
        ]
        stats += [(f"p{int(q * 100)}", f"approx_quantile({c}, {q})") for q in (0.25, 0.5, 0.75)]
    elif kind == "timestamp":
        age = f"epoch(CURRENT_TIMESTAMP - CAST(max({c}) AS TIMESTAMP)) / 3600.0"
        stats = [
            ("min", f"min({c})"),
            ("max", f"max({c})"),
            ("freshness_hours", f"CASE WHEN max({c}) IS NULL THEN NULL ELSE {age} END"),
        ]
    else:
        return rows, _top_values(name, source, top)
    return rows + [(name, metric, value) for metric, value in stats], None


def _top_values(name: str, source: str, top: int) -> str:
    """The `top` most frequent non-null values, each with its count and percent of the
    non-null rows; ties go to the smaller value as text, so reruns write the same list."""
    c = ident(name)
    counted = (
        f"SELECT {c} AS val, CAST(count(*) AS BIGINT) AS cnt, "
        f"100.0 * count(*) / sum(count(*)) OVER () AS pct FROM {source} "
        f"WHERE {c} IS NOT NULL GROUP BY {c} ORDER BY cnt DESC, CAST(val AS VARCHAR) LIMIT {top}"
    )
    listed = (
        f"(SELECT list(json_object('value', CAST(val AS VARCHAR), 'count', cnt, "
        f"'percent', round(pct, 2)) ORDER BY cnt DESC, CAST(val AS VARCHAR)) FROM ({counted}))"
    )
    return f"CAST({listed} AS VARCHAR)"


def _ordered(stats: list[tuple[str, str, str]], tops: list[tuple[str, str]], source: str) -> str:
    """One query of all rows: every statistic computed in one pass over the input (a row of
    aggregates), each `top_values` list by its own query, then one row per statistic in the
    order they were listed (a column's `top_values` after its other statistics)."""
    aggregates = ", ".join(f"CAST({v} AS VARCHAR) AS s{i}" for i, (_, _, v) in enumerate(stats))
    lists = ", ".join(f"{sql} AS d{i}" for i, (_, sql) in enumerate(tops)) or "NULL AS d0"
    listed: list[tuple[str, str, str, str]] = []  # (column, metric, value, detail)
    for i, (column, metric, _) in enumerate(stats):
        listed.append((column, metric, f"s{i}", "NULL"))
        ends_column = i + 1 == len(stats) or stats[i + 1][0] != column
        listed += [
            (column, "top_values", "NULL", f"d{j}")
            for j, (n, _) in enumerate(tops)
            if n == column and ends_column
        ]
    names = ", ".join(
        f"({i}, {literal(column)}, {literal(metric)})"
        for i, (column, metric, _, _) in enumerate(listed)
    )
    value = " ".join(f"WHEN {i} THEN {v}" for i, (_, _, v, _) in enumerate(listed) if v != "NULL")
    detail = " ".join(f"WHEN {i} THEN {d}" for i, (_, _, _, d) in enumerate(listed) if d != "NULL")
    return (
        f"WITH stats AS (SELECT {aggregates} FROM {source}), lists AS (SELECT {lists}) "
        f"SELECT m.column_name, m.metric, CAST(CASE m._row {value} END AS VARCHAR) AS value, "
        f"CAST(CASE m._row {detail or 'WHEN -1 THEN NULL'} END AS VARCHAR) AS detail "
        f"FROM (VALUES {names}) AS m(_row, column_name, metric) CROSS JOIN stats CROSS JOIN lists "
        "ORDER BY m._row"
    )
