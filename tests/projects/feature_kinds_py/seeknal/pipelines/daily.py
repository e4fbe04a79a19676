# /// script
# requires-python = ">=3.11"
# dependencies = ["duckdb", "pandas", "pyarrow"]
# ///

"""Transforms: one row per customer and day, and each customer's latest day."""

from seeknal.pipeline import transform


@transform(name="txn_daily", description="transactions per customer and day")
def txn_daily(ctx):
    txns = ctx.ref("source.txns")
    return ctx.duckdb.sql("""
        SELECT customer_id, region, CAST(txn_date AS DATE) AS txn_date,
               DATE '2024-02-01' AS app_date,
               SUM(amount) AS amount, COUNT(*) AS n, MAX(is_refund) AS is_refund
        FROM txns
        GROUP BY 1, 2, 3
    """).df()


@transform(name="customer_last", description="each customer's latest day")
def customer_last(ctx):
    daily = ctx.ref("transform.txn_daily")
    return ctx.duckdb.sql("""
        SELECT customer_id, amount AS last_amount, txn_date AS event_time
        FROM daily
        QUALIFY ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY txn_date DESC) = 1
    """).df()
