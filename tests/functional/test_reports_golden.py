"""Golden files for every report format, on the example project with the fixed edits (docs/report-schema.md).

Volatile values (plan id, timestamps, commits, temporary paths) are masked; fingerprints are
content hashes and stay. Refresh after an intended change with:

    SEEKNAL_UPDATE_GOLDEN=1 pytest tests/functional/test_reports_golden.py
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import cli
from reportkit import (
    FORMATS,
    GOLDEN,
    SUFFIX,
    UPDATE_GOLDEN,
    check_golden,
    edited_example,
    env_plan,
    isolated_git,
    mask,
)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("golden")
    with isolated_git(folder):
        root = edited_example(folder / "shop")
        res = cli(root, "plan", "dev")
        assert res.exit_code == 0, res.output
    return root


@pytest.mark.parametrize("fmt", FORMATS)
def test_env_plan_report_matches_golden(project: Path, fmt: str, tmp_path: Path) -> None:
    # rendered from the saved plan, as `seeknal report dev` does before the env is applied
    out = tmp_path / f"plan.{SUFFIX[fmt]}"
    res = cli(project, "report", "dev", "--format", fmt, "--output", out)
    assert res.exit_code == 0, res.output
    check_golden(f"example_plan.{SUFFIX[fmt]}", mask(out.read_text(encoding="utf-8"), project))


def test_fresh_plan_renders_like_the_saved_one(project: Path, tmp_path: Path) -> None:
    # `seeknal plan dev -f markdown` re-plans; nothing changed, so the saved plan (and its
    # applied state) is kept, and it renders the same report
    first = env_plan(project)["plan_id"]
    out = tmp_path / "plan.md"
    res = cli(project, "plan", "dev", "--format", "markdown", "--output", out)
    assert res.exit_code == 0, res.output
    assert env_plan(project)["plan_id"] == first
    check_golden("example_plan.md", mask(out.read_text(encoding="utf-8"), project))


def test_revision_plan_markdown_matches_golden(project: Path) -> None:
    # what CI posts: the branch's changes since main, read from git objects only
    res = cli(project, "plan", "--base", "main", "--head", "HEAD", "--format", "markdown")
    assert res.exit_code == 0, res.output
    check_golden("example_revisions.md", mask(res.stdout, project, env=None) + "\n")


DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_ci_doc_shows_the_golden_comment_and_a_complete_workflow() -> None:
    import yaml

    doc = (DOCS / "ci.md").read_text(encoding="utf-8")
    head, rest = doc.split("<!-- golden: example_revisions.md -->\n`````markdown\n")
    shown, tail = rest.split("`````\n<!-- /golden -->")
    golden = (GOLDEN / "example_revisions.md").read_text(encoding="utf-8")
    if UPDATE_GOLDEN and shown != golden:
        doc = f"{head}<!-- golden: example_revisions.md -->\n`````markdown\n{golden}"
        (DOCS / "ci.md").write_text(f"{doc}`````\n<!-- /golden -->{tail}", encoding="utf-8")
        shown = golden
    assert shown == golden, "docs/ci.md shows an old comment: rerun with SEEKNAL_UPDATE_GOLDEN=1"

    block = doc.split("<!-- workflow -->\n```yaml\n")[1].split("```\n<!-- /workflow -->")[0]
    workflow = yaml.safe_load(block)
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as a boolean
    assert "pull_request" in triggers and triggers["push"]["branches"] == ["main"]
    plan, sync = workflow["jobs"]["plan"], workflow["jobs"]["sync"]
    assert plan["steps"][0]["with"]["fetch-depth"] == 0
    runs = [s.get("run", "") for s in plan["steps"]]
    assert 'pip install "$SEEKNAL_PIP_SPEC"' in runs
    assert workflow["env"]["SEEKNAL_PIP_SPEC"].startswith("seeknal @ ")
    assert (
        "seeknal plan --base origin/${{ github.base_ref }} --head HEAD --format markdown "
        "--output plan.md" in [" ".join(r.split()) for r in runs]
    )
    (script,) = [s["with"]["script"] for s in plan["steps"] if "github-script" in s.get("uses", "")]
    for call in ("listComments", "updateComment", "createComment", "'<!-- seeknal-plan:'"):
        assert call in script
    assert plan["permissions"]["pull-requests"] == "write"
    assert "seeknal sync" in [s.get("run") for s in sync["steps"]]
