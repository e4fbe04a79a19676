"""Golden files for every report format, on the example project with the fixed edits (SPEC §8).

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
    SUFFIX,
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
    # `seeknal plan dev -f markdown` re-plans (a new plan id) and renders the same report
    first = env_plan(project)["plan_id"]
    out = tmp_path / "plan.md"
    res = cli(project, "plan", "dev", "--format", "markdown", "--output", out)
    assert res.exit_code == 0, res.output
    assert env_plan(project)["plan_id"] != first
    check_golden("example_plan.md", mask(out.read_text(encoding="utf-8"), project))


def test_revision_plan_markdown_matches_golden(project: Path) -> None:
    # what CI posts: the branch's changes since main, read from git objects only
    res = cli(project, "plan", "--base", "main", "--head", "HEAD", "--format", "markdown")
    assert res.exit_code == 0, res.output
    check_golden("example_revisions.md", mask(res.stdout, project, env=None) + "\n")
