"""Iceberg sources and materializations through pyiceberg's SQL catalog on a SQLite file and a
local warehouse folder, read back with pyiceberg: production names, env-prefixed namespaces,
promote --rematerialize, env deletion, snapshot fingerprints, errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
from conftest import cli, git, output, ran, rows, run_json, write_tree
from envkit import edit
from pyiceberg.catalog import load_catalog

PROJECT = "name: ice\nversion: 1.0.0\nprofile: default\nconfig-version: 1\nstate_backend: file\n"
EVENTS = """\
kind: source
name: events
source: iceberg
table: lake.raw.events
"""
TOTALS = """\
kind: transform
name: totals
inputs:
  - ref: source.events
transform: |
  SELECT page, sum(hits)::BIGINT AS total FROM ref('source.events') GROUP BY page
materializations:
  - type: iceberg
    table: lake.sales.totals
    mode: {mode}
"""


def catalog(lake: Path) -> Any:
    return load_catalog(
        "lake", type="sql", uri=f"sqlite:///{lake}/catalog.db", warehouse=f"file://{lake}/wh"
    )


def profile(lake: Path) -> str:
    return (
        f"catalogs:\n  lake:\n    type: sql\n    uri: sqlite:///{lake}/catalog.db\n"
        f"    warehouse: file://{lake}/wh\n"
    )


def events(page_hits: list[tuple[str, int]]) -> pa.Table:
    return pa.table(
        {"page": [p for p, _ in page_hits], "hits": pa.array([h for _, h in page_hits], pa.int64())}
    )


def project(root: Path, lake: Path, mode: str = "overwrite") -> Path:
    lake.mkdir()
    cat = catalog(lake)
    cat.create_namespace("raw")
    data = events([("home", 3), ("cart", 1), ("home", 2)])
    cat.create_table(("raw", "events"), schema=data.schema).append(data)
    write_tree(
        root,
        {
            "seeknal_project.yml": PROJECT,
            "profiles.yml": profile(lake),
            "seeknal/sources/events.yml": EVENTS,
            "seeknal/transforms/totals.yml": TOTALS.format(mode=mode),
        },
    )
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "iceberg project")
    return root


def totals(lake: Path, namespace: str = "sales") -> list[tuple[Any, ...]]:
    table = catalog(lake).load_table((namespace, "totals")).scan().to_arrow()
    return sorted(zip(table["page"].to_pylist(), table["total"].to_pylist(), strict=True))


def namespaces(lake: Path) -> set[str]:
    return {ns[0] for ns in catalog(lake).list_namespaces()}


def run_ok(root: Path, *args: str) -> dict[str, Any]:
    res, summary = run_json(root, *args)
    assert res.exit_code == 0, res.output
    return summary


def test_production_reads_and_writes_iceberg_tables(git_project: Path, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    root = project(git_project, lake)
    run_ok(root)
    assert rows(output(root, "source.events")) == [("cart", 1), ("home", 2), ("home", 3)]
    assert totals(lake) == [("cart", 1), ("home", 5)]
    assert namespaces(lake) == {"raw", "sales"}


def test_a_new_snapshot_changes_the_fingerprint(git_project: Path, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    root = project(git_project, lake)
    run_ok(root)
    assert ran(run_ok(root)) == set()
    catalog(lake).load_table(("raw", "events")).append(events([("cart", 4)]))
    res = cli(root, "plan")
    assert "run      source.events     source data changed" in res.output, res.output
    run_ok(root)
    assert totals(lake) == [("cart", 5), ("home", 5)]


def test_an_env_writes_prefixed_namespaces_and_promote_rematerializes(
    git_project: Path, tmp_path: Path
) -> None:
    lake = tmp_path / "lake"
    root = project(git_project, lake)
    run_ok(root)
    edit(root, "seeknal/transforms/totals.yml", "sum(hits)", "sum(hits) * 10")
    assert cli(root, "plan", "dev").exit_code == 0
    res = cli(root, "run", "--env", "dev")
    assert res.exit_code == 0, res.output
    assert totals(lake, "dev_sales") == [("cart", 10), ("home", 50)]
    assert totals(lake) == [("cart", 1), ("home", 5)]  # production is never touched by an env
    res = cli(root, "promote", "dev", "--rematerialize")
    assert res.exit_code == 0, res.output
    assert "Materialized lake.sales.totals" in res.output
    assert totals(lake) == [("cart", 10), ("home", 50)]


def test_env_delete_drops_the_env_namespaces(git_project: Path, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    root = project(git_project, lake)
    run_ok(root)
    edit(root, "seeknal/transforms/totals.yml", "sum(hits)", "sum(hits) * 10")
    cli(root, "plan", "dev")
    assert cli(root, "run", "--env", "dev").exit_code == 0
    assert "dev_sales" in namespaces(lake)
    res = cli(root, "env", "delete", "dev", "--yes")
    assert res.exit_code == 0, res.output
    assert "Dropped lake.dev_sales" in res.output
    assert namespaces(lake) == {"raw", "sales"}
    assert not (lake / "wh" / "dev_sales.db").exists() or not any(
        (lake / "wh" / "dev_sales.db").rglob("*.parquet")
    )


def test_append_adds_rows_in_a_commit(git_project: Path, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    root = project(git_project, lake, mode="append")
    run_ok(root)
    run_ok(root, "--full")
    assert totals(lake) == [("cart", 1), ("cart", 1), ("home", 5), ("home", 5)]


def test_missing_table_and_unknown_catalog_are_clear_errors(
    git_project: Path, tmp_path: Path
) -> None:
    lake = tmp_path / "lake"
    root = project(git_project, lake)
    edit(root, "seeknal/sources/events.yml", "lake.raw.events", "lake.raw.nope")
    res = cli(root, "run")
    assert res.exit_code == 1
    assert "source.events: Iceberg table lake.raw.nope does not exist in catalog 'lake'" in (
        res.output
    )
    edit(root, "seeknal/sources/events.yml", "lake.raw.nope", "other.raw.events")
    res = cli(root, "run")
    assert res.exit_code == 1
    assert "source.events: Iceberg catalog 'other' is not defined in" in res.output
    assert "catalogs defined: lake" in res.output


def test_iceberg_refuses_postgresql_only_modes(git_project: Path, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    root = project(git_project, lake, mode="upsert_by_key\n    unique_key: [page]")
    res = cli(root, "run")
    assert res.exit_code == 1
    assert "mode upsert_by_key is for postgresql; iceberg takes overwrite or append" in res.output
    write_tree(root, {"seeknal/transforms/totals.yml": TOTALS.format(mode="overwrite")})
    run_ok(root)
    assert totals(lake) == [("cart", 1), ("home", 5)]
