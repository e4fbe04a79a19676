"""DuckDB SQL as Spark SQL (seeknal/sql/transpile.py): what is refused, and the rewrites that
make Spark compute DuckDB's result. Spark itself runs them in tests/functional/test_spark.py."""

from __future__ import annotations

import pytest

from seeknal.sql.transpile import TranspileError, to_spark, to_spark_script, unportable


@pytest.mark.parametrize(
    ("sql", "construct"),
    [
        ("SELECT a FROM t ASOF JOIN u ON t.a >= u.a", "ASOF JOIN"),
        ("SELECT * FROM read_csv_auto('x.csv')", "DuckDB function read_csv_auto()"),
        ("SELECT CAST(ts AS TIME) FROM t", "the TIME type (Spark SQL has none)"),
        ("INSERT INTO t SELECT 1; SELECT 1", "a statement other than CREATE TABLE|VIEW"),
        ("SELECT FROM WHERE", "SQL sqlglot cannot parse"),
    ],
)
def test_constructs_spark_lacks_are_named(sql: str, construct: str) -> None:
    found = unportable(sql)
    assert found is not None and found.startswith(construct)


def test_portable_sql_passes() -> None:
    script = "CREATE TEMP TABLE x AS SELECT 1 AS a; SELECT a FROM x QUALIFY a = 1"
    assert unportable(script) is None
    assert unportable("SELECT count(*) FILTER (WHERE a > 1) FROM t") is None


def test_division_and_averages_are_double_and_quotients_round_as_duckdb() -> None:
    spark = to_spark("SELECT a / b AS q, avg(d) AS m, round(a / b, 2) AS r FROM t")
    assert "CAST(a AS DOUBLE) / CAST(b AS DOUBLE)" in spark
    assert "AVG(CAST(d AS DOUBLE))" in spark
    # the rounding error of the scaled quotient decides ties (Dekker's two-product)
    assert "134217729.0" in spark and "FLOOR(" in spark


def test_profile_shapes_are_rewritten() -> None:
    spark = to_spark(
        "SELECT list(json_object('v', v) ORDER BY c DESC) AS l, "
        "epoch(CURRENT_TIMESTAMP - max(t)) AS s FROM u"
    )
    assert "TO_JSON(STRUCT(v AS v))" in spark and "ARRAY_SORT(COLLECT_LIST(" in spark
    assert "UNIX_MICROS(" in spark and "JSON_OBJECT" not in spark


def test_a_scripts_create_becomes_a_temporary_view() -> None:
    assert to_spark_script("CREATE TABLE x AS SELECT 1 AS a") == (
        "CREATE OR REPLACE TEMPORARY VIEW x AS SELECT 1 AS a"
    )
    with pytest.raises(TranspileError, match="other than CREATE"):
        to_spark_script("DROP TABLE x")
