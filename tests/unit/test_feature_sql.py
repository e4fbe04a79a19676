"""The pure parts of the feature kinds: which output columns a features block asks for."""

from __future__ import annotations

import re

from seeknal.kinds import aggregation, feature_group, feature_sql, second_order_aggregation
from seeknal.kinds.second_order_aggregation import Rule
from seeknal.types import Node


def test_second_order_rules_follow_the_older_tools_spelling() -> None:
    found, problems = second_order_aggregation.rules(
        {
            "weekly": {"window": [1, "7"], "basic": ["sum, max"], "source_feature": "amount"},
            "flagged": {"since": {"condition": "flag == 1"}, "source_feature": "n"},
            "ratio": {"ratio": {"numerator": [1, 7], "denominator": [8, 30]}},
        }
    )
    assert problems == []
    assert found == [
        Rule("since", "n", "count", condition="flag == 1"),
        Rule("ratio", "ratio", "sum", days=(1, 7, 8, 30)),
        # a window repeats its basic aggregations over all rows before its own
        Rule("basic", "amount", "sum"),
        Rule("basic", "amount", "max"),
        Rule("basic_days", "amount", "sum", days=(1, 7)),
        Rule("basic_days", "amount", "max", days=(1, 7)),
    ]


def test_second_order_rules_name_what_cannot_be_computed() -> None:
    _, problems = second_order_aggregation.rules(
        {
            "a": {"window": [1], "basic": ["sum"]},
            "b": {"source_feature": "x"},
            "c": {"basic": ["sum; DROP TABLE t"]},
            "d": ["sum"],
        }
    )
    assert [name for name, _ in problems] == ["a", "b", "c", "d"]
    assert "window must be [lower, upper]" in problems[0][1]
    assert "not an aggregate function name" in problems[2][1]


def test_aggregation_refuses_what_the_older_tool_could_not_run() -> None:
    config = {"id_col": "c", "feature_date_col": "d", "application_date_col": "a"}
    problems = aggregation.feature_problems(
        [
            {"name": "amount", "basic": ["sum", "median"], "rolling": [{"window": [7]}]},
            {"name": "flag", "since": [{"condition": "flag = 1", "aggs": ["max"]}]},
            {"basic": ["sum"]},
            {"name": "x", "ratio": [{"numerator": [7], "denominator": ["a week"]}]},
        ],
        config,
    )
    messages = [m for _, m in problems]
    assert any("rolling windows are window functions over the grouped rows" in m for m in messages)
    assert any("unknown aggregation 'median'" in m for m in messages)
    assert any("since aggregation 'max' (supported: count, sum)" in m for m in messages)
    assert "features[2] needs a name" in messages
    assert "feature x: ratio denominator must be a list of days, e.g. [7, 30]" in messages
    # grouped by the date and the column: the older tool computed these, and so does seeknal
    grouped = {**config, "group_by": ["d", "amount"]}
    rolling = [{"name": "amount", "rolling": [{"window": [7], "aggs": ["mean"]}]}]
    assert aggregation.feature_problems(rolling, grouped) == []


def test_aggregation_sql_names_columns_as_the_older_tool() -> None:
    config = {
        "id_col": "c",
        "feature_date_col": "d",
        "application_date_col": "a",
        "group_by": ["d", "amount"],
        "features": [
            {
                "name": "amount",
                "basic": ["sum"],
                "rolling": [{"window": [3, 30], "aggs": ["mean"]}],
            },
            {
                "name": "amount",
                "ratio": [{"numerator": [3], "denominator": [30]}],
                "basic": ["sum"],
            },
        ],
    }
    sql = aggregation.select(config, "rows")
    assert re.findall(r' AS "([^"]+)"', sql) == [
        "amount_sum",
        "amount_avg_3d",
        "amount_avg_30d",
        "amount_sum_1",
        "amount_sum_ratio_3d_30d",
    ]
    assert "RANGE BETWEEN INTERVAL 30 DAY PRECEDING AND CURRENT ROW" in sql


def test_feature_group_entity_forms() -> None:
    entity = feature_group.entity_of({"entity": "customer"})
    assert entity == feature_group.Entity("customer", ("customer_id",))
    entity = feature_group.entity_of({"entity": {"name": "shop", "join_keys": "shop_code"}})
    assert entity == feature_group.Entity("shop", ("shop_code",))
    assert feature_group.entity_of({"entity": {"name": "shop"}}) is None
    assert feature_group.entity_of({}) is None


def test_feature_descriptions_are_column_descriptions() -> None:
    spec = feature_group.FeatureGroupSpec()
    data = {
        "features": {"total": {"description": "spent", "dtype": "float"}, "n": None},
        "columns": {"n": "count"},
    }
    prepared = spec.prepare(data)
    assert prepared["features"] == {"total": {"dtype": "float"}, "n": None}
    assert prepared["columns"] == {"total": "spent", "n": "count"}
    assert data["features"]["total"]["description"] == "spent"  # the input is not changed


def test_names_asked_for_again_are_numbered_as_the_older_tools_were() -> None:
    unique = feature_sql.unique_names
    assert unique(["a", "a", "a"]) == ["a", "a_1", "a_2"]
    assert unique(["a", "a_1", "a", "a"]) == ["a", "a_1", "a_2", "a_3"]
    # ignoring case, and never onto a name already taken
    assert unique(["a", "A", "a_1"]) == ["a", "A_1", "a_1_1"]
    assert unique(["x", "a", "a", "a_1", "a_1", "a"]) == ["x", "a", "a_1", "a_1_1", "a_1_2", "a_2"]


def test_second_order_sql_names_every_column_once_in_the_order_written() -> None:
    spec = second_order_aggregation.SecondOrderAggregationSpec()
    config = spec.prepare(
        {
            "id_col": "region",
            "feature_date_col": "d",
            "application_date_col": "a",
            "features": {
                "refunds": {"since": {"condition": "flag == 1"}, "source_feature": "n"},
                "busy": {"since": {"condition": "n > 1"}, "source_feature": "n"},
                "amount": {"basic": ["sum"]},
                "spend": {"basic": ["sum"], "source_feature": "amount"},
            },
        }
    )
    node = Node("second_order_aggregation.s", "second_order_aggregation", "s", "s.yml", 1, (),
                config, {})  # fmt: skip
    sql = second_order_aggregation.select(node, "rows")
    aliases = re.findall(r' AS "([^"]+)"', sql)
    # the SQL itself names them apart: no engine's renaming is relied on
    assert aliases == [
        "SINCE_COUNT_n_GEO_D",
        "SINCE_COUNT_n_GEO_D_1",
        "amount_SUM",
        "amount_SUM_1",
    ]
    assert sql.index("flag = 1") < sql.index("n > 1")
