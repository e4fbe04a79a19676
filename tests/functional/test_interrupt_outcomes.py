"""What Ctrl-C leaves behind (docs/concepts.md#ctrl-c): `seeknal query` exits 130 with its message
and nothing else on stderr; a promote or rollback stopped by Ctrl-C is undone before its commit
point and finished after it, by the command itself: no `target/.txn/` stays, and the message says
which happened. Real subprocesses and a real SIGINT; promote and rollback are paused at a named
step (SEEKNAL_FAILPOINT) so the signal arrives exactly there."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import test_promote_crash as crash
from conftest import cli, git, seeknal_cmd
from envkit import applied_dev_env, outputs_digests, promotions, start_paused, temp_leftovers
from test_promote_crash import production, promoted

# the crash tests' project and its uninterrupted promotion, as fixtures here too
template, reference = crash.template, crash.reference

INTERRUPTED = 130
ENDLESS_SQL = "SELECT sum(hash(i)) FROM range(5000000000000) t(i)"
NOTHING = "Error: Interrupted (Ctrl-C): nothing was promoted; production is exactly as before."
FINISHED = (
    "Error: Interrupted (Ctrl-C) after the promotion was committed: it was finished, "
    "env 'dev' is promoted."
)


def ctrl_c(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail("the command went on after Ctrl-C")
    return proc.returncode, out, err


def test_ctrl_c_during_query_says_so_and_nothing_else(git_project: Path) -> None:
    """The blocks that stop DuckDB on SIGINT nest (the query, and the read inside it); the
    KeyboardInterrupt can hit the inner one's exit, which once left it to be cleaned up at
    interpreter exit, after the outer one had closed its descriptors (a traceback on stderr)."""
    applied_dev_env(git_project)
    for attempt in range(6):
        proc = subprocess.Popen(
            [sys.executable, "-m", "seeknal", "query", ENDLESS_SQL],
            cwd=git_project,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(2)  # the query is under way
        assert proc.poll() is None, proc.communicate()
        code, out, err = ctrl_c(proc)
        assert code == INTERRUPTED, (attempt, out, err)
        assert err == "Error: Interrupted (Ctrl-C).\nNext: Run the command again.\n", (attempt, err)


def env_status(root: Path, env: str) -> str:
    res = seeknal_cmd(root, "env", "list", "--json")
    assert res.exit_code == 0 and "recovered" not in res.stderr, res.output
    (row,) = [r for r in res.json() if r["name"] == env]
    return str(row["status"])


def assert_nothing_left(root: Path) -> None:
    assert not (root / "target/.txn").exists()
    assert not (root / "target/.lock.holder").exists()
    assert temp_leftovers(root) == []


@pytest.mark.parametrize(
    "step", ["promote.staged", "promote.journal", "promote.backup.0", "promote.apply.3"]
)
def test_ctrl_c_before_the_commit_point_undoes_the_promotion(
    template: Path, reference: dict[str, Any], step: str
) -> None:
    before = production(template)
    code, out, err = ctrl_c(start_paused(template, step))
    assert code == INTERRUPTED, (out, err)
    assert NOTHING in err and "Next: Run 'seeknal promote dev' again." in err, err
    assert "Traceback" not in err and "internal error" not in err, err
    assert_nothing_left(template)
    assert production(template) == before
    assert env_status(template, "dev") == "applied"
    res = seeknal_cmd(template, "promote", "dev")
    assert res.exit_code == 0 and "recovered" not in res.stderr, res.output
    assert promoted(template) == reference


@pytest.mark.parametrize("step", ["promote.committed", "promote.finished", "reporting.promote"])
def test_ctrl_c_after_the_commit_point_finishes_the_promotion(
    template: Path, reference: dict[str, Any], step: str
) -> None:
    code, out, err = ctrl_c(start_paused(template, step))
    assert code == INTERRUPTED, (out, err)
    assert FINISHED in err and "Next: Nothing is left to do" in err, err
    assert "Traceback" not in err and "Run the command again" not in err, err
    assert_nothing_left(template)
    assert promoted(template) == reference
    assert env_status(template, "dev") == "promoted"
    res = seeknal_cmd(template, "promote", "dev")
    assert res.exit_code == 1 and "already been promoted" in res.stderr, res.output
    assert "recovered" not in res.stderr


def test_ctrl_c_during_rollback_undoes_or_finishes_it(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    applied_dev_env(root)
    before = outputs_digests(root)
    assert cli(root, "promote", "dev").exit_code == 0
    after = production(root)
    code, out, err = ctrl_c(start_paused(root, "rollback.apply.1", "rollback"))
    assert code == INTERRUPTED, (out, err)
    assert (
        "Error: Interrupted (Ctrl-C): nothing was rolled back; production is exactly as "
        "before.\nNext: Run 'seeknal rollback' again." in err
    ), err
    assert_nothing_left(root)
    assert production(root) == after and len(promotions(root)) == 1
    code, out, err = ctrl_c(start_paused(root, "rollback.committed", "rollback"))
    assert code == INTERRUPTED, (out, err)
    assert (
        "Error: Interrupted (Ctrl-C) after the rollback was committed: it was finished, "
        "production is rolled back." in err
    ), err
    assert_nothing_left(root)
    assert outputs_digests(root) == before
    assert env_status(root, "dev") == "applied"  # its outputs are back: it can be promoted again
    res = seeknal_cmd(root, "rollback")
    assert res.exit_code == 1 and "no promotion to roll back" in res.stderr, res.output
