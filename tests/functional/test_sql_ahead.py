"""sqlglot imported ahead in a forked worker (seeknal/sql/ahead.py).

The first plan after an edit gets its SQL answers (normal forms, change categories, column
checks) from a copy of the process that imported sqlglot on another core. These tests run the
real CLI (`python -X importtime -m seeknal`) in real git repositories and check that the worker
is asked, that what the plan says is exactly what it says when the worker dies and the command
answers itself, and that no process is left behind, Ctrl-C included.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import git, small_project

from seeknal.sql.ahead import MAX_CALLS

TWO_CORES = len(os.sched_getaffinity(0)) >= 2


def seeknal(root: Path, *args: str, failpoint: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SEEKNAL_FAILPOINT": failpoint}
    return subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "seeknal", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def imported_sqlglot(stderr: str) -> bool:
    """Whether the command's own process imported sqlglot (the worker's stderr is /dev/null)."""
    return any(
        line.startswith("import time:") and line.rsplit("|", 1)[-1].strip() == "sqlglot"
        for line in stderr.splitlines()
    )


def plan_text(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def processes_in(folder: Path) -> list[int]:
    """Processes whose working folder is `folder` (a worker left behind would be one)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if Path(os.readlink(entry / "cwd")) == folder:
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def twins(tmp_path: Path, extra: dict[str, str]) -> tuple[Path, Path]:
    """Two identical committed projects: one planned with the worker, one with it killed."""
    first = tmp_path / "with_worker"
    first.mkdir()
    git(first, "init", "-q", "-b", "main")
    small_project(first, extra)
    git(first, "add", "-A")
    git(first, "commit", "-q", "-m", "project")
    second = tmp_path / "worker_killed"
    shutil.copytree(first, second)
    return first, second


def edit(root: Path) -> None:
    adults = root / "seeknal/transforms/adults.yml"
    adults.write_text(
        adults.read_text().replace(
            "SELECT id, name, age, city", "SELECT id, name, age, city, age * 12 AS months"
        )
    )
    names = root / "seeknal/transforms/names.yml"
    names.write_text(
        names.read_text().replace(
            "FROM ref('source.people')", "FROM ref('source.people') WHERE id > 1"
        )
    )


def test_the_first_plan_after_an_edit_gets_its_answers_from_the_worker(tmp_path: Path) -> None:
    with_worker, killed = twins(tmp_path, {})
    for root in (with_worker, killed):
        assert seeknal(root, "run").returncode == 0
        edit(root)
    asked = seeknal(with_worker, "plan", "dev")
    answered_here = seeknal(killed, "plan", "dev", failpoint="ahead.answer")

    text = plan_text(asked)
    assert text == plan_text(answered_here)
    lines = [line.split() for line in text.splitlines()]
    assert ["transform.names", "breaking", "SQL", "changed:", "filter", "on", "id"] in lines
    assert [
        "transform.adults",
        "non_breaking",
        "only",
        "new",
        "column",
        "`months`",
        "added",
    ] in lines
    assert "this node does not select; production data kept" in text  # a column check
    # with two cores the command never imports sqlglot; the killed worker's caller does
    assert imported_sqlglot(asked.stderr) is not TWO_CORES
    assert imported_sqlglot(answered_here.stderr)
    assert processes_in(with_worker) == [] and processes_in(killed) == []


def test_more_new_sql_than_the_worker_budget_is_answered_here_alike(tmp_path: Path) -> None:
    chain = {
        f"seeknal/transforms/t{i}.yml": (
            f"kind: transform\nname: t{i}\ninputs:\n  - ref: source.people\n"
            f"transform: SELECT id, age + {i} AS a{i} FROM ref('source.people')\n"
        )
        for i in range(MAX_CALLS + 10)
    }
    with_worker, killed = twins(tmp_path, chain)
    for root in (with_worker, killed):
        assert seeknal(root, "run").returncode == 0
        for i in range(MAX_CALLS + 10):  # every transform edited at once (a checkout, say)
            node = root / f"seeknal/transforms/t{i}.yml"
            node.write_text(node.read_text().replace(f"age + {i} AS", f"age * {i} AS"))
    asked = seeknal(with_worker, "plan", "dev")
    answered_here = seeknal(killed, "plan", "dev", failpoint="ahead.answer")

    text = plan_text(asked)
    assert text == plan_text(answered_here)
    assert f"transform.t{MAX_CALLS + 9}" in text
    # past the budget the command imports sqlglot itself, worker or not
    assert imported_sqlglot(asked.stderr) and imported_sqlglot(answered_here.stderr)
    assert processes_in(with_worker) == [] and processes_in(killed) == []


def test_ctrl_c_while_the_command_waits_for_the_worker_leaves_nothing_running(
    tmp_path: Path,
) -> None:
    root, _ = twins(tmp_path, {})
    assert seeknal(root, "run").returncode == 0
    edit(root)
    env = {**os.environ, "SEEKNAL_FAILPOINT": "ahead.answer", "SEEKNAL_FAILPOINT_MODE": "pause"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "seeknal", "plan", "dev"],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    time.sleep(3)  # the worker is paused at the first question; the command waits for it
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the whole foreground group
    out, err = proc.communicate(timeout=30)

    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert "Interrupted (Ctrl-C)" in err
    assert not (root / "target/environments/dev/plan.json").exists()
    deadline = time.monotonic() + 5
    while processes_in(root) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert processes_in(root) == []
