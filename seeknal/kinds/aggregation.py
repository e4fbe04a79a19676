"""`kind: aggregation`: one row per `id_col` and `application_date_col` (and `group_by`
columns) of its input, with the aggregations its `features:` list asks for.

Each feature is `{name, basic: [sum, mean, ...], rolling: [{window: [7, 30], aggs}],
ratio: [{numerator: [7], denominator: [30], aggs}], since: [{condition, aggs}], column}`; output
columns are named as the older seeknal named them (`amount_sum`, `amount_avg`, `amount_sum_7d`,
`amount_sum_ratio_7d_30d`, `is_active_count_if`; a name asked for again gets `_1`, `_2`).

`rolling` and `ratio` are window functions over the grouped rows, as in the older seeknal: they
can only be computed when `feature_date_col` and the feature's column are among the grouped
columns (`group_by`); anything else is refused when the project loads, as the older tool failed
on it when it ran (docs/decisions.md). A second_order_aggregation computes windows over the rows.
"""

from __future__ import annotations

from typing import Any

from seeknal.errors import ExecutionError
from seeknal.kinds import feature_sql
from seeknal.kinds.base import Executed, ExecutionIO, FileChecks, KindSpec
from seeknal.kinds.feature_sql import quote
from seeknal.project.shapes import Shape, is_text_list
from seeknal.types import Node, NodeKind

COLUMNS = ("id_col", "feature_date_col", "application_date_col")
BASIC = ("sum", "avg", "min", "max", "count", "stddev")
ROLLING = {"sum": "sum", "avg": "avg", "mean": "avg", "min": "min", "max": "max"}
# a ratio's aggregation is written as given (upper-cased), so only names DuckDB knows as such
RATIO = ("sum", "avg", "mean", "min", "max", "count", "stddev")


class AggregationSpec(KindSpec):
    kind = NodeKind.AGGREGATION
    keys = ("source", "features", "group_by", *COLUMNS)

    def shape_problems(self, data: dict[str, Any]) -> list[tuple[str, str]]:
        shape = Shape()
        for key in (*COLUMNS, "source"):
            value = data.get(key)
            shape.expect(key, key, value, isinstance(value, str), "a name")
        features = data.get("features")
        ok = isinstance(features, list) and all(isinstance(f, dict) for f in features)
        shape.expect("features", "features", features, ok, "a list of {name: ..., basic: [...]}")
        group_by = data.get("group_by")
        shape.expect("group_by", "group_by", group_by, is_text_list(group_by), "a list of names")
        return shape.found

    def declared_refs(self, data: dict[str, Any]) -> list[str]:
        return feature_sql.source_ref(data)

    def check(self, data: dict[str, Any], checks: FileChecks) -> None:
        for key in COLUMNS:
            if not data.get(key):
                checks.problem(f"aggregation needs {key}: the column name", 1)
        if not data.get("features"):
            checks.problem("aggregation needs features: [{name: amount, basic: [sum]}]", 1)
            return
        node = f"aggregation.{data.get('name')}"
        for name, message in feature_problems(data["features"], data):
            line = checks.find_line(f"name: {name}") or checks.line("features")
            checks.problem(f"{node}: {message}", line)

    def execute(self, node: Node, io: ExecutionIO) -> Executed:
        return self.execute_rows(node, io, feature_sql.input_rows(self, node, io))

    def execute_rows(self, node: Node, io: ExecutionIO, rows: str) -> Executed:
        problems = feature_problems(node.config.get("features"), node.config)
        missing = [k for k in COLUMNS if not node.config.get(k)]
        if problems or missing:
            what = "; ".join([*(f"{k} is missing" for k in missing), *(m for _, m in problems)])
            raise ExecutionError(
                f"{node.id} ({node.file_path}): cannot aggregate: {what}.",
                f"Fix the aggregation in {node.file_path}.",
            )
        return Executed(io.write(select(node.config, rows)))

    def failure_hint(self, node: Node) -> str:
        cols = ", ".join(str(node.config.get(k)) for k in COLUMNS)
        return f"Check that the input of {node.file_path} has the columns {cols} and the features'"


def feature_problems(features: Any, config: dict[str, Any] | None = None) -> list[tuple[str, str]]:
    """(feature name, message) for each feature the aggregation cannot compute."""
    if not isinstance(features, list) or not features:
        return [("", "features must be a non-empty list of {name: ..., basic: [...]}")]
    found: list[tuple[str, str]] = []
    for index, feature in enumerate(features):
        name = str(feature.get("name", "")) if isinstance(feature, dict) else ""
        if not name:
            found.append(("", f"features[{index}] needs a name"))
            continue
        if not any(key in feature for key in ("basic", "since", "rolling", "ratio")):
            found.append((name, f"feature {name} needs basic, rolling, ratio or since"))
        for agg in feature_sql.listed(feature.get("basic", [])):
            if feature_sql.FUNCTIONS.get(agg.lower()) not in BASIC:
                found.append((name, f"feature {name}: unknown aggregation '{agg}' ({_known()})"))
        found += [(name, m) for m in _since_problems(name, feature.get("since", []))]
        found += [(name, m) for m in _window_problems(name, feature, config or {})]
    return found


