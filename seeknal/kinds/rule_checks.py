"""The checks a rule runs: violations per rule type, and `profile_check` thresholds."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any, NamedTuple

from seeknal.errors import ExecutionError
from seeknal.kinds.base import ExecutionIO
from seeknal.kinds.profile import TABLE
from seeknal.sql.quote import ident, literal
from seeknal.types import Node

_AGE = re.compile(r"^\s*(\d+)\s*([smhdw]?)\s*$")
_AGE_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_CONDITION = re.compile(r"^\s*(==|=|!=|<>|<=|>=|<|>)\s*(-?\d+(?:\.\d+)?)\s*$")
# statistics of an input that is not a profile, computed the way a profile computes them
_TABLE_METRICS = {
    "avg": "avg({c})",
    "min": "min({c})",
    "max": "max({c})",
    "sum": "sum({c})",
    "stddev": "stddev({c})",
    "null_count": "count_if({c} IS NULL)",
    "null_percent": "100.0 * count_if({c} IS NULL) / count(*)",
    "distinct_count": "count(DISTINCT {c})",
    "mean": "avg({c})",
    "std": "stddev({c})",
    "null_percentage": "100.0 * count_if({c} IS NULL) / count(*)",
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
    """The older tool's `profile_check`: thresholds on a profile's statistics, one row per
    check (docs/concepts.md).

    Each check names a `metric` of the profile's rows, a `column` (the table's `_table_`
    when left out, for row_count) and `fail:` and/or `warn:` conditions like "> 50", "= 0"
    or "between 1 and 9". A failing `fail:` decides before `warn:` is looked at; a statistic
    that is NULL fails (or warns) whenever a condition is set; a missing statistic fails.
    On an input that is not a profile, the statistic is computed from its rows."""
    columns = {r[0] for r in io.rows(f"DESCRIBE SELECT * FROM {source}")}
    profiled = {"column_name", "metric", "value"} <= columns
    rows: list[CheckRow] = []
    for check in entry.get("checks") or []:
        if not isinstance(check, dict) or "metric" not in check:
            raise ExecutionError(
                f"{node.id} ({node.file_path}): each profile_check check needs a 'metric'."
            )
        if "fail" not in check and "warn" not in check:
            raise ExecutionError(
                f"{node.id} ({node.file_path}): profile_check metric '{check['metric']}' "
                "needs a 'fail:' or 'warn:' condition, like \"> 50\"."
            )
        metric, column = str(check["metric"]), check.get("column")
        label = f"{metric}({column})" if column else metric
        if profiled:
            found, value = _profiled_metric(io, source, metric, str(column or TABLE))
        else:
            found, value = True, _table_metric(io, node, source, metric, column)
        rows.append(_judged(node, check, label, found, value, severity))
    return rows


def _judged(
    node: Node, check: dict[str, Any], label: str, found: bool, value: Any, severity: str
) -> CheckRow:
    """One check's row: its `fail:` condition first, then its `warn:` condition."""
    conditions = [(level, str(check[level])) for level in ("fail", "warn") if level in check]
    first = severity if conditions[0][0] == "fail" else "warn"
    if not found:
        text = f"{label}: no such statistic in the profile"
        return CheckRow("profile_check", text, 1, 1, False, severity)
    if value is None:
        level, condition = conditions[0]
        return CheckRow(
            "profile_check", f"{label} = NULL must not be {condition}", 1, 1, False, first
        )
    try:
        number = float(value)
    except ValueError:
        text = f"{label} = {value!r}: not a number, so it cannot be compared"
        return CheckRow("profile_check", text, 1, 1, False, severity)
    for level, condition in conditions:
        if _condition(node, number, condition):
            text = f"{label} = {number:g} must not be {condition}"
            return CheckRow(
                "profile_check", text, 1, 1, False, severity if level == "fail" else "warn"
            )
    text = f"{label} = {number:g} must not be {conditions[0][1]}"
    return CheckRow("profile_check", text, 0, 1, True, first)


def _profiled_metric(io: ExecutionIO, source: str, metric: str, column: str) -> tuple[bool, Any]:
    found = io.rows(
        f"SELECT value FROM {source} "
        f"WHERE column_name = {literal(column)} AND metric = {literal(metric)} LIMIT 1"
    )
    return (True, found[0][0]) if found else (False, None)


def _table_metric(io: ExecutionIO, node: Node, source: str, metric: str, column: Any) -> Any:
    if metric == "row_count":
        return io.scalar(f"SELECT count(*) FROM {source}")
    if metric not in _TABLE_METRICS or not column:
        raise ExecutionError(
            f"{node.id} ({node.file_path}): profile_check metric '{metric}' "
            + ("needs a 'column'." if metric in _TABLE_METRICS else "is unknown")
            + (
                ""
                if metric in _TABLE_METRICS
                else f" (known: row_count, {', '.join(_TABLE_METRICS)})."
            ),
        )
    expression = _TABLE_METRICS[metric].format(c=ident(str(column)))
    return io.scalar(f"SELECT ({expression})::DOUBLE FROM {source}")


_BETWEEN = re.compile(r"^\s*between\s+(-?\d+(?:\.\d+)?)\s+and\s+(-?\d+(?:\.\d+)?)\s*$", re.I)


def _condition(node: Node, value: float, condition: str) -> bool:
    between = _BETWEEN.match(condition)
    if between:
        return float(between.group(1)) <= value <= float(between.group(2))
    match = _CONDITION.match(condition)
    if not match:
        raise ExecutionError(
            f"{node.id} ({node.file_path}): condition '{condition}' is not like '> 50', "
            "'= 0' or 'between 1 and 9'."
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
