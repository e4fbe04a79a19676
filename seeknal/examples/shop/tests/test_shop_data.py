"""Data tests for the shop project. Run them against production or an environment:

    pytest tests/              # the active env (production on the production branch)
    pytest tests/ --env dev    # what env dev computed, and production for what it did not change

The `seeknal` fixture comes with seeknal's pytest plugin: every node is readable with
ref('kind.name'). See docs/testing-data.md in the seeknal repository.
"""

import pytest


def count(seeknal, sql):
    return seeknal.scalar(f"SELECT count(*) FROM ({sql})")


def test_stg_orders_keeps_one_row_per_order(seeknal):
    staged = count(seeknal, "SELECT * FROM ref('transform.stg_orders')")
    orders = count(seeknal, "SELECT DISTINCT order_id FROM ref('source.orders')")
    assert staged == orders, f"{staged} rows in stg_orders for {orders} distinct orders"


def test_every_order_item_becomes_an_order_line(seeknal):
    lines = count(seeknal, "SELECT * FROM ref('transform.order_lines')")
    items = count(seeknal, "SELECT * FROM ref('source.order_items')")
    assert lines == items, f"{lines} order lines for {items} order items"


def test_customer_lifetime_value_has_every_customer(seeknal):
    values = count(seeknal, "SELECT * FROM ref('transform.customer_lifetime_value')")
    customers = count(seeknal, "SELECT * FROM ref('source.customers')")
    assert values == customers, f"{values} rows in customer_lifetime_value, {customers} customers"


@pytest.mark.parametrize(
    "node, key",
    [
        ("transform.stg_orders", "order_id"),
        ("transform.order_lines", "order_item_id"),
        ("transform.customer_lifetime_value", "customer_id"),
        ("transform.daily_revenue", "order_date"),
    ],
)
def test_keys_are_unique(seeknal, node, key):
    duplicated = count(seeknal, f"SELECT {key} FROM ref('{node}') GROUP BY 1 HAVING count(*) > 1")
    assert duplicated == 0, f"{duplicated} values of {key} appear more than once in {node}"


def test_no_negative_revenue(seeknal):
    negative_days = count(seeknal, "SELECT * FROM ref('transform.daily_revenue') WHERE revenue < 0")
    negative_customers = count(
        seeknal, "SELECT * FROM ref('transform.customer_lifetime_value') WHERE lifetime_value < 0"
    )
    assert (negative_days, negative_customers) == (0, 0)


def test_daily_revenue_adds_up_to_customer_lifetime_value(seeknal):
    daily = seeknal.scalar("SELECT sum(revenue) FROM ref('transform.daily_revenue')")
    lifetime = seeknal.scalar(
        "SELECT sum(lifetime_value) FROM ref('transform.customer_lifetime_value')"
    )
    assert daily == lifetime, f"revenue {daily} per day, {lifetime} over customers"
