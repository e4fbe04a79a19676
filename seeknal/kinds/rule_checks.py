"""The checks a rule runs: violations per rule type, and `profile_check` thresholds."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any, NamedTuple

from seeknal.errors import ExecutionError
from seeknal.kinds.base import ExecutionIO
from seeknal.sql.quote import ident, literal
from seeknal.types import Node

_AGE = re.compile(r"^\s*(\d+)\s*([smhdw]?)\s*$")
_AGE_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_CONDITION = re.compile(r"^\s*(==|=|!=|<>|<=|>=|<|>)\s*(-?\d+(?:\.\d+)?)\s*$")
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


class CheckRow(NamedTuple):
    """One row of a rule's output."""

    rule_type: str
    check: str
    violations: int
    total: int
    passed: bool
    severity: str

    def violation(self) -> str:
        if self.rule_type == "profile_check":
            return self.check
        return f"{self.check}: {self.violations} violating row(s)"


def count(io: ExecutionIO, sql: str) -> int:
    value = io.scalar(sql)
    return int(value) if value is not None else 0


def violations(io: ExecutionIO, node: Node, entry: dict[str, Any], source: str) -> tuple[str, int]:
    """What the check says, and how many rows (or 1 for a stale table) violate it."""
    rtype = str(entry.get("type"))
    params = entry.get("params") or {}
    columns = entry.get("columns") or ([entry["column"]] if entry.get("column") else [])
    columns = [str(c) for c in (columns if isinstance(columns, list) else [columns])]
    if rtype in _COLUMN_CHECKS and not columns:
        raise ExecutionError(
            f"{node.id} ({node.file_path}): rule type '{rtype}' needs 'column' or 'columns'."
        )
    if rtype in _COLUMN_CHECKS:
        return _COLUMN_CHECKS[rtype](io, node, source, columns, params)
    if rtype == "sql_assertion":
        sql = str(entry.get("sql") or params.get("sql") or "")
        if not sql:
            raise ExecutionError(f"{node.id} ({node.file_path}): sql_assertion needs 'sql'.")
        bound = io.bind(io.trim(sql))
        return "assertion query returns no rows", count(io, f"SELECT count(*) FROM ({bound})")
    # custom: a boolean expression every row must satisfy
    expr = str(entry.get("expression") or entry.get("sql") or params.get("expression") or "")
    if not expr:
        raise ExecutionError(f"{node.id} ({node.file_path}): custom rule needs 'expression'.")
    cond = io.trim(expr)
    return expr, count(io, f"SELECT count(*) FROM {source} WHERE NOT coalesce(({cond}), false)")


_Check = Callable[[ExecutionIO, Node, str, list[str], dict[str, Any]], tuple[str, int]]


def _nulls(
    io: ExecutionIO, node: Node, source: str, columns: list[str], params: dict[str, Any]
) -> tuple[str, int]:
    # max_null_percentage is a percentage of rows (0-100); 0 allows no nulls at all
    limit = float(params.get("max_null_percentage", 0.0))
    total = count(io, f"SELECT count(*) FROM {source}")
    worst = 0
    for col in columns:
        nulls = count(io, f"SELECT count(*) FROM {source} WHERE {ident(col)} IS NULL")
        if total and 100.0 * nulls / total > limit:
            worst += nulls
    return f"nulls in {', '.join(columns)} at most {limit:g}%", worst


def _uniqueness(
    io: ExecutionIO, node: Node, source: str, columns: list[str], params: dict[str, Any]
) -> tuple[str, int]:
    cols = ", ".join(ident(c) for c in columns)
    dupes = count(
        io,
        f"SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM {source} "
        f"GROUP BY {cols} HAVING count(*) > 1)",
    )
    return f"{', '.join(columns)} unique", dupes


def _range(
    io: ExecutionIO, node: Node, source: str, columns: list[str], params: dict[str, Any]
) -> tuple[str, int]:
    col = ident(columns[0])
    conds = []
    if params.get("min_val") is not None:
        conds.append(f"{col} < {literal(params['min_val'])}")
    if params.get("max_val") is not None:
        conds.append(f"{col} > {literal(params['max_val'])}")
    where = " OR ".join(conds) or "false"
    bounds = f"[{params.get('min_val', '-inf')}, {params.get('max_val', 'inf')}]"
    return f"{columns[0]} in {bounds}", count(io, f"SELECT count(*) FROM {source} WHERE {where}")


def _freshness(
    io: ExecutionIO, node: Node, source: str, columns: list[str], params: dict[str, Any]
) -> tuple[str, int]:
    max_age = _seconds(params.get("max_age", "1d"), node)
    newest = io.scalar(f"SELECT max({ident(columns[0])})::TIMESTAMP FROM {source}")
    stale = newest is None
    if not stale:
        # timestamps without a zone are taken as UTC, like every time seeknal writes
        age = dt.datetime.now(dt.UTC).replace(tzinfo=None) - newest
        stale = age.total_seconds() > max_age
    return f"newest {columns[0]} within {params.get('max_age', '1d')}", int(stale)


_COLUMN_CHECKS: dict[str, _Check] = {
    "null": _nulls,
    "uniqueness": _uniqueness,
    "range": _range,
    "freshness": _freshness,
}


def profile_checks(
    io: ExecutionIO, node: Node, entry: dict[str, Any], source: str, severity: str
) -> list[CheckRow]:
    """The older tool's `profile_check`: thresholds on a profile's (or a table's) statistics.

    Each check has a `metric` (row_count, avg, min, max, stddev, null_percent,
    distinct_count), a `column` for column metrics, and `fail:` and/or `warn:` conditions
    like "> 50" or "= 0"."""
    rows: list[CheckRow] = []
    columns = [r[0] for r in io.rows(f"DESCRIBE SELECT * FROM {source}")]
    summarized = {"column_name", "null_percentage", "approx_unique"} <= set(columns)
    for check in entry.get("checks") or []:
        if not isinstance(check, dict) or "metric" not in check:
            raise ExecutionError(
                f"{node.id} ({node.file_path}): each profile_check check needs a 'metric'."
            )
        metric, column = str(check["metric"]), check.get("column")
        value = _profile_metric(io, node, source, summarized, metric, column)
        label = f"{metric}({column})" if column else metric
        for level in ("fail", "warn"):
            if level not in check:
                continue
            condition = str(check[level])
            hit = _condition(node, value, condition)
            rows.append(
                CheckRow(
                    "profile_check",
                    f"{label} = {value:g} must not be {condition}",
                    int(hit),
                    1,
                    not hit,
                    severity if level == "fail" else "warn",
                )
            )
    return rows


def _profile_metric(
    io: ExecutionIO, node: Node, source: str, summarized: bool, metric: str, column: Any
) -> float:
    def one(sql: str) -> float:
        value = io.scalar(sql)
        return float(value) if value is not None else 0.0

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
