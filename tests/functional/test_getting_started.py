"""The YAML part of the older seeknal's getting-started project (tests/projects/getting_started),
run unchanged in a git repository: its outputs and its metric queries (`seeknal query
--metrics`) give the rows the older seeknal computed on the same files, in production and in an
env that reads the nodes it did not change from production."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import cli, git, output, rows, write_tree
from envkit import edit

DATA = Path(__file__).parent.parent / "projects" / "getting_started"
EXPORT = "target/exports/revenue_export.csv"

# the older seeknal's target/exports/revenue_export.csv on these files
REVENUE_EXPORT = """\
order_date,total_orders,completed_orders,pending_orders,total_revenue,avg_order_value,\
max_order_value,total_items,flagged_orders,unique_customers
2026-01-15,1,1,0,89.5,89.5,89.5,2.0,0,1
2026-01-16,2,2,0,305.0,152.5,250.0,6.0,1,2
2026-01-17,2,2,0,100.25,50.13,75.25,3.0,0,2
2026-01-18,2,2,0,365.99,183.0,320.0,2.0,1,2
2026-01-19,2,2,0,349.94,174.97,199.95,7.0,0,2
2026-01-20,2,2,0,265.49,132.75,175.5,5.0,0,2
2026-01-21,1,0,1,0.0,0.0,0.0,1.0,0,1
2026-01-22,2,2,0,342.49,171.25,299.99,6.0,0,2
"""


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project committed on main and run in production (shared: tests here only read it,
    or work on a copy)."""
    root = tmp_path_factory.mktemp("gs") / "proj"
    shutil.copytree(DATA, root)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "getting started")
    res = cli(root, "run")
    assert res.exit_code == 0, res.output
    return root


def metrics(root: Path, *args: str) -> str:
    res = cli(root, "query", "--metrics", *args)
    assert res.exit_code == 0, res.output
    return res.stdout


def test_yaml_nodes_give_the_older_tools_rows(ran: Path) -> None:
    assert (ran / EXPORT).read_text() == REVENUE_EXPORT
    assert rows(output(ran, "transform.sales_summary")) == [
        ("Apparel", 1, 1.0, 120.0, 120.0),
        ("Electronics", 1, 2.0, 159.98, 159.98),
        ("Kitchen", 1, 1.0, 49.99, 49.99),
        ("Sports", 1, 5.0, 175.0, 175.0),
    ]
    merged = rows(
        output(ran, "transform.orders_merged"),
        "SELECT order_id, customer_id, status, revenue, source_batch FROM t ORDER BY order_id",
    )
    assert len(merged) == 14
    assert merged[11] == ("ORD-012", "CUST-107", "PENDING", 0.0, "original")
    assert merged[13] == ("ORD-014", "CUST-109", "COMPLETED", 42.5, "update")


def test_metrics_by_a_dimension_as_a_table(ran: Path) -> None:
    assert metrics(ran, "total_revenue,order_count", "--dimensions", "status") == (
        "status     total_revenue  order_count\n"
        "---------  -------------  -----------\n"
        "COMPLETED        1396.17           10\n"
        "PENDING              0.0            2\n"
        "(2 rows)\n"
    )


def test_every_metric_type_by_month(ran: Path) -> None:
    every = "total_revenue,order_count,avg_order_value_ratio,revenue_per_customer"
    every += ",unique_customers,avg_order_value"
    out = metrics(ran, every, "--dimensions", "status,order_date__month", "-f", "csv")
    assert out == (
        "status,order_date_month,total_revenue,order_count,avg_order_value_ratio,"
        "revenue_per_customer,unique_customers,avg_order_value\n"
        "COMPLETED,2026-01-01 00:00:00,1396.17,10,139.61700000000002,174.52125,8,155.13\n"
        "PENDING,2026-01-01 00:00:00,0.0,2,0.0,0.0,2,0.0\n"
    )


