"""Helpers shared by the plan-report tests (kept apart from conftest.py, which other tests own).

Importable as `from reportkit import ...` because tests/ is on sys.path (it holds conftest.py).
The report tests build the shipped example project, run production, then apply one fixed set of
edits covering every direct category: a breaking filter change, a non-breaking added column, a
description edit (metadata), an added node and a removed node.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from conftest import cli, git, write_tree

TESTS = Path(__file__).resolve().parent
GOLDEN = TESTS / "golden"
ARTIFACTS = TESTS / "artifacts"
UPDATE_GOLDEN = os.environ.get("SEEKNAL_UPDATE_GOLDEN") == "1"
FORMATS = ("text", "markdown", "html", "json")
SUFFIX = {"text": "txt", "markdown": "md", "html": "html", "json": "json"}

BRANCH = "feature/report-golden"

# relative path → (old text, new text); each must apply exactly once to the example
EXAMPLE_EDITS = {
    # a changed filter (one line replaced): breaking, everything downstream is rebuilt
    "seeknal/transforms/customer_activity.yml": (
        "      WHERE customer_id IS NOT NULL\n",
        "      WHERE customer_id IS NOT NULL AND event_type <> 'page_view'\n",
    ),
    # a new column in the final SELECT: non-breaking
    "seeknal/transforms/daily_revenue.yml": (
        "      round(revenue / orders, 2) AS avg_order_value,\n",
        "      round(revenue / orders, 2) AS avg_order_value,\n"
        "      round(revenue / customers, 2) AS revenue_per_customer,\n",
    ),
    # a description only: metadata, nothing runs
    "seeknal/sources/customers.yml": ("description:", "description: (reviewed)"),
}
ADDED_FILE = "seeknal/transforms/category_revenue.yml"
ADDED_NODE = """\
kind: transform
name: category_revenue
description: {description}
inputs:
  - ref: transform.order_lines
transform: |
  SELECT category, sum(net_amount) AS revenue
  FROM ref('transform.order_lines')
  GROUP BY category
"""
REMOVED_FILE = "seeknal/profiles/order_lines_profile.yml"

# node id → category the edits produce (the indirect ones follow from the example's DAG)
EXPECTED_CATEGORIES = {
    "transform.customer_activity": "breaking",
    "transform.daily_revenue": "non_breaking",
    "source.customers": "metadata",
    "transform.category_revenue": "added",
    "profile.order_lines_profile": "removed",
    "transform.customer_lifetime_value": "indirect_breaking",
    "exposure.customer_ltv_export": "indirect_breaking",
}


@contextmanager
def isolated_git(folder: Path) -> Iterator[None]:
    """The git isolation of conftest's autouse fixture, for module-scoped fixtures."""
    gitconfig = folder / "gitconfig"
    gitconfig.write_text(
        "[user]\n\tname = Seeknal Tests\n\temail = tests@seeknal.invalid\n"
        "[init]\n\tdefaultBranch = main\n"
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
        mp.setenv("GIT_CONFIG_NOSYSTEM", "1")
        mp.setenv("HOME", str(folder))
        for name in ("AUTHOR", "COMMITTER"):
            mp.setenv(f"GIT_{name}_NAME", "Seeknal Tests")
            mp.setenv(f"GIT_{name}_EMAIL", "tests@seeknal.invalid")
        mp.delenv("SEEKNAL_DEBUG", raising=False)
        yield


def example_in_production(root: Path, extra: Mapping[str, str] | None = None) -> Path:
    """The example project (plus `extra` files) committed on `main` in a new git repo, with
    production run."""
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    res = cli(root.parent, "init", "--example", str(root))
    assert res.exit_code == 0, res.output
    write_tree(root, extra or {})
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "example")
    res = cli(root, "run")
    assert res.exit_code == 0, res.output
    return root


def apply_example_edits(
    root: Path,
    added_description: str = "Net revenue per product category.",
    extra: Mapping[str, str] | None = None,
) -> str:
    """The fixed edits, committed on BRANCH; returns the new commit."""
    git(root, "checkout", "-q", "-b", BRANCH)
    for rel, (old, new) in EXAMPLE_EDITS.items():
        path = root / rel
        text = path.read_text()
        assert text.count(old) == 1, f"edit does not apply to {rel}"
        path.write_text(text.replace(old, new))
    (root / REMOVED_FILE).unlink()
    files = {ADDED_FILE: ADDED_NODE.format(description=json.dumps(added_description))}
    write_tree(root, {**files, **(extra or {})})
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "report edits")
    return git(root, "rev-parse", "HEAD").strip()


