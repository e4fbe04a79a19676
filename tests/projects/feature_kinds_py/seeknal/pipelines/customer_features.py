# /// script
# requires-python = ">=3.11"
# dependencies = ["duckdb", "pandas", "pyarrow"]
# ///

"""Feature groups of the customer entity."""

from seeknal.pipeline import feature_group


@feature_group(
    name="customer_spend",
    entity={"name": "customer", "join_keys": ["customer_id"]},
    materialization={"event_time_col": "event_time"},
    features={
        "total_amount": {"description": "total", "dtype": "float"},
        "days_active": {"description": "days", "dtype": "int"},
    },
    description="spend per customer",
)
def customer_spend(ctx):
    daily = ctx.ref("transform.txn_daily")
    return ctx.duckdb.sql("""
        SELECT customer_id, SUM(amount) AS total_amount, COUNT(*) AS days_active,
               MAX(txn_date) AS event_time
        FROM daily
        GROUP BY customer_id
    """).df()


@feature_group(
    name="customer_refunds",
    entity={"name": "customer", "join_keys": ["customer_id"]},
    materialization={"event_time_col": "event_time"},
)
def customer_refunds(ctx):
    daily = ctx.ref("transform.txn_daily")
    return ctx.duckdb.sql("""
        SELECT customer_id, SUM(is_refund) AS refunds, MAX(txn_date) AS event_time
        FROM daily
        GROUP BY customer_id
    """).df()


@feature_group(
    name="customer_big",
    entity={"name": "customer", "join_keys": ["customer_id"]},
    materialization={"event_time_col": "event_time"},
    description="customers with a day over 30; first in name order: the merged file has its rows",
)
def customer_big(ctx):
    daily = ctx.ref("transform.txn_daily")
    return ctx.duckdb.sql("""
        SELECT customer_id, MAX(amount) AS biggest_day, MIN(txn_date) AS event_time
        FROM daily
        WHERE amount > 30
        GROUP BY customer_id
    """).df()


@feature_group(name="customer_latest", entity="customer", description="latest purchase")
def customer_latest(ctx):
    return ctx.ref("transform.customer_last")
