"""The engine protocol on DuckDB: materialize, and what the engine says about an output."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from conftest import row_count, small_project

from seeknal.context import Context
from seeknal.engine import create_engine
from seeknal.engine.base import Engine, Output, OutputKind, QueryResult
from seeknal.errors import ExecutionError, SeeknalError
from seeknal.state.layout import Target
from seeknal.types import Project


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_engine("duckdb", tmp_path)
    yield engine
    engine.close()


def _project(root: Path) -> Project:
    small_project(root)
    return Context(root).load().project


def _materialize_adults(root: Path, engine: Engine) -> tuple[Output, Output]:
    project = _project(root)
    target = Target(root)
    people = target.output(project.nodes["source.people"])
    adults = target.output(project.nodes["transform.adults"])
    assert engine.materialize(project.nodes["source.people"], {}, people).row_count == 5
    result = engine.materialize(
        project.nodes["transform.adults"], {"source.people": people}, adults
    )
    assert result.row_count == 3
    assert result.output == adults
    return people, adults


def test_materialize_writes_outputs_where_the_layout_says(tmp_path: Path, engine: Engine) -> None:
    people, adults = _materialize_adults(tmp_path, engine)
    assert adults == Output(
        OutputKind.FILE, str(tmp_path / "target/cache/transform/adults.parquet")
    )
    assert engine.exists(people) and engine.exists(adults)
    assert row_count(adults.path) == 3
    leftovers = [p.name for p in adults.path.parent.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_a_failed_materialize_keeps_the_previous_output(tmp_path: Path, engine: Engine) -> None:
    from dataclasses import replace

    people, adults = _materialize_adults(tmp_path, engine)
    before = adults.path.read_bytes()
    node = _project(tmp_path).nodes["transform.adults"]
    broken = replace(node, sql="SELECT no_such_column FROM ref('source.people')")
    with pytest.raises(ExecutionError, match="failed in DuckDB"):
        engine.materialize(broken, {"source.people": people}, adults)
    assert adults.path.read_bytes() == before
    assert sorted(p.name for p in adults.path.parent.iterdir()) == ["adults.parquet"]


@pytest.mark.parametrize(
    "sql", ["CREATE TABLE t AS SELECT 1 AS a", "SELECT 1 AS a;\nCREATE TABLE t AS SELECT 1 AS a"]
)
def test_sql_ending_in_a_statement_that_is_not_a_query_is_refused_without_the_wrapper(
    tmp_path: Path, engine: Engine, sql: str
) -> None:
    """SQL the loader did not check (remembered from before the check) fails at run time with
    the same words, never DuckDB's error about seeknal's COPY wrapper and its temp path."""
    from dataclasses import replace

    people, adults = _materialize_adults(tmp_path, engine)
    node = replace(_project(tmp_path).nodes["transform.adults"], sql=sql)
    with pytest.raises(ExecutionError) as caught:
        engine.materialize(node, {"source.people": people}, adults)
    message = caught.value.message
    assert message.startswith("transform.adults (seeknal/transforms/adults.yml): the last ")
    assert "not a CREATE statement" in message
    assert "COPY" not in message and ".seeknal-tmp" not in message and "/tmp" not in message


def test_digest_is_of_the_whole_content(tmp_path: Path, engine: Engine) -> None:
    path = tmp_path / "big.parquet"
    data = bytearray(b"x" * 10_000)
    path.write_bytes(bytes(data))
    output = Output.file(path)
    first = engine.digest(output, {})
    assert first == hashlib.sha256(bytes(data)).hexdigest()
    data[6000] = ord("y")  # past the first 4 KB, same size
    path.write_bytes(bytes(data))
    assert engine.digest(output, {}) not in (None, first)
    assert engine.digest(Output.file(tmp_path / "missing.parquet")) is None


def test_schema_row_count_and_query(tmp_path: Path, engine: Engine) -> None:
    people, adults = _materialize_adults(tmp_path, engine)
    assert engine.schema(adults) == [
        ("id", "BIGINT"),
        ("name", "VARCHAR"),
        ("age", "BIGINT"),
        ("city", "VARCHAR"),
    ]
    assert engine.row_count(adults) == 3
    result = engine.query(
        "SELECT a.city, count(*) AS n FROM ref('transform.adults') a "
        "JOIN ref('source.people') p USING (id) GROUP BY ALL ORDER BY a.city;",
        {"transform.adults": adults, "source.people": people},
    )
    assert result.columns == ["city", "n"]
    assert result.rows == [("Lima", 1), ("Oslo", 1), ("Rome", 1)]


def test_query_only_reads(tmp_path: Path, engine: Engine) -> None:
    _people, adults = _materialize_adults(tmp_path, engine)
    copy = tmp_path / "copy.parquet"
    with pytest.raises(ExecutionError, match="one SELECT"):
        engine.query(f"COPY (SELECT 1) TO '{copy}'", {})
    with pytest.raises(ExecutionError, match="one SELECT"):
        engine.query("SELECT 1; SELECT 2", {})
    assert not copy.exists()
    with pytest.raises(ExecutionError, match=r"ref\('transform.gone'\)") as info:
        engine.query("SELECT * FROM ref('transform.gone')", {"transform.adults": adults})
    assert info.value.hint == "Its inputs: transform.adults."


def test_query_limit_says_when_rows_were_left_out(tmp_path: Path, engine: Engine) -> None:
    _people, adults = _materialize_adults(tmp_path, engine)
    sql = "SELECT id FROM ref('transform.adults') ORDER BY id"
    relations = {"transform.adults": adults}
    assert engine.query(sql, relations, limit=2) == QueryResult(["id"], [(1,), (3,)], more=True)
    assert engine.query(sql, relations, limit=3) == QueryResult(["id"], [(1,), (3,), (5,)])
    assert engine.query(sql, relations).more is False
    assert engine.query(sql, relations, limit=0) == QueryResult(["id"], [], more=True)


def test_a_session_reads_outputs_as_views_and_only_reads(tmp_path: Path, engine: Engine) -> None:
    people, adults = _materialize_adults(tmp_path, engine)
    session = engine.session({"transform.adults": adults, "adults": adults, "people": people})
    try:
        assert session.views() == ["adults", "people", "transform.adults"]
        count = 'SELECT count(*) FROM "transform.adults" JOIN people USING (id)'
        assert session.sql(count).rows == [(3,)]
        assert session.sql("SELECT count(*) FROM ref('transform.adults')").rows == [(3,)]
        assert session.sql("SELECT id FROM adults ORDER BY id", limit=1).more is True
        assert session.sql("EXPLAIN SELECT * FROM adults").columns
        copy = tmp_path / "copy.csv"
        for statement in (f"COPY adults TO '{copy}'", "CREATE TABLE t AS SELECT 1"):
            with pytest.raises(ExecutionError, match="one SELECT"):
                session.sql(statement)
        assert not copy.exists()
        with pytest.raises(ExecutionError, match="not a view of this session"):
            session.sql("SELECT * FROM ref('transform.gone')")
        with pytest.raises(ExecutionError, match="Binder Error"):
            session.sql("SELECT nope FROM adults")
        assert session.connection.execute("SELECT count(*) FROM people").fetchone() == (5,)
    finally:
        session.close()


def test_drop(tmp_path: Path, engine: Engine) -> None:
    _people, adults = _materialize_adults(tmp_path, engine)
    engine.drop(adults)
    assert not adults.path.exists() and not engine.exists(adults)
    assert engine.digest(adults) is None
    engine.drop(adults)  # nothing left to drop is not an error


def test_a_folder_of_parquet_files_is_an_output(tmp_path: Path, engine: Engine) -> None:
    folder = tmp_path / "orders"
    duckdb.sql(
        "COPY (SELECT range AS id, range % 2 AS part FROM range(6)) "
        f"TO '{folder}' (FORMAT parquet, PARTITION_BY (part))"
    )
    output = Output(OutputKind.DIR, str(folder))
    assert engine.exists(output)
    assert engine.row_count(output) == 6
    assert [c for c, _t in engine.schema(output)] == ["id", "part"]
    digest = engine.digest(output)
    assert digest is not None
    next(folder.rglob("*.parquet")).write_bytes(b"changed")
    assert engine.digest(output) != digest
    engine.drop(output)
    assert not folder.exists() and engine.digest(output) is None


def test_duckdb_keeps_no_tables(tmp_path: Path, engine: Engine) -> None:
    table = Output(OutputKind.TABLE, "analytics.adults")
    with pytest.raises(ExecutionError, match="cannot read table output analytics.adults"):
        engine.row_count(table)
    with pytest.raises(SeeknalError, match="is a table"):
        _ = table.path


def test_create_engine_by_name(tmp_path: Path) -> None:
    engine = create_engine("duckdb", tmp_path)
    try:
        assert engine.name == "duckdb"
    finally:
        engine.close()
    with pytest.raises(SeeknalError, match="Unknown engine 'flink'") as info:
        create_engine("flink", tmp_path)
    assert info.value.hint == "Known engines: duckdb, spark."


def test_the_engine_registry_does_not_import_duckdb() -> None:
    code = "import sys, seeknal.engine, seeknal.engine.base; print('duckdb' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_syntax_check_answers_as_duckdbs_package_does() -> None:
    """The loader's check uses DuckDB's compiled module alone; its answers are the package's."""
    import duckdb

    from seeknal.engine import sql_syntax_error

    texts = ["SELECT 1", "SELECT id,\n  name\nFORM t", "SELEC 1", "SELECT * FROM t WHERE", ""]
    for sql in texts:
        try:
            duckdb.extract_statements(sql)
            expected = None
        except duckdb.Error as exc:
            expected = str(exc).strip().splitlines()[0].split(" Error: ", 1)[-1]
        found = sql_syntax_error(sql)
        assert (found[0] if found else None) == expected, sql
    assert sql_syntax_error("SELECT id,\n  name\nFORM t") == (
        'syntax error at or near "t"',
        3,
    )
