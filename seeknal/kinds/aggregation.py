"""`kind: aggregation`: one row per `id_col` and `application_date_col` (and `group_by`
columns) of its input, with the aggregations its `features:` list asks for.

Each feature is `{name, basic: [sum, mean, ...], since: [{condition, aggs}], column}`; output
columns are named as the older seeknal named them (`amount_sum`, `amount_avg`,
`is_active_count_if`). Rolling and ratio windows are refused when the project loads: the older
seeknal's SQL for them never ran (docs/decisions.md); a second_order_aggregation computes windows.
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


class AggregationSpec(KindSpec):
    kind = NodeKind.AGGREGATION

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
        for name, message in feature_problems(data["features"]):
            checks.problem(message, checks.find_line(f"name: {name}") or checks.line("features"))

    def execute(self, node: Node, io: ExecutionIO) -> Executed:
        return self.execute_rows(node, io, feature_sql.input_rows(self, node, io))

    def execute_rows(self, node: Node, io: ExecutionIO, rows: str) -> Executed:
        problems = feature_problems(node.config.get("features"))
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


def feature_problems(features: Any) -> list[tuple[str, str]]:
    """(feature name, message) for each feature the aggregation cannot compute."""
    if not isinstance(features, list) or not features:
        return [("", "features must be a non-empty list of {name: ..., basic: [...]}")]
    found: list[tuple[str, str]] = []
    for index, feature in enumerate(features):
        name = str(feature.get("name", "")) if isinstance(feature, dict) else ""
        if not name:
            found.append(("", f"features[{index}] needs a name"))
            continue
        for key in ("rolling", "ratio"):
            if key in feature:
                found.append((name, _unsupported(name, key)))
        if not any(key in feature for key in ("basic", "since", "rolling", "ratio")):
            found.append((name, f"feature {name} needs basic or since aggregations"))
        for agg in feature_sql.listed(feature.get("basic", [])):
            if feature_sql.FUNCTIONS.get(agg.lower()) not in BASIC:
                found.append((name, f"feature {name}: unknown aggregation '{agg}' ({_known()})"))
        found += [(name, m) for m in _since_problems(name, feature.get("since", []))]
    return found


def _unsupported(name: str, key: str) -> str:
    return (
        f"feature {name}: {key} windows of an aggregation are not supported (the older seeknal "
        "could not run them either); compute windows with a second_order_aggregation (window:, "
        "ratio:)"
    )


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
    clauses = [clause for feature in config["features"] for clause in _clauses(feature)]
    return f"SELECT {group}, {', '.join(clauses)} FROM {rows} GROUP BY {group} ORDER BY {group}"


def _clauses(feature: dict[str, Any]) -> list[str]:
    name = str(feature["name"])
    column = quote(str(feature.get("column", name)))
    out = []
    for agg in feature_sql.listed(feature.get("basic", [])):
        func = feature_sql.FUNCTIONS[agg.lower()]
        out.append(f"{func.upper()}({column}) AS {quote(f'{name}_{func}')}")
    for entry in feature.get("since", []):
        condition = str(entry.get("condition") or "TRUE")
        for agg in feature_sql.listed(entry.get("aggs", ["count"])):
            alias = quote(f"{name}_{agg.lower()}_if")
            if agg.lower() == "count":
                out.append(f"COUNT(CASE WHEN {condition} THEN 1 END) AS {alias}")
            else:
                out.append(f"SUM(CASE WHEN {condition} THEN {column} ELSE 0 END) AS {alias}")
    return out
