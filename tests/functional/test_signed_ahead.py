"""What promote reads first (the env's run state, the project files' signature) read by a forked
copy while promote imports (seeknal/forked.py, cli/promote_ahead.py). Real CLI in subprocesses,
in a real git repository: the copy's answers are what the command would read, a run state
replaced since is read again, and a promote refuses a stale plan and promotes a fresh one alike
whether the copy answers or dies first."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import git, small_project

TWO_CORES = len(os.sched_getaffinity(0)) >= 2

FORKED = """
import json, os, sys, time
from pathlib import Path
import seeknal
from seeknal import forked
from seeknal.cli.promote_ahead import read_ahead
from seeknal.project.files import project_signature
from seeknal.state.layout import Target
from seeknal.state.store import read_env_outputs
seeknal.command_line = True
root = Path(sys.argv[1]).resolve()
target = Target(root, "dev")
read_ahead(root, "dev")
answers = forked._expected.get(f"signature:{root}", (None,))[0]
print(answers is not None and answers.pid not in (0, os.getpid()))
ok, seen = forked.taken(f"env-outputs:{root}:dev")
print(ok and seen[1:] == read_env_outputs(target))
ok, signature = forked.taken(f"signature:{root}")
print(ok and signature[0] == project_signature(str(root), time.time() - 2.0)[0])
print(forked.taken(f"signature:{root}"))  # taken once
# read ahead again, then the run state replaced (as every seeknal write does): not used
read_ahead(root, "dev")
forked._expected[f"env-outputs:{root}:dev"][0].take(1)  # the copy has answered both
data = json.loads(target.run_state_path.read_text())
data["nodes"]["transform.adults"]["row_count"] = 12345
tmp = target.run_state_path.with_suffix(".tmp")
tmp.write_text(json.dumps(data))
os.replace(tmp, target.run_state_path)
print(read_env_outputs(target)[0].nodes["transform.adults"].row_count)
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


def test_the_forked_copy_answers_what_promote_reads_first(tmp_path: Path) -> None:
    root = project(tmp_path)
    edit(root, "WHERE age >= 18", "WHERE age >= 30")
    assert seeknal(root, "plan", "dev").returncode == 0
    assert seeknal(root, "run", "--env", "dev").returncode == 0
    out = subprocess.run(
        [sys.executable, "-c", FORKED, str(root)], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    forked, outputs, signature, again, replaced = out.stdout.splitlines()
    assert forked == str(TWO_CORES)  # one core: no copy, the command reads for itself
    assert outputs == signature == "True"
    assert again == "(False, None)"  # taken once: a later check signs the files again
    assert replaced == "12345"  # a run state written since it was read ahead is read again


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
