"""The shipped example project, end to end: `seeknal init --example` then `seeknal run`."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from pathlib import Path

import duckdb
from conftest import cli, manifest, output, row_count, rows, run_json, run_state, seeknal_cmd

import seeknal

EXAMPLE_NODES = {
    "source.customers",
    "source.order_items",
    "source.orders",
    "source.products",
    "source.web_events",
    "transform.stg_orders",
    "transform.order_lines",
    "transform.customer_activity",
    "transform.customer_lifetime_value",
    "transform.daily_revenue",
    "rule.stg_orders_unique_id",
    "rule.stg_orders_amount_range",
    "profile.order_lines_profile",
    "exposure.customer_ltv_export",
}
EXPORT = "exports/customer_lifetime_value.csv"


def scalar(sql: str) -> int:
    con = duckdb.connect()
    try:
        return int(con.execute(sql).fetchone()[0])  # type: ignore[index]
    finally:
        con.close()


def expected_rows(root: Path) -> dict[str, int]:
    """Row counts worked out from the raw data, independently of seeknal."""
    data = root / "data"
    customers = scalar(f"SELECT count(*) FROM read_csv_auto('{data}/customers.csv')")
    return {
        "source.customers": customers,
        "source.order_items": scalar(
            f"SELECT count(*) FROM read_csv_auto('{data}/order_items.csv')"
        ),
        "source.orders": scalar(f"SELECT count(*) FROM read_csv_auto('{data}/orders.csv')"),
        "source.products": scalar(f"SELECT count(*) FROM read_parquet('{data}/products.parquet')"),
        "source.web_events": scalar(
            f"SELECT count(*) FROM read_json_auto('{data}/web_events.jsonl')"
        ),
        # one row per order after de-duplication
        "transform.stg_orders": scalar(
            f"SELECT count(DISTINCT order_id) FROM read_csv_auto('{data}/orders.csv')"
        ),
        # every order line has its order and product
        "transform.order_lines": scalar(
            f"SELECT count(*) FROM read_csv_auto('{data}/order_items.csv')"
        ),
        "transform.customer_activity": scalar(
            f"SELECT count(DISTINCT customer_id) FROM read_json_auto('{data}/web_events.jsonl')"
        ),
        "transform.customer_lifetime_value": customers,
        "transform.daily_revenue": 148,
        "rule.stg_orders_unique_id": 1,
        "rule.stg_orders_amount_range": 1,
        # row_count, then 3 to 11 statistics for each of order_lines' 14 columns
        "profile.order_lines_profile": 122,
        "exposure.customer_ltv_export": customers,
    }


def test_example_runs_every_node_and_writes_outputs(example: Path) -> None:
    res = cli(example, "run")
    assert res.exit_code == 0, res.output
    assert "14 succeeded, 0 cached, 0 failed, 0 skipped" in res.stdout
    # progress: one line per node as it finishes, with status, rows and seconds
    assert re.search(r"^  ok +source\.orders +400 rows +\d+\.\d\ds$", res.stdout, re.MULTILINE)
    assert len(re.findall(r"^  ok ", res.stdout, re.MULTILINE)) == 14
    # the warn rule is reported, and does not fail the run
    assert "rule.stg_orders_amount_range" in res.stderr
    assert "warning" in res.stderr and "5 violating row(s)" in res.stderr

    expected = expected_rows(example)
    for node_id, count in expected.items():
        if node_id.startswith("exposure."):
            continue
        assert row_count(output(example, node_id)) == count, node_id
    assert sorted(p.name for p in (example / "target" / "cache").iterdir()) == [
        "profile",
        "rule",
        "source",
        "transform",
    ]

    # the exposure wrote its csv where it said, with a header and one line per customer
    export = example / EXPORT
    lines = export.read_text().splitlines()
    assert lines[0].split(",")[:2] == ["customer_id", "customer_name"]
    assert len(lines) == expected["exposure.customer_ltv_export"] + 1

    # rule outputs record what was checked
    amount = rows(
        output(example, "rule.stg_orders_amount_range"),
        "SELECT passed, violations, severity FROM t",
    )
    assert amount == [(False, 5, "warn")]
    unique = rows(
        output(example, "rule.stg_orders_unique_id"), "SELECT passed, violations, severity FROM t"
    )
    assert unique == [(True, 0, "error")]
    # placeholders from seeknal/common were rendered into the SQL that ran
    stg_cols = rows(output(example, "transform.stg_orders"), "SELECT column_name FROM (DESCRIBE t)")
    assert ("is_completed",) in stg_cols and ("order_date",) in stg_cols


def test_example_manifest_and_run_state(example: Path) -> None:
    res, summary = run_json(example)
    assert res.exit_code == 0, res.output
    assert summary["ok"] is True
    assert summary["counts"] == {
        "success": 14,
        "cached": 0,
        "failed": 0,
        "skipped": 0,
        "unsupported": 0,
    }

    man = manifest(example)
    assert man["metadata"]["project"] == "shop"
    assert man["metadata"]["seeknal_version"] == seeknal.__version__
    generated = dt.datetime.fromisoformat(man["metadata"]["generated_at"].replace("Z", "+00:00"))
    assert generated.utcoffset() == dt.timedelta(0)
    assert abs(dt.datetime.now(dt.UTC) - generated) < dt.timedelta(minutes=5)
    assert set(man["nodes"]) == EXAMPLE_NODES
    for node_id, node in man["nodes"].items():
        assert node["id"] == node_id
        assert node["type"] == node_id.split(".")[0]
        assert not Path(node["file_path"]).is_absolute()
        assert node["file_path"].startswith("seeknal/")
        assert (example / node["file_path"]).is_file()
        assert len(node["fingerprint"]) == 64
    assert man["nodes"]["transform.daily_revenue"]["owner"] == "finance"
    assert man["nodes"]["source.orders"]["columns"]["order_id"].startswith("Order identifier")
    edges = {(e["from"], e["to"]) for e in man["edges"]}
    assert ("transform.stg_orders", "transform.daily_revenue") in edges
    assert ("transform.customer_lifetime_value", "exposure.customer_ltv_export") in edges
    assert ("transform.order_lines", "profile.order_lines_profile") in edges
    assert len(edges) == len(man["edges"]) == 14
    assert str(example) not in (example / "target" / "manifest.json").read_text()

    state = run_state(example)
    assert state["schema_version"] == "2.0"
    assert state["run_id"] == summary["run_id"]
    assert state["last_run"].endswith("Z")
    assert set(state["nodes"]) == EXAMPLE_NODES
    expected = expected_rows(example)
    for node_id, entry in state["nodes"].items():
        assert entry["status"] == "success", node_id
        assert entry["hash"] == man["nodes"][node_id]["fingerprint"]
        assert isinstance(entry["duration_ms"], int) and entry["duration_ms"] >= 0
        assert entry["row_count"] == expected[node_id], node_id
        assert entry["last_run"] == state["last_run"]
        path = example / entry["output_path"]
        assert not Path(entry["output_path"]).is_absolute()
        assert entry["output_digest"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert state["nodes"]["exposure.customer_ltv_export"]["output_path"] == EXPORT
    assert state["nodes"]["source.orders"]["output_path"] == "target/cache/source/orders.parquet"
    assert state["nodes"]["rule.stg_orders_amount_range"]["warnings"]

    # state files are canonical JSON (sorted keys, trailing newline), with no temp files left
    for name in ("manifest.json", "run_state.json"):
        text = (example / "target" / name).read_text()
        assert text == json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n"
    assert not [p for p in (example / "target").rglob("*") if ".seeknal-tmp-" in p.name]
    assert not list((example / "exports").glob(".seeknal-tmp-*"))


def test_example_second_run_is_all_cached(example: Path) -> None:
    assert cli(example, "run").exit_code == 0
    res = cli(example, "run")
    assert res.exit_code == 0, res.output
    assert "Nothing to do: all 14 nodes are up to date." in res.stdout
    assert {e["status"] for e in run_state(example)["nodes"].values()} == {"cached"}


def test_parallel_run_gives_the_same_outputs_as_sequential(tmp_path: Path, example: Path) -> None:
    other = tmp_path / "parallel"
    assert cli(tmp_path, "init", "--example", str(other)).exit_code == 0

    res_seq, seq = run_json(example)
    res_par, par = run_json(other, "--parallel", "--max-workers", "2")
    assert res_seq.exit_code == 0 and res_par.exit_code == 0, res_par.output
    assert (
        par["counts"]
        == seq["counts"]
        == {"success": 14, "cached": 0, "failed": 0, "skipped": 0, "unsupported": 0}
    )
    # a profile's freshness_hours is measured against the run's clock
    timeless = "SELECT * FROM t WHERE metric IS DISTINCT FROM 'freshness_hours' ORDER BY ALL"
    for node_id in EXAMPLE_NODES - {"exposure.customer_ltv_export"}:
        query = timeless if node_id.startswith("profile.") else "SELECT * FROM t ORDER BY ALL"
        assert rows(output(other, node_id), query) == rows(output(example, node_id), query), node_id
    assert rows(other / EXPORT) == rows(example / EXPORT)
    # node fingerprints do not depend on the folder the project lives in
    assert {k: v["hash"] for k, v in run_state(other)["nodes"].items()} == {
        k: v["hash"] for k, v in run_state(example)["nodes"].items()
    }


def test_example_through_the_installed_command(example: Path) -> None:
    res = seeknal_cmd(example, "run", "--quiet")
    assert res.exit_code == 0, res.output
    assert "14 succeeded" in res.stdout
    assert "  ok " not in res.stdout  # --quiet: only the summary
    again = seeknal_cmd(example, "plan")
    assert again.exit_code == 0
    assert "0 node(s) to run, 14 cached." in again.stdout
