"""A `{{ key }}` only --params gives reaches the commands that take no --params through the
env's plan, which records them (docs/concepts.md): ls/show in the env, and the pre-push hook's
plan of the pushed branch. Real CLI, real git with the hooks installed, a bare remote."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import cli, git
from gitkit import (
    ADULTS_WITH_COLUMN,
    bare_remote,
    commit_files,
    ignore_target,
    install_hooks,
    run_git,
    seeknal_lines,
)

OLDER = "seeknal/transforms/older.yml"
OLDER_YML = """\
kind: transform
name: older
inputs:
  - ref: source.people
transform: SELECT id, age FROM ref('source.people') WHERE age > {{ cutoff }}
"""
PARAMS = '{"cutoff": 20}'
ENV = "feature-older"


@pytest.fixture
def project(small: Path) -> Path:
    root = ignore_target(small)
    commit_files(root, {OLDER: OLDER_YML}, "older: a cutoff given by --params")
    assert cli(root, "run", "--params", PARAMS).exit_code == 0
    return root


def test_ls_show_and_lineage_take_params_and_an_env_s_planned_ones(project: Path) -> None:
    res = cli(project, "ls")
    assert res.exit_code == 1 and "cutoff" in res.stderr and "--params" in res.stderr
    res = cli(project, "ls", "--params", PARAMS)
    assert res.exit_code == 0 and "transform.older" in res.stdout, res.output
    res = cli(project, "lineage", "transform.older", "--params", PARAMS)
    assert res.exit_code == 0 and "source.people" in res.stdout, res.output

    assert cli(project, "plan", "dev", "--params", '{"cutoff": 30}').exit_code == 0
    res = cli(project, "ls", "--env", "dev")
    assert res.exit_code == 0 and "transform.older" in res.stdout, res.output
    res = cli(project, "show", "transform.older", "--env", "dev")
    assert res.exit_code == 0 and "WHERE age > 30" in res.stdout, res.output
    res = cli(project, "show", "transform.older", "--env", "dev", "--params", PARAMS)
    assert res.exit_code == 0 and "WHERE age > 20" in res.stdout, res.output  # given wins


def test_a_push_plans_the_branch_env_with_the_params_it_was_planned_with(project: Path) -> None:
    install_hooks(project)
    bare_remote(project)
    run_git(project, "push", "-q", "origin", "main")
    run_git(project, "checkout", "-q", "-b", "feature/older")
    commit_files(project, {"seeknal/transforms/adults.yml": ADULTS_WITH_COLUMN}, "adults")

    blocked = run_git(project, "push", "-u", "origin", "feature/older", check=False)
    assert blocked.exit_code != 0
    lines = "\n".join(seeknal_lines(blocked.stderr))
    assert "cutoff" in blocked.stderr and "push blocked" in lines
    assert f"plan it once with them (seeknal plan {ENV} --params ...)" in lines

    assert cli(project, "plan", ENV, "--params", PARAMS).exit_code == 0
    done = run_git(project, "push", "-u", "origin", "feature/older")
    lines = "\n".join(seeknal_lines(done.stderr))
    assert f"{ENV}: 1 changed node(s)" in lines and "blocked" not in lines, done.stderr
    assert "transform.adults" in done.stderr
    assert git(project, "ls-remote", "origin", "feature/older").strip()
