"""`kind: second_order_aggregation`: features per `id_col` aggregated over the rows of its input,
each row placed in time by the days from its `feature_date_col` to its `application_date_col`.

`features:` maps a name to its aggregations (docs/concepts.md, "Feature kinds"):
`basic: [sum, mean]` over the rows up to the application date, `window: [lower, upper]` with
`basic` over the rows that many days before it, `ratio:` of two windows, `since:` filtered by a
condition; `source_feature` names the input column when the name differs. Output columns are
named as the older seeknal named them (`amount_SUM`, `amount_SUM_1_7`, `amount_SUM1_7_SUM8_30`,
`SINCE_COUNT_amount_GEO_D`), features in the order written; a name asked for again gets
`_1`, `_2`, ... as the older seeknal's did.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from seeknal.errors import ExecutionError
from seeknal.kinds import feature_sql
from seeknal.kinds.base import Executed, ExecutionIO, FileChecks, KindSpec
from seeknal.kinds.feature_sql import quote
from seeknal.project.shapes import Shape
from seeknal.types import Node, NodeKind

COLUMNS = ("id_col", "feature_date_col", "application_date_col")
AGGREGATIONS = ("basic", "window", "ratio", "since")
ORDER = "feature_order"  # the features' names as written, when that is not name order


@dataclass(frozen=True)
class Rule:
    """One output column: an aggregation of one input column, over some of the rows."""

    form: str  # basic, basic_days, ratio, since
    column: str
    agg: str
    condition: str = ""
    days: tuple[int, ...] = ()


class SecondOrderAggregationSpec(KindSpec):
    kind = NodeKind.SECOND_ORDER_AGGREGATION
    keys = ("source", "features", *COLUMNS)

    def prepare(self, data: dict[str, Any]) -> dict[str, Any]:
        features = data.get("features")
        if not isinstance(features, dict) or list(features) == sorted(features, key=str):
            return data
        # the order features are written in orders the output's columns and decides which of
        # two equal names gets the `_1`; a manifest keeps mappings in key order, so keep it here
        return {**data, ORDER: [str(name) for name in features]}

    def shape_problems(self, data: dict[str, Any]) -> list[tuple[str, str]]:
        shape = Shape()
        for key in (*COLUMNS, "source"):
            value = data.get(key)
            shape.expect(key, key, value, isinstance(value, str), "a name")
        features = data.get("features")
        wanted = "a mapping of feature: aggregations"
        shape.expect("features", "features", features, isinstance(features, dict), wanted)
        return shape.found

    def declared_refs(self, data: dict[str, Any]) -> list[str]:
        return feature_sql.source_ref(data)

    def check(self, data: dict[str, Any], checks: FileChecks) -> None:
        for key in COLUMNS:
            if not data.get(key):
                checks.problem(f"second_order_aggregation needs {key}: the column name", 1)
        if not data.get("features"):
            checks.problem("second_order_aggregation needs features: name: {basic: [sum]}", 1)
            return
        found, problems = rules(data["features"], data.get(ORDER))
        for name, message in problems:
            checks.problem(f"features.{name}: {message}", checks.find_line(f"{name}:"))
        if not found and not problems:
            checks.problem("features: no aggregation to compute", checks.line("features"))

    def execute(self, node: Node, io: ExecutionIO) -> Executed:
        return self.execute_rows(node, io, feature_sql.input_rows(self, node, io))

    def execute_rows(self, node: Node, io: ExecutionIO, rows: str) -> Executed:
        return Executed(io.write(select(node, rows)))

    def failure_hint(self, node: Node) -> str:
        cols = ", ".join(str(node.config.get(k)) for k in COLUMNS)
        return (
            f"Check that the input of {node.file_path} has the columns {cols} and every "
            "feature's column, with dates in the date columns"
        )


def rules(features: Any, order: Any = None) -> tuple[list[Rule], list[tuple[str, str]]]:
    """The output columns of `features:` in the order written (`order`, the names as written
    when that is not name order; see `prepare`), and (feature, problem) for what cannot be
    computed."""
    found: list[Rule] = []
    problems: list[tuple[str, str]] = []
    if not isinstance(features, dict):
        return found, [("", "must be a mapping of feature: aggregations")]
    names = sorted(features, key=str)
    if isinstance(order, list) and sorted(map(str, order)) == [str(n) for n in names]:
        names = [next(n for n in features if str(n) == str(o)) for o in order]
    for name in names:
        spec = features[name]
        if not isinstance(spec, dict):
            problems.append((str(name), "must be a mapping, e.g. {basic: [sum, mean]}"))
            continue
        if not any(key in spec for key in AGGREGATIONS):
            problems.append((str(name), "needs one of basic, window, ratio, since"))
            continue
        try:
            found += _feature_rules(str(spec.get("source_feature", name)), spec)
        except ValueError as exc:
            problems.append((str(name), str(exc)))
    return found, problems


def _feature_rules(column: str, spec: dict[str, Any]) -> list[Rule]:
    basic = feature_sql.listed(spec["basic"]) if "basic" in spec else []
    # as before: a window repeats its basic aggregations over all the rows, then over the window
    out = [Rule("basic", column, agg) for agg in basic]
    if "window" in spec:
        window = feature_sql.days_pair(spec["window"])
        if window is None:
            raise ValueError("window must be [lower, upper] in days, e.g. [1, 7]")
        out += [Rule("basic_days", column, agg, days=window) for agg in basic]
    if "ratio" in spec:
        out += _ratio(column, spec["ratio"])
    if "since" in spec:
        since = spec["since"]
        if not isinstance(since, dict):
            raise ValueError("since must be a mapping with condition and aggs")
        condition = str(since.get("condition") or "")
        aggs = feature_sql.listed(since.get("aggs", ["count"]))
        out += [Rule("since", column, agg, condition=condition) for agg in aggs]
    for rule in out:
        if not feature_sql.is_function_name(rule.agg):
            raise ValueError(f"'{rule.agg}' is not an aggregate function name")
    return out


def _ratio(column: str, ratio: Any) -> list[Rule]:
    if not isinstance(ratio, dict):
        raise ValueError("ratio must be a mapping with numerator, denominator and aggs")
    numerator = feature_sql.days_pair(ratio.get("numerator"))
    denominator = feature_sql.days_pair(ratio.get("denominator"))
    if numerator is None or denominator is None:
        raise ValueError("ratio.numerator and ratio.denominator must be [lower, upper] in days")
    aggs = feature_sql.listed(ratio.get("aggs", ["sum"]))
    return [Rule("ratio", column, agg, days=(*numerator, *denominator)) for agg in aggs]


def select(node: Node, rows: str) -> str:
    """The aggregation of `rows` (SQL naming the input rows) as one DuckDB SELECT."""
    config = node.config
    missing = [k for k in COLUMNS if not isinstance(config.get(k), str) or not config.get(k)]
    found, problems = rules(config.get("features"), config.get(ORDER))
    if missing or problems or not found:
        what = ", ".join(missing) or "; ".join(f"features.{n}: {m}" for n, m in problems)
        raise ExecutionError(
            f"{node.id} ({node.file_path}): cannot aggregate: {what or 'no features'}.",
            f"Give {node.file_path} id_col, feature_date_col, application_date_col and features.",
        )
    ident = quote(config["id_col"])
    days = (
        f"date_diff('day', CAST({quote(config['feature_date_col'])} AS DATE), "
        f"CAST({quote(config['application_date_col'])} AS DATE))"
    )
    computed = [_expression(rule) for rule in found]
    # a name asked for twice (the same aggregation of the same column, or two `since:` of one
    # column) is made distinct as the older seeknal's were: amount_SUM, amount_SUM_1, ...
    names = feature_sql.unique_names([config["id_col"], *(name for _, name in computed)])
    columns = ", ".join(
        [
            ident,
            *(
                f"{sql} AS {quote(name)}"
                for (sql, _), name in zip(computed, names[1:], strict=True)
            ),
        ]
    )
    return (
        f"WITH calcs AS (SELECT *, {days} AS _days_between FROM {rows}) "
        f"SELECT {columns} FROM calcs GROUP BY {ident} ORDER BY {ident}"
    )


def _expression(rule: Rule) -> tuple[str, str]:
    """(the SQL computing a rule's column, the column's name as the older seeknal spelled it)."""
    func = feature_sql.FUNCTIONS.get(rule.agg.lower(), rule.agg)
    col, agg = quote(rule.column), rule.agg.upper()

    def over(where: str) -> str:
        return f"{func}({col}) FILTER (WHERE {where})"

    if rule.form == "basic":
        return over("_days_between >= 0"), f"{rule.column}_{agg}"
    if rule.form == "basic_days":
        low, high = rule.days
        return over(f"_days_between BETWEEN {low} AND {high}"), f"{rule.column}_{agg}_{low}_{high}"
    if rule.form == "ratio":
        l1, u1, l2, u2 = rule.days
        top = f"CAST({over(f'_days_between BETWEEN {l1} AND {u1}')} AS DOUBLE)"
        bottom = f"CAST({over(f'_days_between BETWEEN {l2} AND {u2}')} AS DOUBLE)"
        return f"{top} / NULLIF({bottom}, 0)", f"{rule.column}_{agg}{l1}_{u1}_{agg}{l2}_{u2}"
    condition = rule.condition.replace("==", "=") or "_days_between >= 0"
    return over(condition), f"SINCE_{agg}_{rule.column}_GEO_D"
