"""Python feature groups and second-order aggregations through the CLI, in a real git repository:
the function's rows go through the same post-processing as the YAML kinds (docs/concepts.md,
"Python nodes")."""

from __future__ import annotations

from pathlib import Path

from conftest import PROJECT_YML, cli, git, output, rows, write_tree
from envkit import edit, env_dir, env_json

TRANSACTIONS_CSV = """\
customer_id,region,order_date,amount
c1,north,2026-01-01,10.0
c1,north,2026-01-02,20.0
c2,south,2026-01-01,5.0
c3,north,2026-01-03,7.0
"""

FEATURES = "seeknal/pipelines/features.py"

FILES = {
    "seeknal_project.yml": PROJECT_YML.format(name="pyfeatures"),
    "data/transactions.csv": TRANSACTIONS_CSV,
    FEATURES: '''\
# /// script
# dependencies = ["duckdb"]
# ///
"""Customer and region features."""

from seeknal.pipeline import (
    feature_group,
    second_order_aggregation,
    source,
    transform,
)


@source(name="transactions", source="csv", table="data/transactions.csv")
def transactions(ctx=None):
    pass


@feature_group(name="customer_features", entity="customer", description="Spend")
def customer_features(ctx):
    txn = ctx.ref("source.transactions")
    return ctx.duckdb.sql(
        "SELECT customer_id, count(*) AS orders, sum(amount) AS total FROM txn GROUP BY 1"
    )


@transform(name="daily")
def daily(ctx):
    txn = ctx.ref("source.transactions")
    return ctx.duckdb.sql("""
        SELECT customer_id, region, CAST(order_date AS DATE) AS order_date,
               DATE '2026-01-10' AS application_date, amount AS daily_amount
        FROM txn
    """)


@second_order_aggregation(
    name="region_metrics",
    id_col="region",
    feature_date_col="order_date",
    application_date_col="application_date",
    features={"daily_amount": {"basic": ["sum", "max"]}},
)
def region_metrics(ctx):
    return ctx.ref("transform.daily")
''',
}


def test_python_feature_group_and_second_order_aggregation(git_project: Path) -> None:
    write_tree(git_project, FILES)
    git(git_project, "add", "-A")
    git(git_project, "commit", "-q", "-m", "features")
    res = cli(git_project, "run")
    assert res.exit_code == 0, res.output
    store = git_project / "target" / "feature_store" / "customer" / "customer_features.parquet"
    assert rows(store) == [("c1", 2, 30.0), ("c2", 1, 5.0), ("c3", 1, 7.0)]
    assert rows(output(git_project, "second_order_aggregation.region_metrics")) == [
        ("north", 37.0, 20.0),
        ("south", 5.0, 5.0),
    ]
    edit(git_project, FEATURES, "sum(amount) AS total", "max(amount) AS total")
    res = cli(git_project, "plan", "dev")
    assert res.exit_code == 0, res.output
    assert env_json(git_project, "dev", "plan.json")["categorized_changes"] == {
        "feature_group.customer_features": "breaking"
    }
    res = cli(git_project, "run", "--env", "dev")
    assert res.exit_code == 0, res.output
    dev_store = env_dir(git_project, "dev") / "target" / "feature_store" / "customer"
    assert rows(dev_store / "customer_features.parquet") == [
        ("c1", 2, 20.0),
        ("c2", 1, 5.0),
        ("c3", 1, 7.0),
    ]
    assert rows(store) == [("c1", 2, 30.0), ("c2", 1, 5.0), ("c3", 1, 7.0)]
    res = cli(git_project, "promote", "dev")
    assert res.exit_code == 0, res.output
    assert rows(store) == [("c1", 2, 20.0), ("c2", 1, 5.0), ("c3", 1, 7.0)]
