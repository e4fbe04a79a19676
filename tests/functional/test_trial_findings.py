"""What a new user ran into on a first trial (init, branches, hooks, a remote, wrong input):
each case drives the CLI or real git the way the user did and checks the message, the exit code
and that nothing was half-written."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import cli
from gitkit import (
    ADULTS_WITH_COLUMN,
    bare_remote,
    commit_files,
    ignore_target,
    install_hooks,
    run_git,
    seeknal_lines,
)

ADULTS = "seeknal/transforms/adults.yml"


@pytest.fixture
def small(small: Path) -> Path:
    return ignore_target(small)


def test_push_of_an_applied_branch_says_merging_promotes_it(small: Path) -> None:
    assert cli(small, "run").exit_code == 0
    install_hooks(small)
    bare_remote(small)
    run_git(small, "checkout", "-q", "-b", "feature/applied")
    commit_files(small, {ADULTS: ADULTS_WITH_COLUMN}, "adults")
    assert cli(small, "run").exit_code == 0
    lines = seeknal_lines(run_git(small, "push", "-q", "origin", "feature/applied").stderr)
    assert lines[-1] == (
        "seeknal: env feature-applied is applied with this very content; merging promotes it"
    ), lines
