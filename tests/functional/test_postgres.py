"""PostgreSQL sources and materializations against a real server (tests/pgkit.py), read back
with psycopg: production names, env-prefixed schemas, promote --rematerialize, env deletion,
modes, fingerprints that follow the data, and errors that name the node and the connection."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conftest import cli, git, output, ran, rows, run_json, write_tree
from envkit import edit
from pgkit import PASSWORD, PgDb

PROJECT = "name: pg\nversion: 1.0.0\nprofile: default\nconfig-version: 1\nstate_backend: file\n"
ORDERS = """\
kind: source
name: orders
source: postgresql
connection: wh
table: shop.orders
"""
BIG_ORDERS = """\
kind: source
name: big_orders
source: postgresql
connection: wh
params:
  query: "SELECT id, amount FROM shop.orders WHERE amount >= 10"
"""
TOTALS = """\
kind: transform
name: totals
inputs:
  - ref: source.orders
transform: |
  SELECT customer, sum(amount)::INTEGER AS total FROM ref('source.orders') GROUP BY customer
materializations:
  - type: postgresql
    connection: wh
    table: analytics.totals
    mode: {mode}
"""


def seed(pg: PgDb) -> None:
    pg.execute("CREATE SCHEMA shop")
    pg.execute("CREATE TABLE shop.orders (id int, customer text, amount int)")
    pg.execute("INSERT INTO shop.orders VALUES (1, 'ann', 5), (2, 'bob', 12), (3, 'ann', 20)")


def project(root: Path, pg: PgDb, mode: str = "overwrite") -> Path:
    seed(pg)
    write_tree(
        root,
        {
            "seeknal_project.yml": PROJECT,
            "profiles.yml": pg.profile(),
            "seeknal/sources/orders.yml": ORDERS,
            "seeknal/sources/big_orders.yml": BIG_ORDERS,
            "seeknal/transforms/totals.yml": TOTALS.format(mode=mode),
        },
    )
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "pg project")
    return root


def totals(pg: PgDb, table: str = "analytics.totals") -> list[tuple[object, ...]]:
    return pg.rows(f"SELECT customer, total FROM {table} ORDER BY customer")


def run_ok(root: Path, *args: str) -> dict[str, Any]:
    res, summary = run_json(root, *args)
    assert res.exit_code == 0, res.output
    return summary


def test_production_reads_tables_and_queries_and_writes_production_names(
    git_project: Path, pg: PgDb
) -> None:
    root = project(git_project, pg)
    run_ok(root)
    assert rows(output(root, "source.orders")) == [(1, "ann", 5), (2, "bob", 12), (3, "ann", 20)]
    assert rows(output(root, "source.big_orders")) == [(2, 12), (3, 20)]
    assert totals(pg) == [("ann", 25), ("bob", 12)]
    assert "analytics.totals" in pg.tables()
    # identifiers keep their case: the table is exactly the one named
    assert pg.rows("SELECT data_type FROM information_schema.columns WHERE column_name = 'total'")
    assert not any(t.startswith("analytics._seeknal") for t in pg.tables())


def test_changed_rows_change_the_fingerprint(git_project: Path, pg: PgDb) -> None:
    root = project(git_project, pg)
    run_ok(root)
    assert ran(run_ok(root)) == set()  # nothing changed, nothing runs
    pg.execute("INSERT INTO shop.orders VALUES (4, 'cid', 7)")
    res = cli(root, "plan")
    assert "run      source.orders      source data changed" in res.output
    assert "cached   source.big_orders  unchanged" in res.output  # its query's rows did not

    run_ok(root)
    assert totals(pg) == [("ann", 25), ("bob", 12), ("cid", 7)]
    pg.execute("UPDATE shop.orders SET amount = 30 WHERE id = 2")
    assert {"source.orders", "source.big_orders"} <= ran(run_ok(root))
    assert rows(output(root, "source.big_orders")) == [(2, 30), (3, 20)]


def test_an_env_writes_prefixed_schemas_and_promote_rematerializes(
    git_project: Path, pg: PgDb
) -> None:
    root = project(git_project, pg)
    run_ok(root)
    edit(root, "seeknal/transforms/totals.yml", "sum(amount)", "sum(amount) * 10")
    assert cli(root, "plan", "dev").exit_code == 0
    res = cli(root, "run", "--env", "dev")
    assert res.exit_code == 0, res.output
    assert totals(pg, "dev_analytics.totals") == [("ann", 250), ("bob", 120)]
    assert totals(pg) == [("ann", 25), ("bob", 12)]  # production is never touched by an env
    res = cli(root, "promote", "dev", "--rematerialize")
    assert res.exit_code == 0, res.output
    assert "Materialized analytics.totals" in res.output
    assert totals(pg) == [("ann", 250), ("bob", 120)]
    assert PASSWORD not in res.output


def test_promote_without_rematerialize_leaves_production_tables(
    git_project: Path, pg: PgDb
) -> None:
    root = project(git_project, pg)
    run_ok(root)
    edit(root, "seeknal/transforms/totals.yml", "sum(amount)", "sum(amount) * 10")
    cli(root, "plan", "dev")
    assert cli(root, "run", "--env", "dev").exit_code == 0
    assert cli(root, "promote", "dev").exit_code == 0
    assert totals(pg) == [("ann", 25), ("bob", 12)]


def test_env_delete_drops_the_env_schemas(git_project: Path, pg: PgDb) -> None:
    root = project(git_project, pg)
    run_ok(root)
    edit(root, "seeknal/transforms/totals.yml", "sum(amount)", "sum(amount) * 10")
    cli(root, "plan", "dev")
    assert cli(root, "run", "--env", "dev").exit_code == 0
    assert "dev_analytics" in pg.schemas()
    res = cli(root, "env", "delete", "dev", "--yes")
    assert res.exit_code == 0, res.output
    assert "Dropped wh:dev_analytics" in res.output
    assert "dev_analytics" not in pg.schemas()
    assert {"analytics", "shop"} <= pg.schemas()


def test_env_gc_drops_the_schemas_of_expired_envs(git_project: Path, pg: PgDb) -> None:
    root = project(git_project, pg)
    edit(
        root,
        "seeknal_project.yml",
        "state_backend: file\n",
        "state_backend: file\nenvironments:\n  ttl_seconds: 1\n",
    )
    run_ok(root)
    edit(root, "seeknal/transforms/totals.yml", "sum(amount)", "sum(amount) * 10")
    cli(root, "plan", "dev")
    assert cli(root, "run", "--env", "dev").exit_code == 0
    assert "dev_analytics" in pg.schemas()
    import time

    time.sleep(2.1)
    res = cli(root, "env", "gc")
    assert res.exit_code == 0, res.output
    assert "Deleted dev" in res.output
    assert "dev_analytics" not in pg.schemas()


def test_append_and_upsert_by_key(git_project: Path, pg: PgDb) -> None:
    root = project(git_project, pg, mode="append")
    run_ok(root)
    run_ok(root, "--full")
    assert totals(pg) == [("ann", 25), ("ann", 25), ("bob", 12), ("bob", 12)]
    pg.execute("DROP SCHEMA analytics CASCADE")
    edit(
        root,
        "seeknal/transforms/totals.yml",
        "mode: append",
        "mode: upsert_by_key\n    unique_key: [customer]",
    )
    run_ok(root)
    pg.execute("UPDATE shop.orders SET amount = 1 WHERE customer = 'bob'")
    pg.execute("INSERT INTO shop.orders VALUES (9, 'dee', 4)")
    run_ok(root)
    assert totals(pg) == [("ann", 25), ("bob", 1), ("dee", 4)]


def test_wrong_password_names_the_connection_and_the_node(git_project: Path, pg: PgDb) -> None:
    root = project(git_project, pg)
    write_tree(root, {"profiles.yml": pg.profile(password="not-the-password")})
    res = cli(root, "run")
    assert res.exit_code == 1
    assert "source.big_orders: cannot connect to PostgreSQL connection 'wh'" in res.output
    assert "password authentication failed" in res.output
    assert "not-the-password" not in res.output and PASSWORD not in res.output
    assert "profiles.yml" in res.output


def test_unreachable_server_is_a_clear_error(git_project: Path, pg: PgDb) -> None:
    root = project(git_project, pg)
    text = pg.profile().replace(f"port: {pg.server.port}", "port: 1")
    write_tree(root, {"profiles.yml": text})
    res = cli(root, "plan", "dev")
    assert res.exit_code == 1
    assert "cannot connect to PostgreSQL connection 'wh' (seeknal@127.0.0.1:1/" in res.output
    assert PASSWORD not in res.output


def test_a_missing_table_names_the_table_node_and_connection(git_project: Path, pg: PgDb) -> None:
    root = project(git_project, pg)
    edit(root, "seeknal/sources/orders.yml", "shop.orders", "shop.nope")
    res = cli(root, "run")
    assert res.exit_code == 1
    assert "source.orders: table shop.nope does not exist in PostgreSQL connection 'wh'" in (
        res.output
    )


def test_a_failing_query_fails_its_node_only(git_project: Path, pg: PgDb) -> None:
    root = project(git_project, pg)
    edit(root, "seeknal/sources/big_orders.yml", "amount >= 10", "nope >= 10")
    res = cli(root, "run")
    assert res.exit_code == 1
    assert "source.big_orders: PostgreSQL connection 'wh'" in res.output
    assert 'column "nope" does not exist' in res.output


def test_unsafe_identifiers_are_refused_when_the_project_loads(git_project: Path, pg: PgDb) -> None:
    root = project(git_project, pg)
    edit(root, "seeknal/transforms/totals.yml", "analytics.totals", 'analytics."x; drop"')
    edit(root, "seeknal/sources/orders.yml", "shop.orders", "shop.or-ders")
    res = cli(root, "run")
    assert res.exit_code == 1
    assert "'or-ders' in 'table: shop.or-ders' is not a plain identifier" in res.output
    assert "materializations #1:" in res.output and "is not a plain identifier" in res.output
    assert "analytics" not in pg.schemas()


def test_incremental_by_time_replaces_the_span_of_the_new_rows(git_project: Path, pg: PgDb) -> None:
    root = project(git_project, pg)
    pg.execute("CREATE TABLE shop.daily (day date, hits int)")
    pg.execute("INSERT INTO shop.daily VALUES ('2024-01-01', 1), ('2024-01-02', 2)")
    write_tree(
        root,
        {
            "seeknal/sources/daily.yml": ORDERS.replace("orders", "daily"),
            "seeknal/transforms/by_day.yml": """\
