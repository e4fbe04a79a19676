"""What the older seeknal (2.13.0) computes on tests/projects/feature_kinds and its Python twin
tests/projects/feature_kinds_py, for the feature kind tests.

The rows were computed by the older tool on these projects (bench/compare_older.py runs both
tools again and compares them, consolidated feature store files included). Dates are DATE here:
`rounded` reads a TIMESTAMP column as DATE (the older tool, and a Python node returning a
DataFrame, pass dates through pandas, which makes them timestamps). Importable as
`from featurekit import ...` (tests/ is on sys.path).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from conftest import output, rows

PROJECTS = Path(__file__).resolve().parent / "projects"
STORE = "target/feature_store/customer"
D = dt.date

SPEND = [
    ("c1", 35.0, 3, D(2024, 1, 20)),
    ("c2", 150.0, 2, D(2024, 1, 3)),
    ("c3", 20.0, 2, D(2024, 2, 1)),
    ("c4", 40.0, 1, D(2024, 1, 15)),
]
REFUNDS = [
    ("c1", 1.0, D(2024, 1, 20)),
    ("c2", 0.0, D(2024, 1, 3)),
    ("c3", 1.0, D(2024, 2, 1)),
    ("c4", 0.0, D(2024, 1, 15)),
]
LATEST = [
    ("c1", 5.0, D(2024, 1, 20)),
    ("c2", 50.0, D(2024, 1, 3)),
    ("c3", 12.5, D(2024, 2, 1)),
    ("c4", 40.0, D(2024, 1, 15)),
]
BIG = [("c2", 100.0, D(2024, 1, 2)), ("c4", 40.0, D(2024, 1, 15))]
GROUP_FILES = [
    "customer_big.parquet",
    "customer_latest.parquet",
    "customer_refunds.parquet",
    "customer_spend.parquet",
]
CONSOLIDATED = ["_entity_catalog.json", "features.parquet"]
# the merged file: customer_big's rows (first in name order), each other group LEFT JOINed on
# customer_id and event_time, its features packed in a struct named after it
MERGED_COLUMNS = [
    "customer_id",
    "event_time",
    "customer_big",
    "customer_latest",
    "customer_refunds",
    "customer_spend",
]
MERGED = [
    (
        "c2",
        D(2024, 1, 2),  # customer_big's first day: no other group has a row for it
        {"biggest_day": 100.0},
        {"last_amount": None},
        {"refunds": None},
        {"total_amount": None, "days_active": None},
    ),
    (
        "c4",
        D(2024, 1, 15),
        {"biggest_day": 40.0},
        {"last_amount": 40.0},
        {"refunds": 0.0},
        {"total_amount": 40.0, "days_active": 1},
    ),
]
CATALOG_FEATURES = {
    "customer_big": (["biggest_day"], 2),
    "customer_latest": (["last_amount"], 4),
    "customer_refunds": (["refunds"], 4),
    "customer_spend": (["total_amount", "days_active"], 4),
}
AGG_COLUMNS = [
    "customer_id",
    "app_date",
    "region",
    "amount_sum",
    "amount_avg",
    "amount_max",
    "amount_stddev",
    "amount_count",
    "is_refund_count_if",
    "is_refund_sum_if",
]
AGG = [
    ("c1", D(2024, 2, 1), "north", 35.0, 11.666666667, 20.0, 7.637626158, 3, 1, 1.0),
    ("c2", D(2024, 2, 1), "south", 150.0, 75.0, 100.0, 35.355339059, 2, 0, 0.0),
    ("c3", D(2024, 2, 1), "north", 20.0, 10.0, 12.5, 3.535533906, 2, 1, 1.0),
    ("c4", D(2024, 2, 1), "south", 40.0, 40.0, 40.0, None, 1, 0, 0.0),
]
# rolling and ratio windows over the grouped days (customer, day, amount), as the older tool
DAYS_COLUMNS = [
    "customer_id",
    "app_date",
    "txn_date",
    "amount",
    "amount_sum",
    "amount_sum_3d",
    "amount_avg_3d",
    "amount_max_3d",
    "amount_sum_30d",
    "amount_avg_30d",
    "amount_max_30d",
    "amount_sum_ratio_3d_30d",
    "amount_sum_1",  # the second feature named amount: its sum again, numbered
    "amount_count",
    "refund_days_count_if",
]
_FEB = D(2024, 2, 1)
DAYS = [
    ("c1", _FEB, D(2024, 1, 1), 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 1.0, 10.0, 1, 0),
    ("c1", _FEB, D(2024, 1, 5), 20.0, 20.0, 20.0, 20.0, 20.0, 30.0, 15.0, 20.0, 0.666666667, 20.0,
     1, 0),
    ("c1", _FEB, D(2024, 1, 20), 5.0, 5.0, 5.0, 5.0, 5.0, 35.0, 11.666666667, 20.0, 0.142857143,
     5.0, 1, 1),
    ("c2", _FEB, D(2024, 1, 2), 100.0, 100.0, 100.0, 100.0, 100.0, 100.0, 100.0, 100.0, 1.0, 100.0,
     1, 0),
    ("c2", _FEB, D(2024, 1, 3), 50.0, 50.0, 150.0, 75.0, 100.0, 150.0, 75.0, 100.0, 1.0, 50.0, 1, 0),
    ("c3", _FEB, D(2024, 1, 10), 7.5, 7.5, 7.5, 7.5, 7.5, 7.5, 7.5, 7.5, 1.0, 7.5, 1, 0),
    ("c3", _FEB, _FEB, 12.5, 12.5, 12.5, 12.5, 12.5, 20.0, 10.0, 12.5, 0.625, 12.5, 1, 1),
    ("c4", _FEB, D(2024, 1, 15), 40.0, 40.0, 40.0, 40.0, 40.0, 40.0, 40.0, 40.0, 1.0, 40.0, 1, 0),
]  # fmt: skip
SOA_COLUMNS = [
    "region",
    "amount_SUM",
    "amount_MEAN",
    "amount_MAX",
    "amount_STDDEV",
    "amount_SUM_1",  # recent_amount's sum over all rows: the name again, as the older tool
    "amount_SUM_0_20",
    "amount_SUM0_14_SUM15_60",
    "SINCE_COUNT_n_GEO_D",
]
SOA = [
    ("north", 55.0, 11.0, 20.0, 5.755432217, 55.0, 17.5, 0.466666667, 2),
    ("south", 190.0, 63.333333333, 100.0, 32.145502537, 190.0, 40.0, None, 0),
]
# amount without mean and stddev
SOA_DEV = [
    ("north", 55.0, 20.0, 55.0, 17.5, 0.466666667, 2),
    ("south", 190.0, 100.0, 190.0, 40.0, None, 0),
]
# features written out of name order, names asked for twice or three times: the older tool's
# columns, in its order (the written one), with its _1, _2 (which since: gets the _1 follows
# from the order: refunds' count is 2 in the north, busy_days' 0)
FLAGS_COLUMNS = [
    "region",
    "SINCE_COUNT_n_GEO_D",
    "SINCE_SUM_n_GEO_D",
    "SINCE_COUNT_n_GEO_D_1",
    "amount_SUM",
    "amount_SUM_1",
    "amount_MEAN",
    "amount_SUM_0_10",
    "amount_MEAN_0_10",
    "amount_SUM_2",
    "amount_SUM_0_10_1",
]
FLAGS = [
    ("north", 2, 2.0, 0, 55.0, 55.0, 11.0, 12.5, 12.5, 55.0, 12.5),
    ("south", 0, None, 0, 190.0, 190.0, 63.333333333, None, None, 190.0, None),
]


def columns(path: Path) -> list[str]:
    return [r[0] for r in rows(path, "SELECT column_name FROM (DESCRIBE SELECT * FROM t)")]


def rounded(path: Path) -> list[tuple[object, ...]]:
    """Rows ordered, doubles rounded to 9 places (the last digits of stddev vary by version),
    timestamps read as dates."""
    cols = rows(path, "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM t)")
    kinds = {"DOUBLE": 'round("{}", 9)', "TIMESTAMP": 'CAST("{}" AS DATE)'}
    select = ", ".join(kinds.get(kind, '"{}"').format(name) for name, kind in cols)
    return rows(path, f"SELECT {select} FROM t ORDER BY ALL")


def catalog(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def check_consolidated(folder: Path) -> None:
    """The entity's merged file and catalog, as the older tool writes them."""
    merged = folder / "features.parquet"
    assert columns(merged) == MERGED_COLUMNS
    assert rounded(merged) == MERGED
    found = catalog(folder / "_entity_catalog.json")
    assert found["entity_name"] == "customer"
    assert found["join_keys"] == ["customer_id"]
    assert found["schema_version"] == "1.0"
    groups = found["feature_groups"]
    assert {n: (g["features"], g["row_count"]) for n, g in groups.items()} == CATALOG_FEATURES
    assert groups["customer_spend"]["event_time_col"] == "event_time"
    assert groups["customer_spend"]["schema"]["days_active"] == "BIGINT"


def check_production(root: Path) -> None:
    """Every output of the feature_kinds project (or its Python twin) in production."""
    store = root / STORE
    assert sorted(p.name for p in store.iterdir()) == sorted(GROUP_FILES + CONSOLIDATED)
    assert rounded(store / "customer_spend.parquet") == SPEND
    assert rounded(store / "customer_refunds.parquet") == REFUNDS
    assert rounded(store / "customer_latest.parquet") == LATEST
    assert rounded(store / "customer_big.parquet") == BIG
    check_consolidated(store)
    agg = output(root, "aggregation.customer_agg")
    assert columns(agg) == AGG_COLUMNS
    assert rounded(agg) == AGG
    days = output(root, "aggregation.customer_days")
    assert columns(days) == DAYS_COLUMNS
    assert rounded(days) == DAYS
    soa = output(root, "second_order_aggregation.region_soa")
    assert columns(soa) == SOA_COLUMNS
    assert rounded(soa) == SOA
    flags = output(root, "second_order_aggregation.region_flags")
    assert columns(flags) == FLAGS_COLUMNS
    assert rounded(flags) == FLAGS
