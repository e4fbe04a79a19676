"""`--template-dir`: templates are overridden by file name, the rest come from the package."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import cli, write_tree
from reportkit import edited_example, isolated_git

CUSTOM_MD = """\
<!-- seeknal-plan:{{ r.env or "revisions" }} -->
CUSTOM {{ r.summary.text | md }}
{% for n in r.nodes if n.direct %}
- {{ n.id | mermaid_id }} {{ n.category }}: {{ n.reason | html_code }}
{% endfor %}
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("templates")
    with isolated_git(folder):
        root = edited_example(folder / "shop")
        res = cli(root, "plan", "dev")
        assert res.exit_code == 0, res.output
    return root


@pytest.fixture
def custom(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "my-templates", {"plan.md.j2": CUSTOM_MD})


def test_a_custom_markdown_template_is_used(project: Path, custom: Path) -> None:
    res = cli(project, "report", "dev", "-f", "markdown", "--template-dir", custom)
    assert res.exit_code == 0, res.output
    report = json.loads(cli(project, "report", "dev", "-f", "json").stdout)
    direct = [n for n in report["nodes"] if n["direct"]]
    lines = res.stdout.splitlines()
    assert lines[:2] == ["<!-- seeknal-plan:dev -->", f"CUSTOM {report['summary']['text']}"]
    assert lines[2:] == [
        f"- n_{n['id'].replace('.', '_')} {n['category']}: "
        + n["reason"]
        .replace("`events`", "<code>events</code>")
        .replace("`revenue_per_customer`", "<code>revenue_per_customer</code>")
        for n in direct
    ]
    # and for a fresh plan, written to a file
    out = custom.parent / "plan.md"
    res = cli(project, "plan", "dev", "-f", "markdown", "-o", out, "--template-dir", custom)
    assert res.exit_code == 0, res.output
    assert out.read_text().startswith("<!-- seeknal-plan:dev -->\nCUSTOM 5 changed node(s)")


@pytest.mark.parametrize(
    ("fmt", "shipped"),
    [
        ("text", "Plan for environment 'dev' (against "),
        ("html", "<!DOCTYPE html>"),
        ("json", '"kind": "seeknal-plan-report"'),
    ],
)
def test_other_formats_still_come_from_the_package(
    project: Path, custom: Path, fmt: str, shipped: str
) -> None:
    with_dir = cli(project, "report", "dev", "-f", fmt, "--template-dir", custom)
    without = cli(project, "report", "dev", "-f", fmt)
    assert with_dir.exit_code == without.exit_code == 0, with_dir.output
    assert shipped in with_dir.stdout
    assert "CUSTOM" not in with_dir.stdout
    assert with_dir.stdout == without.stdout


def test_revision_plans_use_the_template_dir_too(project: Path, custom: Path) -> None:
    res = cli(project, "plan", "--base", "main", "-f", "markdown", "--template-dir", custom)
    assert res.exit_code == 0, res.output
    assert res.stdout.startswith("<!-- seeknal-plan:revisions -->\nCUSTOM 5 changed node(s)")


def test_a_missing_template_dir_is_refused_with_what_to_do(project: Path, tmp_path: Path) -> None:
    res = cli(project, "report", "dev", "-f", "markdown", "--template-dir", tmp_path / "nope")
    assert res.exit_code != 0
    assert f"--template-dir {tmp_path / 'nope'} is not a folder." in res.output
    assert "plan.md.j2" in res.output