def _window_problems(name: str, feature: dict[str, Any], config: dict[str, Any]) -> list[str]:
    problems = []
    for key, days, allowed in (
        ("rolling", ("window",), ROLLING),
        ("ratio", ("numerator", "denominator"), RATIO),
    ):
        if key not in feature:
            continue
        entries = feature[key]
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            problems.append(f"feature {name}: {key} must be a list of {{{', '.join(days)}, aggs}}")
            continue
        for entry in entries:
            for part in days:
                value = entry.get(part)
                if not isinstance(value, list) or any(feature_sql.day(d) is None for d in value):
                    problems.append(
                        f"feature {name}: {key} {part} must be a list of days, e.g. [7, 30]"
                    )
            for agg in feature_sql.listed(entry.get("aggs", ["sum"] if key == "ratio" else [])):
                if agg.lower() not in allowed:
                    known = ", ".join(sorted(allowed))
                    problems.append(
                        f"feature {name}: {key} aggregation '{agg}' (supported: {known})"
                    )
        grouped = {str(config.get(k)) for k in ("id_col", "application_date_col")}
        grouped |= {str(g) for g in config.get("group_by") or []}
        needed = [str(config.get("feature_date_col")), str(feature.get("column", name))]
        if any(col not in grouped for col in needed):
            problems.append(
                f"feature {name}: {key} windows are window functions over the grouped rows, "
                f"so {needed[0]} and {needed[1]} must be in group_by (the older seeknal failed "
                "on anything else when it ran); to aggregate windows over the rows, use a "
                "second_order_aggregation (window:, ratio:)"
            )
    return problems


def _known() -> str:
    return ", ".join(sorted(feature_sql.FUNCTIONS))


def _since_problems(name: str, since: Any) -> list[str]:
    if not isinstance(since, list) or not all(isinstance(s, dict) for s in since):
        return [f"feature {name}: since must be a list of {{condition, aggs}}"]
    return [
        f"feature {name}: since aggregation '{agg}' (supported: count, sum)"
        for entry in since
        for agg in feature_sql.listed(entry.get("aggs", ["count"]))
        if agg.lower() not in ("count", "sum")
    ]


def select(config: dict[str, Any], rows: str) -> str:
    """The aggregation of `rows` (SQL naming the input rows) as one DuckDB SELECT."""
    keys = [config["id_col"], config["application_date_col"], *(config.get("group_by") or [])]
    group = ", ".join(quote(str(k)) for k in keys)
    window = (
        f"PARTITION BY {quote(str(config['id_col']))} "
        f"ORDER BY {quote(str(config['feature_date_col']))} RANGE BETWEEN INTERVAL {{}} DAY "
        "PRECEDING AND CURRENT ROW"
    )
    computed = [clause for feature in config["features"] for clause in _clauses(feature, window)]
    # a name asked for twice is numbered as the older seeknal's were (amount_sum_1)
    names = feature_sql.unique_names([*(str(k) for k in keys), *(n for _, n in computed)])
    clauses = [
        f"{sql} AS {quote(n)}" for (sql, _), n in zip(computed, names[len(keys) :], strict=True)
    ]
    return f"SELECT {group}, {', '.join(clauses)} FROM {rows} GROUP BY {group} ORDER BY {group}"


def _clauses(feature: dict[str, Any], window: str) -> list[tuple[str, str]]:
    """(SQL, column name) of each column a feature asks for, in the older seeknal's order."""
    name = str(feature["name"])
    column = quote(str(feature.get("column", name)))
    out = []
    for agg in feature_sql.listed(feature.get("basic", [])):
        func = feature_sql.FUNCTIONS[agg.lower()]
        out.append((f"{func.upper()}({column})", f"{name}_{func}"))
    for entry in feature.get("rolling", []):
        for days in entry.get("window", []):
            for agg in feature_sql.listed(entry.get("aggs", [])):
                func = ROLLING[agg.lower()]
                over = window.format(feature_sql.day(days))
                out.append((f"{func.upper()}({column}) OVER ({over})", f"{name}_{func}_{days}d"))
    for entry in feature.get("ratio", []):
        for top in entry.get("numerator", []):
            for bottom in entry.get("denominator", []):
                for agg in feature_sql.listed(entry.get("aggs", ["sum"])):
                    func = agg.upper()
                    ratio = (
                        f"{func}({column}) OVER ({window.format(feature_sql.day(top))}) / "
                        f"NULLIF({func}({column}) OVER ({window.format(feature_sql.day(bottom))}), 0)"
                    )
                    out.append((ratio, f"{name}_{agg.lower()}_ratio_{top}d_{bottom}d"))
    for entry in feature.get("since", []):
        condition = str(entry.get("condition") or "TRUE")
        for agg in feature_sql.listed(entry.get("aggs", ["count"])):
            alias = f"{name}_{agg.lower()}_if"
            if agg.lower() == "count":
                out.append((f"COUNT(CASE WHEN {condition} THEN 1 END)", alias))
            else:
                out.append((f"SUM(CASE WHEN {condition} THEN {column} ELSE 0 END)", alias))
    return out
