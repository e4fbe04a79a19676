"""The spark engine, on real Spark in local mode: the example project gives the same rows on
both engines, an env planned on DuckDB runs on Spark and is promoted, SQL Spark cannot run is
refused before anything runs, and a missing pyspark says how to get it.

Spark's JVM starts once per test process (seeknal/engine/spark_session.py keeps the session),
so these tests share it; the engine comparison runs the example once per engine per module.
"""

from __future__ import annotations

import datetime as dt
import math
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest
from conftest import cli, git, manifest, ran, write_tree

# What differs between the engines by design (docs/spark.md): a profile's freshness depends
# on the clock of the run, and its percentiles are approximations, each engine's its own.
CLOCK_METRICS = {"freshness_hours", "p25", "p50", "p75"}
ORDERED = (
    "target/cache/transform/customer_lifetime_value.parquet",
    "target/cache/transform/daily_revenue.parquet",
    "exports/customer_lifetime_value.csv",
)
PROJECTS = Path(__file__).parent.parent / "projects"


def read_rows(path: Path) -> list[tuple[Any, ...]]:
    reader = "read_csv_auto" if path.suffix == ".csv" else "read_parquet"
    con = duckdb.connect()
    try:
        return con.execute(f"SELECT * FROM {reader}('{path}')").fetchall()
    finally:
        con.close()


def same_value(a: Any, b: Any) -> bool:
    """Equal after the normalisation of docs/spark.md: numbers by value (decimal precision
    and integer width aside; doubles to 1e-9 relative, as the engines sum in another order),
    numbers written as text (a profile's values) by the number they write."""
    if isinstance(a, str) and isinstance(b, str) and a != b:
        try:
            a, b = float(a), float(b)
        except ValueError:
            return False
    if isinstance(a, (int, float, Decimal)) and isinstance(b, (int, float, Decimal)):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    return bool(a == b)


def key(row: tuple[Any, ...]) -> tuple[str, ...]:
    """A sort key that the engines' last-digit differences do not move."""
    return tuple(f"{float(v):.6g}" if isinstance(v, (int, float, Decimal)) else str(v) for v in row)


def differences(a: Path, b: Path, ordered: bool = False) -> list[str]:
    """Rows of `a` and `b` that differ after the normalisation; compared in order only when
    `ordered` (the SQL sorts them), else as sorted lists."""
    rows_a, rows_b = read_rows(a), read_rows(b)
    if len(rows_a) != len(rows_b):
        return [f"{a.name}: {len(rows_a)} rows vs {len(rows_b)}"]
    if not ordered:
        rows_a, rows_b = sorted(rows_a, key=key), sorted(rows_b, key=key)
    found = []
    for row_a, row_b in zip(rows_a, rows_b, strict=True):
        if len(row_a) == 4 and row_a[1] in CLOCK_METRICS and row_a[:2] == row_b[:2]:
            continue
        pairs = [(x, y) for x, y in zip(row_a, row_b, strict=False) if not run_clock(x)]
        if len(row_a) != len(row_b) or not all(same_value(x, y) for x, y in pairs):
            found.append(f"{a.name}: {row_a} vs {row_b}")
    return found[:3]


def run_clock(value: Any) -> bool:
    """A timestamp with a time zone: CURRENT_TIMESTAMP, the time of the run."""
    return isinstance(value, dt.datetime) and value.tzinfo is not None


def outputs(root: Path) -> list[Path]:
    found = sorted((root / "target" / "cache").rglob("*.parquet"))
    return found + sorted((root / "exports").glob("*"))


def written_by_spark(path: Path) -> bool:
    return "parquet-mr" in (pq.ParquetFile(path).metadata.created_by or "")


def example_at(folder: Path) -> Path:
    folder.mkdir()
    git(folder, "init", "-q", "-b", "main")
    res = cli(folder.parent, "init", "--example", str(folder))
    assert res.exit_code == 0, res.output
    git(folder, "add", "-A")
    git(folder, "commit", "-q", "-m", "example")
    return folder


