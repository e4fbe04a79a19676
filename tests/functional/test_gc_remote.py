"""env gc keeps an env whose branch still lives on a remote."""

from __future__ import annotations

from pathlib import Path

from conftest import cli, git, small_project


def test_gc_keeps_envs_of_branches_that_exist_on_the_remote(
    git_project: Path, tmp_path: Path
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
    git(git_project, "pack-refs", "--all")  # remote-tracking refs packed too

    res = cli(git_project, "env", "gc", "--dry-run")
    assert res.exit_code == 0
    assert "feature-gone" in res.stdout and "feature-kept" not in res.stdout