def test_cumulative_metric_runs_along_the_time_dimension(ran: Path) -> None:
    out = metrics(
        ran, "cumulative_revenue,order_count", "--dimensions", "order_date",
        "--order-by", "order_date", "-f", "json",
    )  # fmt: skip
    assert [
        (r["order_date"], r["cumulative_revenue"], r["order_count"]) for r in json.loads(out)
    ] == [
        ("2026-01-15", 89.5, 1),
        ("2026-01-16", 339.5, 2),
        ("2026-01-17", 414.75, 2),
        ("2026-01-18", 780.74, 2),
        ("2026-01-19", 1130.68, 2),
        ("2026-01-20", 1396.17, 2),
        ("2026-01-21", 1396.17, 1),
    ]
    alone = metrics(ran, "cumulative_revenue", "-f", "csv").split()
    assert sorted(alone[1:], key=float) == [
        "89.5", "339.5", "339.5", "339.5", "414.75", "734.75", "780.74", "930.73",
        "1130.68", "1306.18", "1396.17", "1396.17",
    ]  # fmt: skip


def test_filter_order_and_limit(ran: Path) -> None:
    out = metrics(
        ran, "total_revenue", "--dimensions", "customer_id", "--filter", "status = 'COMPLETED'",
        "--order-by", "-total_revenue", "--limit", "2", "-f", "csv",
    )  # fmt: skip
    assert out == "customer_id,total_revenue\nCUST-101,409.5\nUNKNOWN,250.0\n"


def test_compile_prints_the_sql_without_running(ran: Path) -> None:
    sql = metrics(ran, "avg_order_value_ratio", "--dimensions", "order_date__week", "--compile")
    assert sql == (
        "SELECT\n"
        "  date_trunc('week', order_date) AS \"order_date_week\",\n"
        '  SUM(revenue) / NULLIF(COUNT(1), 0) AS "avg_order_value_ratio"\n'
        "FROM ref('transform.orders_cleaned') AS \"orders_cleaned\"\n"
        "GROUP BY date_trunc('week', order_date)\n"
        "LIMIT 100\n"
    )
    # the compiled SQL is a query of its own
    res = cli(ran, "query", sql.replace("LIMIT", "ORDER BY 1 LIMIT"), "-f", "csv")
    assert res.stdout == (
        "order_date_week,avg_order_value_ratio\n"
        "2026-01-12 00:00:00,111.53428571428572\n"
        "2026-01-19 00:00:00,123.08600000000001\n"
    )


def test_metric_files_with_filters_and_derived_metrics(ran: Path, tmp_path: Path) -> None:
    root = tmp_path / "copy"
    shutil.copytree(ran, root)
    write_tree(
        root,
        {
            "seeknal/metrics/completed_revenue.yml": (
                "kind: metric\nname: completed_revenue\ntype: simple\nmeasure: total_revenue\n"
                "filter: \"status = 'COMPLETED'\"\n"
            ),
            "seeknal/metrics/revenue_per_order_x100.yml": (
                "kind: metric\nname: revenue_per_order_x100\ntype: derived\n"
                "expr: ratio * 100\ninputs:\n  - metric: avg_order_value_ratio\n    alias: ratio\n"
            ),
        },
    )
    out = metrics(root, "completed_revenue,revenue_per_order_x100,order_count", "-f", "csv")
    # a metric's filter restricts the rows of the whole query, as in the older seeknal
    assert (
        out
        == "completed_revenue,revenue_per_order_x100,order_count\n1396.17,13961.700000000003,10\n"
    )


@pytest.mark.parametrize(
    ("args", "message", "hint"),
    [
        (
            ["total_revenu"],
            "Error: Unknown metric 'total_revenu' (did you mean 'total_revenue'?).",
            "Next: Known metrics: avg_order_value, avg_order_value_ratio, cumulative_revenue,",
        ),
        (
            ["total_revenue", "--dimensions", "stauts"],
            "Error: Unknown dimension 'stauts' (did you mean 'status'?).",
            "Next: Dimensions: customer_id, order_date, order_id, status "
            "(seeknal/semantic_models/orders.yml).",
        ),
        (
            ["total_revenue", "--dimensions", "status__month"],
            "Error: Dimension 'status' is not a time dimension",
            "Next: Use 'status' alone, or give it type: time",
        ),
        (
            ["cumulative_revenue", "--dimensions", "status"],
            "Error: Cumulative metric 'cumulative_revenue' runs along the time dimension "
            "'order_date'",
            "Next: Add 'order_date'",
        ),
        (
            ["total_revenue", "--filter", "1; DROP TABLE x"],
            "Error: --filter ('1; DROP TABLE x') is not one SQL expression",
            "Next: Write a condition",
        ),
        (
            ["total_revenue", "--order-by", "revenue"],
            "Error: --order-by 'revenue' is not a column of the result",
            "Next: Order by one of: total_revenue",
        ),
    ],
)
def test_unknown_names_are_refused_with_the_closest(
    ran: Path, args: list[str], message: str, hint: str
) -> None:
    res = cli(ran, "query", "--metrics", *args)
    assert res.exit_code == 1
    assert res.stdout == ""
    assert message in res.stderr and hint in res.stderr, res.stderr