@pytest.fixture
def both(tmp_path: Path) -> tuple[Path, Path]:
    """The example project run on DuckDB, and a copy run with --engine spark."""
    duck, spark = example_at(tmp_path / "duck"), example_at(tmp_path / "spark")
    res = cli(duck, "run")
    assert res.exit_code == 0, res.output
    res = cli(spark, "run", "--engine", "spark")
    assert res.exit_code == 0, res.output
    return duck, spark


def test_example_gives_the_same_rows_on_both_engines(both: tuple[Path, Path]) -> None:
    duck, spark = both
    duck_outputs = outputs(duck)
    assert [p.relative_to(duck) for p in duck_outputs] == [
        p.relative_to(spark) for p in outputs(spark)
    ]
    assert len(duck_outputs) == 14
    for path in duck_outputs:
        assert differences(path, spark / path.relative_to(duck)) == []
    # the outputs whose SQL sorts them are in the same order
    for rel in ORDERED:
        assert differences(duck / rel, spark / rel, ordered=True) == []
    # the parquet files really come from Spark, and DuckDB's from DuckDB
    stg = Path("target/cache/transform/stg_orders.parquet")
    assert written_by_spark(spark / stg) and not written_by_spark(duck / stg)
    # fingerprints do not depend on the engine
    assert manifest(duck)["fingerprint"] == manifest(spark)["fingerprint"]
    nodes = manifest(spark)["nodes"]
    assert {n: e["fingerprint"] for n, e in manifest(duck)["nodes"].items()} == {
        n: e["fingerprint"] for n, e in nodes.items()
    }
    # a second run on the other engine has nothing to do: the outputs are current
    res = cli(spark, "run", "--engine", "duckdb", "--json")
    assert res.exit_code == 0, res.output
    assert ran(res.json()) == set()


def test_profile_engine_spark_and_an_env_planned_on_duckdb_promoted(tmp_path: Path) -> None:
    """engine: spark and a warehouse in the profile; production built on DuckDB
    (--engine duckdb), an env planned without an engine, run on Spark, then promoted."""
    root = example_at(tmp_path / "proj")
    warehouse = tmp_path / "shared" / "shop"
    profile = (
        f"engine: spark\nmaster: local[2]\nwarehouse: file://{warehouse}\n"
        "conf:\n  spark.sql.shuffle.partitions: 2\n"
    )
    write_tree(root, {"profiles.yml": profile})
    res = cli(root, "run", "--engine", "duckdb")
    assert res.exit_code == 0, res.output
    # target/ is a link into the warehouse: state and outputs live there
    assert (root / "target").is_symlink()
    prod = warehouse / "cache/transform/daily_revenue.parquet"
    assert prod.is_file() and not written_by_spark(prod)
    git(root, "checkout", "-q", "-b", "dev")
    stg = root / "seeknal/transforms/daily_revenue.yml"
    stg.write_text(stg.read_text().replace("AND amount > 0", "AND amount > 100"))
    git(root, "commit", "-qam", "bigger orders only")
    res = cli(root, "plan", "dev")  # planning runs no node: no engine starts
    assert res.exit_code == 0, res.output
    res = cli(root, "run", "--env", "dev")
    assert res.exit_code == 0, res.output
    env_out = warehouse / "environments/dev/cache/transform/daily_revenue.parquet"
    assert written_by_spark(env_out)
    expected = read_rows(env_out)
    assert len(expected) < len(read_rows(prod))
    res = cli(root, "promote", "dev")
    assert res.exit_code == 0, res.output
    assert written_by_spark(prod) and read_rows(prod) == expected
    # production now holds Spark's output, and DuckDB computes the same rows from scratch
    git(root, "checkout", "-q", "main")
    git(root, "merge", "-q", "dev")
    check = example_at(tmp_path / "check")
    shutil.copy(stg, check / "seeknal/transforms/daily_revenue.yml")
    res = cli(check, "run")
    assert res.exit_code == 0, res.output
    assert differences(check / "target/cache/transform/daily_revenue.parquet", prod) == []


