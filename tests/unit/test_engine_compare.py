"""`Engine.compare` on DuckDB: two real parquet outputs joined in the engine (docs/concepts.md,
"Diffs")."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from seeknal.engine import create_engine
from seeknal.engine.base import ColumnChange, Engine, Output
from seeknal.errors import ExecutionError


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_engine("duckdb", tmp_path)
    yield engine
    engine.close()


def parquet(path: Path, select: str) -> Output:
    con = duckdb.connect()
    try:
        con.execute(f"COPY ({select}) TO '{path}' (FORMAT parquet)")
    finally:
        con.close()
    return Output.file(path)


def test_keyed_counts_and_the_smallest_keys_as_examples(tmp_path: Path, engine: Engine) -> None:
    before = parquet(tmp_path / "a.parquet", "SELECT range AS id, range * 2 AS v FROM range(1000)")
    after = parquet(
        tmp_path / "b.parquet",
        "SELECT range AS id, CASE WHEN range % 100 = 50 THEN -1 ELSE range * 2 END AS v "
        "FROM range(10, 1003)",
    )
    diff = engine.compare(before, after, ["id"], examples=3)
    assert (diff.rows_before, diff.rows_after) == (1000, 993)
    assert (diff.added, diff.removed, diff.changed, diff.duplicate_keys) == (3, 10, 10, 0)
    assert diff.added_rows is not None and diff.removed_rows is not None
    assert diff.added_rows.rows == [(1000, 2000), (1001, 2002), (1002, 2004)]
    assert diff.removed_rows.rows == [(0, 0), (1, 2), (2, 4)]
    assert [(c.key, c.columns) for c in diff.changed_rows] == [
        ((50,), (("v", 100, -1),)),
        ((150,), (("v", 300, -1),)),
        ((250,), (("v", 500, -1),)),
    ]
    # without examples: the same counts, no rows
    quick = engine.compare(before, after, ["id"], examples=0)
    assert (quick.added, quick.removed, quick.changed) == (3, 10, 10)
    assert quick.added_rows is None and quick.changed_rows == ()


def test_nulls_compare_equal_and_a_widened_column_changes_nothing(
    tmp_path: Path, engine: Engine
) -> None:
    before = parquet(
        tmp_path / "a.parquet",
        "SELECT * FROM (VALUES (1, NULL::INTEGER, 5::INTEGER), (NULL, 2, 6), (3, 3, 7)) t(k, x, n)",
    )
    after = parquet(
        tmp_path / "b.parquet",
        "SELECT * FROM (VALUES (1, NULL::INTEGER, 5::BIGINT), (NULL, 2, 6), (3, 4, 7)) t(k, x, n)",
    )
    diff = engine.compare(before, after, ["k"])
    assert diff.columns == (ColumnChange("n", "INTEGER", "BIGINT"),)
    assert (diff.added, diff.removed, diff.changed) == (0, 0, 1)  # a NULL key matches itself
    assert [c.columns for c in diff.changed_rows] == [(("x", 3, 4),)]


def test_a_key_over_several_columns_and_a_duplicated_key(tmp_path: Path, engine: Engine) -> None:
    before = parquet(
        tmp_path / "a.parquet",
        "SELECT * FROM (VALUES ('a', 1, 10), ('a', 2, 20), ('b', 1, 30)) t(g, d, v)",
    )
    after = parquet(
        tmp_path / "b.parquet",
        "SELECT * FROM (VALUES ('a', 1, 10), ('a', 2, 21), ('b', 1, 30), ('b', 1, 30)) t(g, d, v)",
    )
    diff = engine.compare(before, after, ["g", "d"])
    assert (diff.added, diff.removed, diff.changed, diff.duplicate_keys) == (0, 0, 2, 1)
    assert [c.key for c in diff.changed_rows] == [("a", 2), ("b", 1)]


def test_without_a_key_only_counts_and_columns(tmp_path: Path, engine: Engine) -> None:
    before = parquet(tmp_path / "a.parquet", "SELECT 1 AS a, 'x' AS b")
    after = parquet(tmp_path / "b.parquet", "SELECT 1.5 AS a, 2 AS c UNION ALL SELECT 2, 3")
    diff = engine.compare(before, after)
    assert (diff.rows_before, diff.rows_after) == (1, 2)
    assert diff.columns == (
        ColumnChange("c", None, "INTEGER"),
        ColumnChange("b", "VARCHAR", None),
        ColumnChange("a", "INTEGER", "DECIMAL(11,1)"),
    )
    assert diff.added is None and diff.changed is None


def test_a_missing_key_column_or_output_is_an_error(tmp_path: Path, engine: Engine) -> None:
    before = parquet(tmp_path / "a.parquet", "SELECT 1 AS id")
    after = parquet(tmp_path / "b.parquet", "SELECT 1 AS other")
    with pytest.raises(ExecutionError, match=r"Key column\(s\) id not in output .*b\.parquet"):
        engine.compare(before, after, ["id"])
    with pytest.raises(ExecutionError, match="does not exist"):
        engine.compare(before, Output.file(tmp_path / "missing.parquet"), ["id"])


def test_a_new_key_on_two_rows_counts_two_added_rows(tmp_path: Path, engine: Engine) -> None:
    before = parquet(tmp_path / "a.parquet", "SELECT * FROM (VALUES (1, 'a'), (2, 'b')) t(k, v)")
    after = parquet(
        tmp_path / "b.parquet",
        "SELECT * FROM (VALUES (1, 'a'), (2, 'c'), (3, 'x'), (3, 'y')) t(k, v)",
    )
    diff = engine.compare(before, after, ["k"])
    assert (diff.added, diff.removed, diff.changed, diff.duplicate_keys) == (2, 0, 1, 0)
    assert diff.added_rows is not None and diff.added_rows.rows == [(3, "x"), (3, "y")]