def test_a_model_whose_node_has_not_run_is_named(ran: Path, tmp_path: Path) -> None:
    root = tmp_path / "copy"
    shutil.copytree(ran, root)
    shutil.rmtree(root / "target")
    res = cli(root, "query", "--metrics", "total_revenue")
    assert res.exit_code == 1
    assert res.stderr == (
        "Error: Semantic model 'orders' (seeknal/semantic_models/orders.yml) reads "
        "transform.orders_cleaned: transform.orders_cleaned has no output in production yet.\n"
        "Next: Run 'seeknal run' to compute it.\n"
    )


def test_an_env_reads_its_own_outputs_and_production_for_the_rest(
    ran: Path, tmp_path: Path
) -> None:
    root = tmp_path / "copy"
    shutil.copytree(ran, root)
    git(root, "checkout", "-q", "-b", "dev")
    edit(
        root,
        "seeknal/transforms/orders_cleaned.yml",
        "FROM ref('source.raw_orders')",
        "FROM ref('source.raw_orders') WHERE status <> 'pending'",
    )
    git(root, "commit", "-qam", "completed orders only")
    assert cli(root, "plan", "dev").exit_code == 0
    res = cli(root, "query", "--metrics", "order_count", "--env", "dev")
    assert res.exit_code == 1
    assert "Environment 'dev' is planned but not applied" in res.stderr
    assert cli(root, "run", "--env", "dev").exit_code == 0
    by_status = ["order_count", "--dimensions", "status", "-f", "csv"]
    assert metrics(root, *by_status, "--env", "dev") == "status,order_count\nCOMPLETED,10\n"
    production = metrics(root, *by_status, "--order-by", "status", "--env", "dev", "--filter",
                         "true")  # fmt: skip
    assert production == "status,order_count\nCOMPLETED,10\n"
    # production is unchanged until promote
    git(root, "checkout", "-q", "main")
    assert metrics(root, *by_status, "--order-by", "status") == (
        "status,order_count\nCOMPLETED,10\nPENDING,2\n"
    )
    assert (root / EXPORT).read_text() == REVENUE_EXPORT
    env_export = root / "target" / "environments" / "dev" / EXPORT
    assert env_export.read_text() != REVENUE_EXPORT
    in_dev = env_export.read_text()
    assert ",1,0,1,0.0," not in in_dev  # the pending day is gone in dev
    # promote (from the branch) moves the env's export into production's target/exports/
    git(root, "checkout", "-q", "dev")
    assert cli(root, "promote", "dev").exit_code == 0
    assert not env_export.exists()
    assert (root / EXPORT).read_text() == in_dev
    git(root, "checkout", "-q", "main")
    assert metrics(root, *by_status) == "status,order_count\nCOMPLETED,10\n"


CUSTOMERS = {
    "data/customers.csv": (
        "customer_id,segment\nCUST-100,gold\nCUST-101,gold\nCUST-102,silver\nCUST-103,silver\n"
        "CUST-999,bronze\n"
    ),
    "seeknal/sources/customers.yml": (
        "kind: source\nname: customers\nsource: csv\ntable: data/customers.csv\n"
    ),
    "seeknal/semantic_models/customers.yml": (
        "kind: semantic_model\nname: customers\nmodel: \"ref('source.customers')\"\n"
        "entities:\n  - name: customer_id\n    type: primary\n"
        "dimensions:\n  - name: segment\n    type: categorical\n"
        "measures:\n  - name: customer_count\n    expr: customers.customer_id\n"
        "    agg: count_distinct\n"
    ),
}