def test_a_warehouse_target_cannot_take_over_existing_state(tmp_path: Path) -> None:
    root = example_at(tmp_path / "proj")
    res = cli(root, "run")
    assert res.exit_code == 0, res.output
    write_tree(root, {"profiles.yml": f"warehouse: {tmp_path / 'wh'}\n"})
    res = cli(root, "run")
    assert res.exit_code == 1
    assert "already holds this project's state and outputs" in res.output
    assert f"mv {root / 'target'} {tmp_path / 'wh'}" in res.output
    assert not (root / "target").is_symlink() and not (tmp_path / "wh").exists()
    write_tree(root, {"profiles.yml": "warehouse: s3a://bucket/shop\n"})
    res = cli(root, "run")
    assert res.exit_code == 1 and "s3a:// is not supported" in res.output


def test_getting_started_on_both_engines_and_what_spark_refuses(tmp_path: Path) -> None:
    duck, spark = tmp_path / "duck", tmp_path / "spark"
    for root in (duck, spark):
        shutil.copytree(PROJECTS / "getting_started", root)
        git(root, "init", "-q", "-b", "main")
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "getting started")
    res = cli(duck, "run")
    assert res.exit_code == 0, res.output
    # CAST(... AS TIME): Spark SQL has no time-of-day type; the whole run is refused up front
    res = cli(spark, "run", "--engine", "spark")
    assert res.exit_code == 1
    assert "transform.orders_cleaned (seeknal/transforms/orders_cleaned.yml)" in res.output
    assert "the TIME type" in res.output and not (spark / "target/cache").exists()
    res = cli(spark, "run", "--engine", "spark", "--exclude", "orders_cleaned+")
    assert res.exit_code == 0, res.output
    written = sorted((spark / "target/cache").rglob("*.parquet"))
    assert len(written) == 16
    for path in written:
        assert written_by_spark(path)
        assert differences(duck / path.relative_to(spark), path) == []
    # feature groups and aggregations stay on DuckDB: refused by kind, each named
    features = tmp_path / "features"
    shutil.copytree(PROJECTS / "feature_kinds", features)
    git(features, "init", "-q", "-b", "main")
    res = cli(features, "run", "--engine", "spark")
    assert res.exit_code == 1
    assert "kind 'feature_group' runs on DuckDB only" in res.output
    assert "kind 'second_order_aggregation' runs on DuckDB only" in res.output


def test_sql_spark_cannot_run_is_refused_before_anything_runs(tmp_path: Path) -> None:
    root = example_at(tmp_path / "proj")
    write_tree(
        root,
        {
            "seeknal/transforms/asof.yml": (
                "kind: transform\nname: asof\ninputs:\n  - ref: transform.stg_orders\n"
                "transform: |\n  SELECT o.order_id FROM ref('transform.stg_orders') o\n"
                "  ASOF JOIN ref('transform.stg_orders') p ON o.order_id >= p.order_id\n"
            )
        },
    )
    res = cli(root, "run", "--engine", "spark")
    assert res.exit_code == 1
    assert "transform.asof (seeknal/transforms/asof.yml)" in res.output
    assert "ASOF JOIN" in res.output and "Nothing was executed" in res.output
    assert not (root / "target/cache").exists()


def test_unknown_engine_and_missing_pyspark_say_what_to_do(tmp_path: Path) -> None:
    root = example_at(tmp_path / "proj")
    res = cli(root, "run", "--engine", "flink")
    assert res.exit_code != 0 and "duckdb or spark" in res.output
    write_tree(root, {"profiles.yml": "engine: flink\n"})
    res = cli(root, "run")
    assert res.exit_code == 1 and "'engine: flink'" in res.output
    (root / "profiles.yml").unlink()
    blocked = (
        "import sys; sys.modules['pyspark'] = None; from seeknal.entry import main; "
        "sys.argv = ['seeknal', 'run', '--engine', 'spark']; main()"
    )
    proc = subprocess.run(
        [sys.executable, "-c", blocked], cwd=root, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "pip install 'seeknal[spark]'" in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert "Running" not in proc.stdout  # said before the run starts, not half-way in
    assert not (root / "target/run_state.json").exists()


def test_a_duckdb_run_never_imports_pyspark(tmp_path: Path) -> None:
    root = example_at(tmp_path / "proj")
    probe = (
        "import sys; from seeknal.entry import main; sys.argv = ['seeknal', 'run']\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    assert not exc.code\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pyspark', 'py4j')))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], cwd=root, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]"
