"""env gc keeps an env whose branch still lives on a remote, and says so."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import cli, git, small_project


@pytest.mark.parametrize("packed", [True, False])
def test_gc_keeps_envs_of_branches_that_exist_on_the_remote(
    git_project: Path, tmp_path: Path, packed: bool
) -> None:
    small_project(git_project)
    git(git_project, "add", "-A")
    git(git_project, "commit", "-qm", "init")
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(git_project, "remote", "add", "origin", str(remote))
    for branch in ("feature/kept", "feature/gone"):
        git(git_project, "checkout", "-q", "-b", branch)
        assert cli(git_project, "plan").exit_code == 0  # the branch's env, bound to it
        git(git_project, "checkout", "-q", "main")
    git(git_project, "push", "-q", "origin", "feature/kept")
    git(git_project, "branch", "-q", "-D", "feature/kept", "feature/gone")
    if packed:
        git(git_project, "pack-refs", "--all")  # remote-tracking refs packed too

    res = cli(git_project, "env", "gc", "--dry-run")
    assert res.exit_code == 0
    assert "Would delete feature-gone: branch 'feature/gone' no longer exists" in res.stdout
    assert "Would delete feature-kept" not in res.stdout
    assert (
        "Kept feature-kept: its branch 'feature/kept' is deleted here but still exists as the "
        "remote-tracking branch origin/feature/kept (a branch that exists on a remote counts)."
    ) in res.stdout
    assert "'git fetch --prune'" in res.stdout and "seeknal env delete feature-kept" in res.stdout

    assert "Deleted feature-gone" in cli(git_project, "env", "gc").stdout
    res = cli(git_project, "env", "gc")
    assert res.exit_code == 0
    assert "Nothing to collect." in res.stdout and "Kept feature-kept:" in res.stdout
    git(git_project, "push", "-q", "origin", "--delete", "feature/kept")
    res = cli(git_project, "env", "gc")
    assert "Deleted feature-kept: branch 'feature/kept' no longer exists" in res.stdout
    assert "Kept" not in res.stdout
