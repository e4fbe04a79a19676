"""`seeknal report ENV` after `seeknal run --env ENV`: run results and the data diff against
production (row counts, schema changes) in every format (docs/report-schema.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import cli, output, row_count, run_state
from reportkit import EXPECTED_CATEGORIES, edited_example, isolated_git, markdown_parser

EXECUTED = {n for n, c in EXPECTED_CATEGORIES.items() if c not in ("metadata", "removed")}


@pytest.fixture(scope="module")
def applied(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("run")
    with isolated_git(folder):
        root = edited_example(folder / "shop")
        res = cli(root, "plan", "dev")
        assert res.exit_code == 0, res.output
        before = json.loads(cli(root, "report", "dev", "-f", "json").stdout)
        res = cli(root, "run", "--env", "dev")
        assert res.exit_code == 0, res.output
        after = json.loads(cli(root, "report", "dev", "-f", "json").stdout)
    return {"root": root, "before": before, "after": after}


def env_rows(root: Path, node_id: str) -> int:
    state = json.loads((root / "target/environments/dev/run_state.json").read_text())
    return row_count(root / state["nodes"][node_id]["output_path"])


def test_before_the_run_there_are_no_results(applied: dict[str, Any]) -> None:
    before = applied["before"]
    assert before["run"] is None
    assert all("run" not in n for n in before["nodes"])


def test_json_has_per_node_status_rows_seconds_and_the_diff(applied: dict[str, Any]) -> None:
    root, report = applied["root"], applied["after"]
    prod = run_state(root)["nodes"]
    assert report["run"] == {"applied": True, "statuses": {"success": len(EXECUTED)}}
    runs = {n["id"]: n["run"] for n in report["nodes"] if "run" in n}
    assert set(runs) == EXECUTED
    for node_id, run in runs.items():
        assert run["status"] == "success"
        assert isinstance(run["seconds"], float | int) and run["seconds"] >= 0
        if node_id.startswith("exposure."):
            continue  # an exposure writes a csv outside target/
        assert run["rows"] == env_rows(root, node_id), node_id
        if node_id in prod:
            assert run["prod_rows"] == row_count(output(root, node_id)), node_id
            assert run["row_delta"] == run["rows"] - run["prod_rows"]
        else:
            assert run["prod_rows"] is None and run["row_delta"] is None

    # the breaking filter drops customers whose only events are page views
    activity = runs["transform.customer_activity"]
    assert activity["row_delta"] < 0
    assert activity["schema_changes"] == []
    # the non-breaking change: same rows, one more column
    revenue = runs["transform.daily_revenue"]
    assert revenue["row_delta"] == 0
    assert revenue["schema_changes"] == ["+revenue_per_customer DOUBLE"]
    # a new node has no production output to compare with
    assert runs["transform.category_revenue"]["schema_changes"] == []


def test_text_and_markdown_show_the_results(applied: dict[str, Any]) -> None:
    root, report = applied["root"], applied["after"]
    runs = {n["id"]: n["run"] for n in report["nodes"] if "run" in n}
    text = cli(root, "report", "dev").stdout
    revenue = runs["transform.daily_revenue"]
    assert (
        f"[success, {revenue['rows']} rows, production {revenue['prod_rows']}, "
        f"{revenue['seconds']}s; +revenue_per_customer DOUBLE]" in text
    )

    markdown = cli(root, "report", "dev", "-f", "markdown").stdout
    inline = [t.content for t in markdown_parser().parse(markdown) if t.type == "inline"]
    activity = runs["transform.customer_activity"]
    assert (
        f"Run: **success**, {activity['rows']} rows (production {activity['prod_rows']}) "
        f"in {activity['seconds']}s" in inline
    )
    assert (
        f"Run: **success**, {revenue['rows']} rows (production {revenue['prod_rows']}) in "
        f"{revenue['seconds']}s; schema: +revenue_per_customer DOUBLE" in inline
    )

    html = cli(root, "report", "dev", "-f", "html").stdout
    assert "schema: +revenue_per_customer DOUBLE</p>" in html


def test_a_new_plan_drops_the_old_results(applied: dict[str, Any], tmp_path: Path) -> None:
    root = applied["root"]
    # re-planning unchanged content keeps the plan and its results ...
    res = cli(root, "plan", "dev")
    assert res.exit_code == 0, res.output
    report = json.loads(cli(root, "report", "dev", "-f", "json").stdout)
    assert report["run"] is not None
    # ... a plan of changed content starts without results
    stg = root / "seeknal/transforms/stg_orders.yml"
    stg.write_text(stg.read_text().replace("owner: analytics", "owner: analytics-team", 1))
    res = cli(root, "plan", "dev")
    assert res.exit_code == 0, res.output
    report = json.loads(cli(root, "report", "dev", "-f", "json").stdout)
    assert report["run"] is None
    assert all("run" not in n for n in report["nodes"])
