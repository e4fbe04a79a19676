"""The report model (pure) and the renderers' folding, escaping and redaction, on plain dicts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from seeknal.report.model import build_report, fold, sql_diff
from seeknal.report.render import MARKDOWN_LIMIT, redact, render, secret_values


def node(kind: str, inputs: list[str] = (), sql: str | None = None, **meta: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"type": kind, "inputs": list(inputs), "file_path": f"{kind}.yml"}
    if sql is not None:
        entry["sql"] = sql
    entry.update(meta)
    return entry


def small_plan() -> tuple[dict[str, Any], dict[str, Any]]:
    """s → a (breaking) → b → c; s → d (metadata); old r (removed) read from a."""
    manifest = {
        "metadata": {"project": "p"},
        "nodes": {
            "source.s": node("source"),
            "transform.a": node("transform", ["source.s"], "SELECT 1\nWHERE x > 2"),
            "transform.b": node("transform", ["transform.a"], "SELECT * FROM a"),
            "transform.c": node("transform", ["transform.b"], "SELECT * FROM b"),
            "transform.d": node("transform", ["source.s"], "SELECT 4", description="new text"),
        },
    }
    plan = {
        "plan_id": "abc",
        "env_name": "dev",
        "categorized_changes": {
            "transform.a": "breaking",
            "transform.b": "indirect_breaking",
            "transform.c": "indirect_breaking",
            "transform.d": "metadata",
            "transform.r": "removed",
        },
        "reasons": {"transform.a": "SQL changed: filter on `x`", "transform.d": "description"},
        "nodes_to_execute": ["transform.a", "transform.b", "transform.c"],
        "total_nodes": 5,
        "base_nodes": {
            "transform.a": node("transform", ["source.s"], "SELECT 1\nWHERE x > 1"),
            "transform.d": node("transform", ["source.s"], "SELECT 4"),
            "transform.r": node("transform", ["transform.a"], "SELECT 9"),
        },
    }
    return plan, manifest


def test_nodes_are_ordered_direct_first_with_their_facts() -> None:
    plan, manifest = small_plan()
    report = build_report(plan, manifest)
    assert [n["id"] for n in report["nodes"]] == [
        "transform.a",
        "transform.d",
        "transform.r",
        "transform.b",
        "transform.c",
    ]
    a, d, r, b, _ = report["nodes"]
    assert a["direct"] and a["executes"] and a["reason"] == "SQL changed: filter on `x`"
    assert a["sql_diff"].splitlines()[-2:] == ["-WHERE x > 1", "+WHERE x > 2"]
    assert a["downstream"] == ["transform.b", "transform.c"]
    # a description edit reaches nothing downstream, and has no SQL diff
    assert d["downstream"] == [] and d["sql_diff"] == "" and d["description"] == "new text"
    # a removed node keeps its old SQL as an all-minus diff
    assert r["sql_diff"].splitlines()[-1] == "-SELECT 9" and r["kind"] == "transform"
    assert not b["direct"] and b["downstream"] == []
    assert report["summary"] == {
        "text": "3 changed node(s) (1 breaking, 1 metadata, 1 removed), 2 downstream; "
        "3 of 5 nodes to execute.",
        "changed": 3,
        "downstream": 2,
        "to_execute": 3,
        "total_nodes": 5,
        "by_category": {
            "breaking": 1,
            "non_breaking": 0,
            "metadata": 1,
            "added": 0,
            "removed": 1,
            "indirect_breaking": 2,
            "indirect_non_breaking": 0,
        },
    }
    assert report["project"] == "p" and report["env"] == "dev" and report["run"] is None


def test_graph_has_affected_and_removed_nodes_and_unchanged_parents() -> None:
    plan, manifest = small_plan()
    graph = build_report(plan, manifest)["graph"]
    categories = {g["id"]: g["category"] for g in graph["nodes"]}
    assert categories == {
        "source.s": "unchanged",
        "transform.a": "breaking",
        "transform.b": "indirect_breaking",
        "transform.c": "indirect_breaking",
        "transform.d": "metadata",
        "transform.r": "removed",
    }
    assert {(e["from"], e["to"]) for e in graph["edges"]} == {
        ("source.s", "transform.a"),
        ("transform.a", "transform.b"),
        ("transform.b", "transform.c"),
        ("source.s", "transform.d"),
        ("transform.a", "transform.r"),
    }


def test_no_changes() -> None:
    report = build_report({"env_name": "dev", "total_nodes": 3}, {"nodes": {}})
    assert report["summary"]["text"] == "No changes against production."
    assert report["nodes"] == [] and report["graph"] == {"nodes": [], "edges": []}
    text = render(report, "markdown")
    assert text.startswith("<!-- seeknal-plan:dev -->\n")
    assert "**No changes against production.**" in text


def test_revision_plans_reproduce_with_base_and_head() -> None:
    plan, manifest = small_plan()
    plan.update(env_name=None, git={"base_ref": "origin/main", "head": "f" * 40, "base": "e" * 40})
    report = build_report(plan, manifest)
    assert report["commands"] == [f"seeknal plan --base origin/main --head {'f' * 12}"]
    assert render(report, "markdown").startswith("<!-- seeknal-plan:revisions -->\n")


def test_sql_diff_is_capped() -> None:
    old = "\n".join(f"SELECT {i}" for i in range(1000))
    diff = sql_diff(old, None, "transform.x").splitlines()
    assert len(diff) == 401
    assert diff[-1] == f"... {1000 + 3 - 400} more diff lines"


def wide_report(direct: int, indirect: int) -> dict[str, Any]:
    """`direct` added nodes with long SQL, each feeding `indirect // direct` rebuilt nodes."""
    nodes: dict[str, Any] = {"source.s": node("source")}
    cats: dict[str, str] = {}
    per = indirect // direct
    for i in range(direct):
        sql = "\n".join(f"SELECT {j} AS column_number_{j}" for j in range(60))
        nodes[f"transform.d{i:04d}"] = node("transform", ["source.s"], sql)
        cats[f"transform.d{i:04d}"] = "added"
        for k in range(per):
            nodes[f"transform.i{i:04d}_{k:04d}"] = node("transform", [f"transform.d{i:04d}"])
            cats[f"transform.i{i:04d}_{k:04d}"] = "indirect_breaking"
    plan = {
        "env_name": "dev",
        "categorized_changes": cats,
        "reasons": {n: "new node" for n in cats},
        "nodes_to_execute": sorted(cats),
        "total_nodes": len(nodes),
    }
    return build_report(plan, {"nodes": nodes})


@pytest.mark.parametrize(("direct", "indirect"), [(1, 3000), (300, 3000), (3000, 0)])
def test_markdown_folds_under_the_limit_and_says_what_it_left_out(
    direct: int, indirect: int
) -> None:
    report = wide_report(direct, indirect)
    text = render(report, "markdown")
    assert len(text) <= MARKDOWN_LIMIT
    assert text.startswith("<!-- seeknal-plan:dev -->\n")
    assert "Left out to stay under 65,000 characters:" in text
    assert text.rstrip().endswith("</sub>")  # folded, not cut off
    # the first changed node keeps its section
    assert "<details><summary><code>transform.d0000</code>" in text
    if direct == 1:
        # one changed node: its diff and the graph survive, the long lists go
        assert "+SELECT 59 AS column_number_59" in text
        assert "```mermaid" in text


def test_fold_counts_only_what_it_dropped() -> None:
    report = wide_report(5, 60)  # 65 affected nodes, 66 in the graph with source.s
    folded = fold(report, details=2, graph=10, listed=20)
    assert folded["omitted"] == {"details": 3, "nodes": 45, "graph_nodes": 56}
    shown = folded["nodes"]
    assert len(shown) == 20
    assert [bool(n["sql_diff"]) for n in shown[:5]] == [True, True, False, False, False]
    assert all(n.get("folded") for n in shown[2:5])
    assert not any(n.get("folded") for n in shown[5:])  # indirect nodes have no diff to fold
    assert shown[2]["downstream_total"] == 12 and len(shown[2]["downstream"]) == 10
    assert "downstream_total" not in shown[1] and len(shown[1]["downstream"]) == 12
    # the graph keeps the changed nodes first, with their parent
    kept = {g["id"] for g in folded["graph"]["nodes"]}
    assert {f"transform.d{i:04d}" for i in range(5)} | {"source.s"} <= kept
    assert report["omitted"] == {}  # the original is untouched


def test_json_is_sorted_and_stable() -> None:
    plan, manifest = small_plan()
    report = build_report(plan, manifest)
    first = render(report, "json")
    assert first == render(json.loads(first), "json")
    assert list(json.loads(first)) == sorted(json.loads(first))


def test_filters_escape_markdown_and_mermaid(tmp_path: Path) -> None:
    plan, manifest = small_plan()
    manifest["nodes"]["transform.d"]["description"] = 'a <b>|</b> & "q"\nnext'
    (tmp_path / "plan.md.j2").write_text(
        "{% for n in r.nodes %}{{ n.description | md }}¦{{ n.reason | html_code }}¦"
        "{{ n.id | mermaid_id }}¦{{ n.description | mermaid_label }}\n{% endfor %}"
    )
    text = render(build_report(plan, manifest), "markdown", tmp_path)
    line = text.splitlines()[1]
    assert line.split("¦")[0] == 'a &lt;b&gt;\\|&lt;/b&gt; &amp; "q" next'
    assert "n_transform_d" in line and "#quot;q#quot;" in text
    first = text.splitlines()[0].split("¦")
    assert first[1:3] == ["SQL changed: filter on <code>x</code>", "n_transform_a"]


def test_secrets_from_env_vars_and_the_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MY_API_TOKEN", "tok-123456")
    monkeypatch.setenv("PLAIN_SETTING", "visible-value")
    profile = tmp_path / "profiles-dev.yml"
    profile.write_text("dev:\n  outputs:\n    - password: pw-987654\n      user: bob\n")
    values = secret_values(str(profile))
    assert "tok-123456" in values and "pw-987654" in values
    assert "visible-value" not in values and "bob" not in values
    assert redact("tok-123456 / pw-987654 / bob", values) == "**** / **** / bob"


def data_entry(node_id: str) -> dict[str, Any]:
    return {
        "id": node_id,
        "category": "indirect_breaking",
        "reason": "upstream changed",
        "rows_before": 100,
        "rows_after": 90,
        "row_delta": -10,
        "key": ["id"],
        "key_source": "key",
        "rows_added": 1,
        "rows_removed": 11,
        "rows_changed": 4,
        "duplicate_keys": 0,
        "columns": [],
        "schema_changes": [],
        "note": None,
    }


def test_the_data_changes_table_folds_with_the_lists() -> None:
    report = wide_report(1, 3000)
    report["data_changes"] = [data_entry(n["id"]) for n in report["nodes"]]
    folded = fold(report, details=60, graph=120, listed=100)
    assert len(folded["data_changes"]) == 100
    assert folded["omitted"]["data_changes"] == len(report["nodes"]) - 100
    assert len(report["data_changes"]) == len(report["nodes"])  # the original is untouched

    text = render(report, "markdown")
    assert len(text) <= MARKDOWN_LIMIT and text.rstrip().endswith("</sub>")
    rows = [line for line in text.splitlines() if line.endswith("| 1 | 11 | 4 |  |")]
    assert rows[0] == "| `transform.d0000` | `id` | 100 → 90 (-10) | 1 | 11 | 4 |  |"
    left = len(report["data_changes"]) - len(rows)
    assert left > 0
    assert f"> {left} more node(s) left out of this table to stay under 65,000 characters." in text
