"""A detached HEAD never writes unmerged code into production."""

from __future__ import annotations

import subprocess
from pathlib import Path

from conftest import cli, git, small_project

ADULTS = "seeknal/transforms/adults.yml"


def edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    path.write_text(path.read_text().replace(old, new))


def production_bytes(root: Path) -> dict[str, bytes]:
    cache = root / "target" / "cache"
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in cache.rglob("*.parquet")}


def test_run_on_an_unknown_detached_head_is_refused(git_project: Path) -> None:
    small_project(git_project)
    git(git_project, "add", "-A")
    git(git_project, "commit", "-qm", "init")
    assert cli(git_project, "run").exit_code == 0
    git(git_project, "checkout", "-q", "-b", "feature/x")
    edit(git_project, ADULTS, "age >= 18", "age >= 40")
    git(git_project, "commit", "-qam", "adults 40+")
    git(git_project, "checkout", "-q", "--detach", "HEAD")
    before = production_bytes(git_project)

    current = cli(git_project, "env", "current")
    assert current.exit_code == 0 and "detached HEAD" in current.stdout
    res = cli(git_project, "run")
    assert res.exit_code == 1
    assert "HEAD is detached" in res.stderr and "git checkout main" in res.stderr
    assert production_bytes(git_project) == before
    # a dry run only reads, and an explicit env still works
    assert cli(git_project, "run", "--dry-run").exit_code == 0
    assert cli(git_project, "run", "--env", "scratch").exit_code == 1  # not planned yet
    assert cli(git_project, "plan", "scratch").exit_code == 0
    assert cli(git_project, "run", "--env", "scratch").exit_code == 0
    assert production_bytes(git_project) == before


def test_a_rebase_keeps_working_on_the_rebased_branch_env(git_project: Path) -> None:
    small_project(git_project)
    git(git_project, "add", "-A")
    git(git_project, "commit", "-qm", "init")
    assert cli(git_project, "run").exit_code == 0
    git(git_project, "checkout", "-q", "-b", "feature/r")
    edit(git_project, ADULTS, "age >= 18", "age >= 40")
    git(git_project, "commit", "-qam", "feature")
    git(git_project, "checkout", "-q", "main")
    edit(git_project, ADULTS, "age >= 18", "age >= 21")
    git(git_project, "commit", "-qam", "main")
    git(git_project, "checkout", "-q", "feature/r")
    rebase = subprocess.run(
        ["git", "rebase", "main"], cwd=git_project, capture_output=True, text=True
    )
    assert rebase.returncode != 0  # a conflict stops the rebase with HEAD detached
    assert (git_project / ".git" / "rebase-merge").is_dir() or (
        git_project / ".git" / "rebase-apply"
    ).is_dir()
    current = cli(git_project, "env", "current")
    assert current.exit_code == 0
    assert current.stdout.startswith("feature-r") and "branch being rebased" in current.stdout
    subprocess.run(["git", "rebase", "--abort"], cwd=git_project, check=True)