def edited_example(
    root: Path, production_extra: Mapping[str, str] | None = None, **kwargs: Any
) -> Path:
    example_in_production(root, production_extra)
    apply_example_edits(root, **kwargs)
    return root


def env_plan(root: Path, env: str = "dev") -> dict[str, Any]:
    return json.loads((root / "target" / "environments" / env / "plan.json").read_text())


def mask(text: str, root: Path, env: str | None = "dev") -> str:
    """Replace volatile values (plan id, timestamps, commits, temporary paths) by placeholders.

    Fingerprints are content hashes and stay: a changed one is a real change."""
    values: dict[str, str] = {}
    if env is not None:
        plan = env_plan(root, env)
        values[plan["plan_id"]] = "<PLAN_ID>"
        values[plan["created_at"]] = "<CREATED_AT>"
    for rev, name in (("HEAD", "<HEAD_SHA>"), ("main", "<BASE_SHA>")):
        sha = git(root, "rev-parse", rev).strip()
        for size in (40, 12, 10):
            values[sha[:size]] = name
    for path in {str(root), str(root.resolve())}:
        values[path] = "<ROOT>"
    for value in sorted(values, key=len, reverse=True):
        text = text.replace(value, values[value])
    return text


def check_golden(name: str, actual: str) -> None:
    """Compare with tests/golden/NAME; SEEKNAL_UPDATE_GOLDEN=1 rewrites it instead."""
    path = GOLDEN / name
    if UPDATE_GOLDEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    assert path.is_file(), (
        f"golden file {path} is missing; create it with: "
        "SEEKNAL_UPDATE_GOLDEN=1 pytest tests/functional/test_reports_golden.py"
    )
    expected = path.read_text(encoding="utf-8")
    if actual != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                actual.splitlines(keepends=True),
                fromfile=f"golden/{name}",
                tofile="actual",
            )
        )
        pytest.fail(
            f"{name} differs from its golden file (if the change is intended, rerun with "
            f"SEEKNAL_UPDATE_GOLDEN=1):\n{diff}",
            pytrace=False,
        )


# --------------------------------------------------------------------------------------------
# Reading rendered markdown back


def markdown_parser() -> Any:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable("table")


def table_rows(tokens: list[Any], start: int) -> tuple[list[str], list[list[str]], int]:
    """Header cells and body rows of the table opening at tokens[start]."""
    header: list[str] = []
    body: list[list[str]] = []
    row: list[str] | None = None
    in_head = False
    index = start
    while tokens[index].type != "table_close":
        tok = tokens[index]
        if tok.type == "thead_open":
            in_head = True
        elif tok.type == "thead_close":
            in_head = False
        elif tok.type == "tr_open":
            row = []
        elif tok.type == "inline" and row is not None:
            row.append(tok.content)
        elif tok.type == "tr_close" and row is not None:
            if in_head:
                header = row
            else:
                body.append(row)
            row = None
        index += 1
    return header, body, index


def plain(text: str) -> str:
    """Markdown/HTML-escaped prose back to plain text (`<code>x</code>` → `x`)."""
    import html

    text = re.sub(r"</?code>", "`", text)
    return html.unescape(text.replace("\\|", "|"))


def md_facts(markdown: str) -> dict[str, tuple[str, str]]:
    """node id → (category label, reason) as a reader of the markdown comment sees them."""
    facts: dict[str, tuple[str, str]] = {}
    tokens = markdown_parser().parse(markdown)
    for index, tok in enumerate(tokens):
        if tok.type == "html_block":
            match = re.match(
                r"<details><summary><code>([^<]+)</code> · ([^·]+) · (.*)</summary>", tok.content
            )
            if match:
                facts[match.group(1)] = (match.group(2).strip(), plain(match.group(3)))
        if tok.type == "table_open":
            header, body, _ = table_rows(tokens, index)
            if header[:2] == ["Node", "Category"]:
                for cells in body:
                    # the reason, without the run result an applied env appends
                    why = re.sub(r" — \w+(, \d+ rows)? in [\d.]+s$", "", plain(cells[3]))
                    facts[cells[0].strip("`")] = (cells[1], why)
    return facts


CATEGORY_LABELS = {
    "breaking": "🔴 breaking",
    "non_breaking": "🟡 non-breaking",
    "metadata": "🔵 metadata",
    "added": "🟢 added",
    "removed": "🟣 removed",
    "indirect_breaking": "↳ indirect breaking",
    "indirect_non_breaking": "↳ indirect non-breaking",
}
