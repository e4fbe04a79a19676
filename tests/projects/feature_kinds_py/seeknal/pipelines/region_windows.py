# /// script
# requires-python = ">=3.11"
# dependencies = ["duckdb", "pandas", "pyarrow"]
# ///

"""Second-order aggregations per region over the daily rows."""

from seeknal.pipeline import second_order_aggregation


@second_order_aggregation(
    name="region_soa",
    id_col="region",
    feature_date_col="txn_date",
    application_date_col="app_date",
    features={
        "amount": {"basic": ["sum", "mean", "max", "stddev"]},
        "recent_amount": {"window": [0, 20], "basic": ["sum"], "source_feature": "amount"},
        "amount_ratio": {
            "ratio": {"numerator": [0, 14], "denominator": [15, 60], "aggs": ["sum"]},
            "source_feature": "amount",
        },
        "refund_count": {
            "since": {"condition": "is_refund == 1", "aggs": ["count"]},
            "source_feature": "n",
        },
    },
)
def region_soa(ctx):
    return ctx.ref("transform.txn_daily")


@second_order_aggregation(
    name="region_flags",
    id_col="region",
    feature_date_col="txn_date",
    application_date_col="app_date",
    description="features written out of name order; names asked for twice get _1, _2",
    features={
        "refunds": {
            "since": {"condition": "is_refund == 1", "aggs": ["count", "sum"]},
            "source_feature": "n",
        },
        "busy_days": {"since": {"condition": "n > 1", "aggs": ["count"]}, "source_feature": "n"},
        "amount": {"basic": ["sum"]},
        "spend": {"basic": ["sum", "mean"], "window": [0, 10], "source_feature": "amount"},
        "spend_again": {"basic": ["sum"], "window": [0, 10], "source_feature": "amount"},
    },
)
def region_flags(ctx):
    daily = ctx.ref("transform.txn_daily")
    return ctx.duckdb.sql("SELECT * FROM daily WHERE region IS NOT NULL").df()
