"""`seeknal plan --format text|markdown|html|json [--output F]` on production: what `seeknal run`
would do (nodes to run with their reason, cached nodes, removed nodes) through the report
templates (docs/cli.md#seeknal-plan, docs/report-schema.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import cli, manifest
from reportkit import markdown_parser, table_rows

NAMES = "seeknal/transforms/names.yml"


@pytest.fixture
def changed(small: Path) -> Path:
    """Production ran; then adults' SQL changed and names was deleted."""
    assert cli(small, "run").exit_code == 0
    adults = small / "seeknal/transforms/adults.yml"
    adults.write_text(adults.read_text().replace("age >= 18", "age >= 21"))
    (small / NAMES).unlink()
    return small


def report_json(root: Path) -> dict[str, Any]:
    res = cli(root, "plan", "--format", "json")
    assert res.exit_code == 0, res.output
    data: dict[str, Any] = json.loads(res.stdout)
    return data


def test_json_lists_nodes_to_run_cached_and_removed(changed: Path) -> None:
    report = report_json(changed)
    assert report["kind"] == "seeknal-plan-report"
    assert report["env"] is None
    nodes = {n["id"]: n for n in report["nodes"]}
    assert set(nodes) == {"transform.adults", "transform.city_counts", "transform.names"}
    assert nodes["transform.adults"]["executes"] is True
    assert nodes["transform.adults"]["category"] == "computed"
    assert "age >= 21" in nodes["transform.adults"]["sql_diff"]
    assert nodes["transform.city_counts"]["reason"] == "upstream transform.adults runs"
    assert nodes["transform.names"]["category"] == "removed"
    assert nodes["transform.names"]["executes"] is False
    assert report["production"]["cached"] == ["source.people"]
    assert report["summary"]["text"] == "2 node(s) to run, 1 cached, 1 removed."
    assert report["summary"]["to_execute"] == 2
    assert report["base_fingerprint"] == manifest(changed)["fingerprint"]
    # planning writes no production state
    assert not (changed / "target" / "plan.json").exists()


def test_json_agrees_with_the_plain_production_plan(changed: Path) -> None:
    plain = json.loads(cli(changed, "plan", "--json").stdout)
    report = report_json(changed)
    assert [n["id"] for n in report["nodes"] if n["executes"]] == plain["to_run"]
    assert [n["id"] for n in report["nodes"] if n["category"] == "removed"] == plain["removed"]


def test_text_format(changed: Path) -> None:
    res = cli(changed, "plan", "--format", "text")
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert lines[0].startswith("Production plan (against ")
    assert "2 node(s) to run, 1 cached, 1 removed." in lines
    assert "Nodes to run:" in lines
    assert "Removed nodes:" in lines
    adults = next(x for x in lines if x.strip().startswith("transform.adults"))
    assert adults.split()[1] == "computed", adults
    assert lines[-1] == "Nodes to execute: 2 (1 cached)"


def test_markdown_to_a_file(changed: Path, tmp_path: Path) -> None:
    out = tmp_path / "plan.md"
    res = cli(changed, "plan", "--format", "markdown", "--output", str(out))
    assert res.exit_code == 0, res.output
    assert f"markdown report written to {out}" in res.stderr
    md = out.read_text(encoding="utf-8")
    assert md.splitlines()[0] == "<!-- seeknal-plan:production -->"
    assert "### seeknal plan · production · small" in md
    tokens = markdown_parser().parse(md)
    tables = [table_rows(tokens, i) for i, t in enumerate(tokens) if t.type == "table_open"]
    header, body, _ = next(t for t in tables if "Why" in t[0])
    assert header == ["Node", "Category", "Runs", "Why"]
    assert [row[0] for row in body] == ["`transform.adults`", "`transform.city_counts`"]
    assert all(row[2] == "yes" for row in body)
    assert "#### Removed nodes" in md
    assert "<code>transform.names</code>" in md


def test_html_format(changed: Path, tmp_path: Path) -> None:
    out = tmp_path / "plan.html"
    res = cli(changed, "plan", "--format", "html", "-o", str(out))
    assert res.exit_code == 0, res.output
    page = out.read_text(encoding="utf-8")
    assert "<title>seeknal plan · production</title>" in page
    assert "<svg" in page
    for node_id in ("transform.adults", "transform.city_counts", "transform.names"):
        assert node_id in page
    assert "2 node(s) to run, 1 cached, 1 removed." in page


def test_up_to_date_production_and_bad_format(small: Path) -> None:
    assert cli(small, "run").exit_code == 0
    res = cli(small, "plan", "--format", "text")
    assert res.exit_code == 0, res.output
    assert "Nothing to do: all 4 nodes are up to date." in res.stdout
    res = cli(small, "plan", "--format", "pdf")
    assert res.exit_code == 2
    assert "use one of text, markdown, html, json" in res.output
