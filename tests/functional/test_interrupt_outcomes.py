"""What Ctrl-C leaves behind (docs/concepts.md#ctrl-c): `seeknal query` exits 130 with its message
and nothing else on stderr. Real subprocesses and a real SIGINT."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from envkit import applied_dev_env

INTERRUPTED = 130
ENDLESS_SQL = "SELECT sum(hash(i)) FROM range(5000000000000) t(i)"


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
