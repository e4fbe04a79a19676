"""The JSON report: a stable, documented schema with the same facts as the markdown (docs/report-schema.md)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import cli
from reportkit import CATEGORY_LABELS, EXPECTED_CATEGORIES, edited_example, isolated_git, md_facts

DOC = Path(__file__).resolve().parents[2] / "docs" / "report-schema.md"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("json")
    with isolated_git(folder):
        root = edited_example(folder / "shop")
        res = cli(root, "plan", "dev")
        assert res.exit_code == 0, res.output
        # applied, so that the run fields are present too
        res = cli(root, "run", "--env", "dev")
        assert res.exit_code == 0, res.output
    return root


def report_bytes(root: Path, tmp_path: Path, name: str) -> bytes:
    out = tmp_path / name
    res = cli(root, "report", "dev", "--format", "json", "--output", out)
    assert res.exit_code == 0, res.output
    return out.read_bytes()


def test_rendering_twice_gives_identical_bytes_with_sorted_keys(
    project: Path, tmp_path: Path
) -> None:
    first = report_bytes(project, tmp_path, "a.json")
    assert report_bytes(project, tmp_path, "b.json") == first
    assert cli(project, "report", "dev", "-f", "json").stdout.encode() == first

    def sorted_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in pairs]
        assert keys == sorted(keys), keys
        return dict(pairs)

    report = json.loads(first, object_pairs_hook=sorted_pairs)
    assert report["schema_version"] == "1.1"
    assert report["kind"] == "seeknal-plan-report"
    assert report["env"] == "dev" and report["project"] == "shop"


def test_same_facts_as_the_markdown(project: Path) -> None:
    report = json.loads(cli(project, "report", "dev", "-f", "json").stdout)
    markdown = cli(project, "report", "dev", "-f", "markdown").stdout
    from_json = {n["id"]: (CATEGORY_LABELS[n["category"]], n["reason"]) for n in report["nodes"]}
    assert {n: c for n, (_, c) in _categories(report).items()} == EXPECTED_CATEGORIES
    assert md_facts(markdown) == from_json
    counts = report["summary"]["by_category"]
    for category in CATEGORY_LABELS:
        expected = sum(1 for c in EXPECTED_CATEGORIES.values() if c == category)
        assert counts[category] == expected
    assert report["summary"]["to_execute"] == 5 and report["summary"]["total_nodes"] == 14


def _categories(report: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {n["id"]: (n["kind"], n["category"]) for n in report["nodes"]}


def _paths(value: Any, prefix: str = "") -> set[str]:
    """Every field path of a JSON value: `summary.by_category`, `nodes[].run.rows`, ..."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{prefix}.{key}" if prefix else key
            found.add(path)
            if key not in ("by_category", "statuses"):  # keyed by category / status
                found |= _paths(item, path)
    elif isinstance(value, list):
        for item in value:
            found |= _paths(item, f"{prefix}[]")
    return found


def test_every_field_is_documented(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    report = json.loads(cli(project, "report", "dev", "-f", "json").stdout)
    schema = DOC.read_text(encoding="utf-8").split("\n## Folding")[0]
    documented = set(re.findall(r"^\| `([^`]+)` \|", schema, re.M))
    fields = _paths(report)
    # a plan report (not applied) and a revision plan have no other fields
    assert {"run.applied", "nodes[].run.status", "nodes[].run.schema_changes"} <= fields
    assert {"data_changes[].rows_changed", "data_changes[].columns[].after"} <= fields
    missing = sorted(fields - documented)
    assert not missing, f"fields missing from {DOC.name}: {missing}"
    # and the doc names no field the model does not have (bar the folding-only ones)
    folding_only = {"nodes[].folded", "nodes[].downstream_total"}
    folding_only |= {"omitted.details", "omitted.nodes", "omitted.graph_nodes"}
    folding_only |= {"omitted.data_changes"}
    git_only = {"git.base", "git.head", "git.base_ref", "git.branch"}  # revision / bound plans
    folding_only |= git_only
    # a production plan's report adds its own object, documented the same way
    monkeypatch.setenv("SEEKNAL_ENV", "prod")  # the project is on a branch bound to an env
    res = cli(project, "plan", "-f", "json")
    assert res.exit_code == 0, res.output
    production = json.loads(res.stdout)
    assert not sorted(_paths(production) - documented)
    assert sorted(documented - fields - _paths(production) - folding_only) == []
