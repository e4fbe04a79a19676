"""The staleness check's file signature taken by a forked copy while promote imports and reads
state (seeknal/forked.py, project/files.py `sign_ahead`). Real CLI in subprocesses, in a real
git repository: the copy's answer is the signature itself, and a promote refuses a stale plan
and promotes a fresh one alike whether the copy answers or dies first."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import git, small_project

TWO_CORES = len(os.sched_getaffinity(0)) >= 2

FORKED = """
import os, sys, time
import seeknal
from seeknal.project import files
seeknal.command_line = True
root = sys.argv[1]
racy_after = time.time() - 2.0
files.sign_ahead(files.Path(root), racy_after)
answer = files._signing.get(str(files.Path(root).resolve()))
print(answer is not None and answer.pid not in (0, os.getpid()))
print(files.signed_ahead(files.Path(root).resolve()) == files.project_signature(root, racy_after))
print(files.signed_ahead(files.Path(root).resolve()))
"""


def seeknal(root: Path, *args: str, failpoint: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "seeknal", *args],
        cwd=root,
        env={**os.environ, "SEEKNAL_FAILPOINT": failpoint},
        capture_output=True,
        text=True,
        timeout=120,
    )


def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    small_project(root)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "project")
    assert seeknal(root, "run").returncode == 0
    return root


def edit(root: Path, old: str, new: str) -> None:
    path = root / "seeknal/transforms/adults.yml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_the_forked_copy_answers_the_project_signature(tmp_path: Path) -> None:
    root = project(tmp_path)
    out = subprocess.run(
        [sys.executable, "-c", FORKED, str(root)], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    forked, same, again = out.stdout.splitlines()
    assert forked == str(TWO_CORES)  # one core: no copy, the command signs itself
    assert same == "True"
    assert again == "None"  # taken once: a later check signs the files again


def test_promote_refuses_a_stale_plan_whether_the_copy_answers_or_dies(tmp_path: Path) -> None:
    root = project(tmp_path)
    edit(root, "WHERE age >= 18", "WHERE age >= 30")
    assert seeknal(root, "plan", "dev").returncode == 0
    assert seeknal(root, "run", "--env", "dev").returncode == 0
    edit(root, "WHERE age >= 30", "WHERE age >= 31")  # after the run: the plan is stale
    for failpoint in ("", "forked.answer"):
        res = seeknal(root, "promote", "dev", failpoint=failpoint)
        assert res.returncode == 1 and "Plan is stale" in res.stderr, res.stderr
    assert seeknal(root, "plan", "dev").returncode == 0
    assert seeknal(root, "run", "--env", "dev").returncode == 0
    res = seeknal(root, "promote", "dev", failpoint="forked.answer")
    assert res.returncode == 0 and "Promoted env 'dev'" in res.stdout, res.stderr
    assert "WHERE age >= 31" in (root / "target/manifest.json").read_text()  # production
