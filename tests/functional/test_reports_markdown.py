"""The markdown report (the PR comment), read back with a CommonMark parser (docs/report-schema.md)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import cli, git, write_tree
from reportkit import (
    CATEGORY_LABELS,
    EXPECTED_CATEGORIES,
    edited_example,
    env_plan,
    isolated_git,
    markdown_parser,
    plain,
    table_rows,
)

XSS = "<script>alert(1)</script> & <b>bold</b> | pipe"


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("md")
    with isolated_git(folder):
        root = edited_example(folder / "shop", added_description=XSS)
        out = folder / "plan.md"
        res = cli(root, "plan", "dev", "--format", "markdown", "--output", out)
        assert res.exit_code == 0, res.output
        report = json.loads(cli(root, "report", "dev", "--format", "json").stdout)
    return {"root": root, "md": out.read_text(encoding="utf-8"), "report": report}


def fences(tokens: list[Any], info: str) -> list[Any]:
    return [t for t in tokens if t.type == "fence" and t.info.strip() == info]


def test_marker_summary_and_counts_table(example: dict[str, Any]) -> None:
    md, report = example["md"], example["report"]
    assert md.splitlines()[0] == "<!-- seeknal-plan:dev -->"
    tokens = markdown_parser().parse(md)
    assert tokens[0].type == "html_block"
    assert tokens[0].content.strip() == "<!-- seeknal-plan:dev -->"

    summary = report["summary"]["text"]
    assert summary == (
        "5 changed node(s) (1 breaking, 1 non-breaking, 1 metadata, 1 added, 1 removed), "
        "2 downstream; 5 of 14 nodes to execute."
    )
    paragraphs = [t.content for t in tokens if t.type == "inline"]
    assert f"**{summary}**" in paragraphs

    start = next(i for i, t in enumerate(tokens) if t.type == "table_open")
    header, body, _ = table_rows(tokens, start)
    assert header == ["Category", "Nodes"]
    counts = {cells[0]: cells[1] for cells in body}
    assert counts.pop("**to execute**") == "**5** of 14"
    expected: dict[str, int] = {}
    for category in EXPECTED_CATEGORIES.values():
        expected[CATEGORY_LABELS[category]] = expected.get(CATEGORY_LABELS[category], 0) + 1
    assert {label: int(n) for label, n in counts.items()} == expected


def test_mermaid_graph_has_every_affected_node_and_its_parents(example: dict[str, Any]) -> None:
    root = example["root"]
    tokens = markdown_parser().parse(example["md"])
    (graph,) = fences(tokens, "mermaid")
    lines = graph.content.splitlines()
    assert lines[0].startswith("flowchart")

    nodes = {}
    for line in lines:
        match = re.fullmatch(r"\s+(n_\w+)\[\"([^\"]+)\"\]:::(\w+)", line)
        if match:
            nodes[match.group(2)] = (match.group(1), match.group(3))
    edges = set(re.findall(r"^\s+(n_\w+) --> (n_\w+)$", graph.content, re.M))
    class_defs = set(re.findall(r"^\s+classDef (\w+) ", graph.content, re.M))

    # expected from the env's own files, not from the report model
    plan = env_plan(root)
    head = json.loads((root / "target/environments/dev/manifest.json").read_text())["nodes"]
    affected = set(plan["categorized_changes"]) | set(plan["nodes_to_execute"])
    assert affected == set(EXPECTED_CATEGORIES)
    inputs = {n: (head.get(n) or plan["base_nodes"][n])["inputs"] for n in affected}
    parents = {up for ups in inputs.values() for up in ups} - affected
    assert parents == {
        "source.web_events",
        "transform.stg_orders",
        "transform.order_lines",
    }
    assert set(nodes) == affected | parents
    for node_id, (_, category) in nodes.items():
        assert category == EXPECTED_CATEGORIES.get(node_id, "unchanged"), node_id
        assert category in class_defs, f"no classDef for {category}"
    ids = {node_id: mermaid_id for node_id, (mermaid_id, _) in nodes.items()}
    assert edges == {(ids[up], ids[n]) for n in affected for up in inputs[n]}


def test_one_details_section_per_changed_node(example: dict[str, Any]) -> None:
    tokens = markdown_parser().parse(example["md"])
    report = {n["id"]: n for n in example["report"]["nodes"]}
    sections: dict[str, dict[str, Any]] = {}
    current: dict[str, Any] | None = None
    for tok in tokens:
        if tok.type == "html_block" and tok.content.startswith("<details><summary><code>"):
            match = re.match(
                r"<details><summary><code>([^<]+)</code> · ([^·]+) · (.*)</summary>", tok.content
            )
            assert match, tok.content
            current = {"label": match.group(2).strip(), "reason": plain(match.group(3)), "text": []}
            sections[match.group(1)] = current
        elif tok.type == "html_block" and tok.content.strip() == "</details>":
            current = None
        elif current is not None and tok.type == "fence":
            current.setdefault("fences", []).append((tok.info.strip(), tok.content))
        elif current is not None and tok.type == "inline":
            current["text"].append(tok.content)

    direct = {n for n, c in EXPECTED_CATEGORIES.items() if not c.startswith("indirect")}
    assert set(sections) == direct
    for node_id, section in sections.items():
        assert section["label"] == CATEGORY_LABELS[EXPECTED_CATEGORIES[node_id]]
        assert section["reason"] == report[node_id]["reason"] != ""

    def diff_lines(node_id: str) -> list[str]:
        (fence,) = sections[node_id]["fences"]
        assert fence[0] == "diff"
        return fence[1].splitlines()

    breaking = diff_lines("transform.customer_activity")
    assert "-    WHERE customer_id IS NOT NULL" in breaking
    assert "+    WHERE customer_id IS NOT NULL AND event_type <> 'page_view'" in breaking
    assert "+    round(revenue / customers, 2) AS revenue_per_customer," in diff_lines(
        "transform.daily_revenue"
    )
    added = diff_lines("transform.category_revenue")
    assert [line for line in added if line.startswith("+") and not line.startswith("+++")] == [
        "+SELECT category, sum(net_amount) AS revenue",
        "+FROM ref('transform.order_lines')",
        "+GROUP BY category",
    ]
    # nothing to diff for a description edit or a removed profile (no SQL)
    assert "fences" not in sections["source.customers"]
    assert "fences" not in sections["profile.order_lines_profile"]
    # downstream impact of the breaking change
    text = " ".join(sections["transform.customer_activity"]["text"])
    assert (
        "Downstream impact (2): `exposure.customer_ltv_export`, "
        "`transform.customer_lifetime_value`" in text
    )


def test_descriptions_cannot_inject_html_or_break_tables(example: dict[str, Any]) -> None:
    md = example["md"]
    assert "<script>" not in md and "<b>bold</b>" not in md
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt; \\| pipe" in md
    html = markdown_parser().render(md)
    assert "<script>" not in html


def test_reproduce_commands(example: dict[str, Any]) -> None:
    tokens = markdown_parser().parse(example["md"])
    (commands,) = fences(tokens, "bash")
    assert commands.content.splitlines() == [
        "seeknal plan dev",
        "seeknal run --env dev",
        "seeknal report dev --format markdown",
        "seeknal promote dev",
    ]
    assert commands.content.splitlines() == example["report"]["commands"]


# --------------------------------------------------------------------------------------------
# A 3,000-node change stays under GitHub's comment limit

WIDTH, LAYERS = 300, 10  # 3,000 transforms below one root transform


def big_project(root: Path) -> None:
    files = {
        "seeknal_project.yml": "name: big\nversion: 1.0.0\nprofile: default\nconfig-version: 1\n",
        "data/people.csv": "id,name\n1,Ann\n2,Bob\n3,Cid\n",
        "seeknal/sources/people.yml": (
            "kind: source\nname: people\nsource: csv\ntable: data/people.csv\n"
        ),
        "seeknal/transforms/root.yml": (
            "kind: transform\nname: root\ninputs:\n  - ref: source.people\n"
            "transform: SELECT * FROM ref('source.people')\n"
        ),
    }
    for layer in range(1, LAYERS + 1):
        for i in range(WIDTH):
            up = "transform.root" if layer == 1 else f"transform.l{layer - 1}_{i:03d}"
            files[f"seeknal/transforms/l{layer}_{i:03d}.yml"] = (
                f"kind: transform\nname: l{layer}_{i:03d}\ninputs:\n  - ref: {up}\n"
                f"transform: SELECT * FROM ref('{up}')\n"
            )
    write_tree(root, files)


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("big")
    root = folder / "big"
    root.mkdir()
    with isolated_git(folder):
        git(root, "init", "-q", "-b", "main")
        big_project(root)
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "big")
        res = cli(root, "run", "--quiet")  # ~5 s: run once for the module
        assert res.exit_code == 0, res.output
        path = root / "seeknal/transforms/root.yml"
        path.write_text(
            path.read_text().replace(
                "FROM ref('source.people')", "FROM ref('source.people') WHERE id > 1"
            )
        )
        out = folder / "plan.md"
        res = cli(root, "plan", "dev", "--format", "markdown", "--output", out)
        assert res.exit_code == 0, res.output
    return {"root": root, "md": out.read_text(encoding="utf-8")}


def test_a_3000_node_change_fits_in_one_comment(big: dict[str, Any]) -> None:
    md = big["md"]
    plan = env_plan(big["root"])
    assert plan["categorized_changes"]["transform.root"] == "breaking"
    assert len(plan["nodes_to_execute"]) == WIDTH * LAYERS + 1

    assert len(md) <= 65_000
    assert md.splitlines()[0] == "<!-- seeknal-plan:dev -->"
    tokens = markdown_parser().parse(md)
    inline = [t.content for t in tokens if t.type == "inline"]
    assert (
        "**1 changed node(s) (1 breaking), 3000 downstream; 3001 of 3002 nodes to execute.**"
        in inline
    )
    start = next(i for i, t in enumerate(tokens) if t.type == "table_open")
    header, body, _ = table_rows(tokens, start)
    assert header == ["Category", "Nodes"]
    assert ["↳ indirect breaking", "3000"] in body

    # what it left out is said, with numbers that add up
    (note,) = [t for t in inline if t.startswith("Left out to stay under 65,000 characters:")]
    listed = len(re.findall(r"^\| `transform\.", md, re.M))
    assert f"{WIDTH * LAYERS + 1 - 1 - listed} nodes from the lists" in note
    (graph,) = fences(tokens, "mermaid")
    drawn = len(re.findall(r'^\s+n_\w+\["', graph.content, re.M))
    assert 0 < drawn < WIDTH * LAYERS
    assert f"{WIDTH * LAYERS + 2 - drawn} nodes from the graph" in note

    # the changed node keeps its section, its SQL diff and its (capped) downstream list
    assert "<details><summary><code>transform.root</code> · 🔴 breaking" in md
    (diff,) = fences(tokens, "diff")
    assert diff.content.splitlines()[-2:] == [
        "-SELECT * FROM ref('source.people')",
        "+SELECT * FROM ref('source.people') WHERE id > 1",
    ]
    assert "Downstream impact (3000):" in md and "… and 2975 more" in md
    # the graph cut keeps the changed node and its parent, connected to what follows
    assert '["transform.root"]:::breaking' in graph.content
    assert '["source.people"]:::unchanged' in graph.content
    assert "n_source_people --> n_transform_root" in graph.content
