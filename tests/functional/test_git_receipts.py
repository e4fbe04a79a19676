"""Receipts in git (docs/git.md#receipts): when a git event changes production (post-merge, sync),
a note on refs/notes/seeknal says how production was built from the merged commit."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from conftest import cli, output, small_project
from gitkit import (
    ADULTS_WITH_COLUMN,
    bare_remote,
    commit_files,
    ignore_target,
    install_hooks,
    promotions,
    rev,
    run_git,
)

ADULTS = "seeknal/transforms/adults.yml"


@pytest.fixture
def small(small: Path) -> Path:
    """The small project, committed, with target/ ignored."""
    return ignore_target(small)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def notes(root: Path) -> str:
    return run_git(root, "log", "--notes=seeknal", "-1", "--format=%H%n%N").stdout


def test_merge_writes_a_receipt_and_rollback_undoes_the_merge(small: Path) -> None:
    assert cli(small, "run").exit_code == 0
    before = sha(output(small, "transform.adults"))
    install_hooks(small)
    run_git(small, "checkout", "-q", "-b", "feature/m")
    commit_files(small, {ADULTS: ADULTS_WITH_COLUMN}, "adults: age in months")
    assert cli(small, "run").exit_code == 0  # the branch env, planned and applied
    run_git(small, "checkout", "-q", "main")
    commit_files(small, {"notes.txt": "unrelated\n"}, "notes")
    done = run_git(small, "merge", "--no-ff", "-m", "merge feature/m", "feature/m")
    assert "seeknal: promoted env feature-m" in done.stderr, done.stderr
    assert "receipt in git notes" in done.stderr, done.stderr
    head = rev(small, "HEAD")
    promotion = promotions(small)[-1]
    assert promotion["git_commit"] == head

    text = notes(small)
    assert text.startswith(head)
    assert "seeknal: production promoted env feature-m" in text
    assert f"id: {promotion['id']}" in text
    assert f"plan: {promotion['plan_id']}" in text
    assert f"  transform.adults {sha(output(small, 'transform.adults'))}" in text
    # git's own log shows it, under the commit production was built from
    shown = run_git(small, "log", "--notes=seeknal", "-1").stdout
    assert "Notes (seeknal):" in shown and "promoted env feature-m" in shown

    [entry] = [e for e in cli(small, "log", "--json").json() if e["kind"] == "promote"]
    assert entry["git_commit"] == head
    assert f"commit {head[:12]}" in cli(small, "log").stdout

    res = cli(small, "rollback")
    assert res.exit_code == 0, res.output
    assert sha(output(small, "transform.adults")) == before


def test_receipts_travel_with_the_documented_refspec(small: Path, tmp_path: Path) -> None:
    assert cli(small, "run").exit_code == 0
    install_hooks(small)
    bare_remote(small)
    run_git(small, "checkout", "-q", "-b", "feature/p")
    commit_files(small, {ADULTS: ADULTS_WITH_COLUMN}, "adults")
    assert cli(small, "run").exit_code == 0
    run_git(small, "checkout", "-q", "main")
    run_git(small, "merge", "--no-ff", "-m", "merge feature/p", "feature/p")
    run_git(small, "push", "-q", "origin", "main")
    run_git(small, "push", "-q", "origin", "refs/notes/seeknal:refs/notes/seeknal")
    clone = tmp_path / "clone"
    run_git(tmp_path, "clone", "-q", str(tmp_path / "remote.git"), str(clone))
    assert "Notes (seeknal)" not in run_git(clone, "log", "--notes=seeknal", "-1").stdout
    run_git(
        clone, "config", "--add", "remote.origin.fetch", "+refs/notes/seeknal:refs/notes/seeknal"
    )
    run_git(clone, "fetch", "-q", "origin")
    shown = run_git(clone, "log", "--notes=seeknal", "-1").stdout
    assert "Notes (seeknal):" in shown and "promoted env feature-p" in shown


def test_on_merge_run_writes_a_receipt(small: Path) -> None:
    settings = (small / "seeknal_project.yml").read_text() + "git:\n  on_merge: run\n"
    commit_files(small, {"seeknal_project.yml": settings}, "cfg")
    assert cli(small, "run").exit_code == 0
    install_hooks(small)
    run_git(small, "checkout", "-q", "-b", "feature/r")
    commit_files(small, {ADULTS: ADULTS_WITH_COLUMN}, "adults")
    run_git(small, "checkout", "-q", "main")
    done = run_git(small, "merge", "--no-ff", "-m", "merge feature/r", "feature/r")
    assert "seeknal: ran" in done.stderr, done.stderr
    text = notes(small)
    assert text.startswith(rev(small, "HEAD"))
    assert "seeknal: ran in production" in text
    assert f"transform.adults {sha(output(small, 'transform.adults'))}" in text


def test_no_receipt_outside_a_git_repository(tmp_path: Path) -> None:
    root = small_project(tmp_path / "plain")
    assert cli(root, "run").exit_code == 0
    path = root / ADULTS
    path.write_text(ADULTS_WITH_COLUMN)
    assert cli(root, "plan", "dev").exit_code == 0
    assert cli(root, "run", "--env", "dev").exit_code == 0
    res = cli(root, "sync")
    assert res.exit_code == 0, res.output
    assert "promoted env dev" in res.output
    assert "receipt" not in res.output
    assert not (root / ".git").exists()
    assert promotions(root)[-1]["git_commit"] is None