kind: transform
name: by_day
inputs:
  - ref: source.daily
transform: |
  SELECT day, hits FROM ref('source.daily') WHERE day >= DATE '2024-01-02'
materializations:
  - type: postgresql
    connection: wh
    table: analytics.by_day
    mode: incremental_by_time
    time_column: day
""",
        },
    )
    pg.execute("CREATE SCHEMA analytics")
    pg.execute("CREATE TABLE analytics.by_day (day date, hits int)")
    pg.execute("INSERT INTO analytics.by_day VALUES ('2024-01-01', 10), ('2024-01-02', 20)")
    run_ok(root)
    got = pg.rows("SELECT day::text, hits FROM analytics.by_day ORDER BY day")
    assert got == [("2024-01-01", 10), ("2024-01-02", 2)]  # outside the span: kept
    pg.execute("INSERT INTO shop.daily VALUES ('2024-01-03', 3)")
    run_ok(root)
    got = pg.rows("SELECT day::text, hits FROM analytics.by_day ORDER BY day")
    assert got == [("2024-01-01", 10), ("2024-01-02", 2), ("2024-01-03", 3)]


def test_env_names_become_identifier_prefixes(git_project: Path, pg: PgDb) -> None:
    root = project(git_project, pg)
    run_ok(root)
    edit(root, "seeknal/transforms/totals.yml", "sum(amount)", "sum(amount) * 10")
    assert cli(root, "plan", "fix-1").exit_code == 0
    res = cli(root, "run", "--env", "fix-1")
    assert res.exit_code == 0, res.output
    assert totals(pg, "fix_1_analytics.totals") == [("ann", 250), ("bob", 120)]


def test_a_failed_overwrite_leaves_the_table_and_the_output_as_they_were(
    git_project: Path, pg: PgDb
) -> None:
    root = project(git_project, pg)
    run_ok(root)
    before = (output(root, "transform.totals")).read_bytes()
    # a view where the table was: dropping it as a table fails inside the transaction
    pg.execute("DROP TABLE analytics.totals")
    pg.execute("CREATE VIEW analytics.totals AS SELECT 'old'::text AS customer, 1 AS total")
    pg.execute("INSERT INTO shop.orders VALUES (4, 'cid', 7)")
    res, summary = run_json(root)
    assert res.exit_code == 1
    failed = [n for n in summary["nodes"] if n["status"] == "failed"]
    assert [n["id"] for n in failed] == ["transform.totals"]
    assert "PostgreSQL connection 'wh'" in res.output
    assert totals(pg) == [("old", 1)]
    assert pg.tables() == {"shop.orders"}  # no staged table left behind
    assert output(root, "transform.totals").read_bytes() == before