def test_a_dimension_of_another_model_joins_it_by_their_shared_entity(
    ran: Path, tmp_path: Path
) -> None:
    root = tmp_path / "copy"
    shutil.copytree(ran, root)
    write_tree(root, CUSTOMERS)
    assert cli(root, "run").exit_code == 0
    by_segment = ["total_revenue,order_count", "--dimensions", "segment", "--order-by", "segment"]
    assert metrics(root, *by_segment, "-f", "csv") == (
        "segment,total_revenue,order_count\nbronze,,1\ngold,649.48,5\nsilver,75.25,2\n"
    )
    sql = metrics(root, *by_segment, "--compile")
    assert (
        "FROM ref('source.customers') AS \"customers\"\n"
        "LEFT JOIN ref('transform.orders_cleaned') AS \"orders_cleaned\" "
        'ON "customers"."customer_id" = "orders_cleaned"."customer_id"\n'
    ) in sql
    # a declared join wins over the shared entity
    edit(
        root,
        "seeknal/semantic_models/customers.yml",
        "entities:",
        'joins:\n  - name: orders\n    sql: "{CUBE}.customer_id = {orders}.customer_id '
        "AND {orders}.status = 'COMPLETED'\"\nentities:",
    )
    assert metrics(root, *by_segment, "-f", "csv") == (
        "segment,total_revenue,order_count\nbronze,,1\ngold,649.48,4\nsilver,75.25,2\n"
    )
    assert "AND \"orders_cleaned\".status = 'COMPLETED'" in metrics(root, *by_segment, "--compile")


def test_a_wrong_value_in_a_semantic_model_is_refused_at_load(ran: Path, tmp_path: Path) -> None:
    root = tmp_path / "copy"
    shutil.copytree(ran, root)
    edit(root, "seeknal/semantic_models/orders.yml", "agg: average", "agg: median")
    res = cli(root, "plan")
    assert res.exit_code == 1
    assert (
        "seeknal/semantic_models/orders.yml: measure 'avg_order_value' agg 'median' is not one "
        "of sum, count, count_distinct, average, min, max"
    ) in res.stderr


def test_a_metric_file_may_hold_several_metrics(ran: Path, tmp_path: Path) -> None:
    root = tmp_path / "copy"
    shutil.copytree(ran, root)
    write_tree(
        root,
        {
            "seeknal/metrics/revenue.yml": (
                "kind: metric\nname: completed_revenue\ntype: simple\nmeasure: total_revenue\n"
                "filter: \"status = 'COMPLETED'\"\n"
                "---\n"
                "kind: metric\nname: max_revenue_ratio\ntype: ratio\n"
                "numerator: total_revenue\ndenominator: unique_customers\n"
                "---\n"
                "kind: metric\nname: broken\ntype: rate\n"
            ),
        },
    )
    res = cli(root, "plan")
    assert res.exit_code == 1
    assert "seeknal/metrics/revenue.yml: metric 'broken' type must be one of simple" in res.stderr
    edit(root, "seeknal/metrics/revenue.yml", "type: rate", "type: simple\nmeasure: order_count")
    assert cli(root, "plan").exit_code == 0
    out = metrics(root, "completed_revenue,max_revenue_ratio,broken", "-f", "csv")
    assert out == "completed_revenue,max_revenue_ratio,broken\n1396.17,174.52125,10\n"
    write_tree(root, {"seeknal/transforms/two.yml": "kind: transform\nname: a\n---\nkind: x\n"})
    res = cli(root, "plan")
    assert res.exit_code == 1
    assert (
        "seeknal/transforms/two.yml:1: holds several YAML documents, but only metric files may"
    ) in res.stderr


def test_an_unfinished_metric_is_refused_only_when_queried(ran: Path, tmp_path: Path) -> None:
    root = tmp_path / "copy"
    shutil.copytree(ran, root)
    edit(
        root,
        "seeknal/semantic_models/orders.yml",
        "metrics:\n",
        "metrics:\n  - name: draft\n    type: simple\n",
    )
    assert cli(root, "plan").exit_code == 0
    assert metrics(root, "order_count", "-f", "csv") == "order_count\n12\n"
    res = cli(root, "query", "--metrics", "draft")
    assert res.exit_code == 1
    assert res.stderr == (
        "Error: seeknal/semantic_models/orders.yml cannot be queried: simple metric 'draft' "
        "needs measure.\nNext: Fix seeknal/semantic_models/orders.yml, then query again.\n"
    )
