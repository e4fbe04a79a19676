"""Ctrl-C ends a command promptly, whatever its threads are doing (seeknal/entry.py): once it
has said it was interrupted, the process leaves without the interpreter's shutdown, which would
wait for a thread still inside DuckDB, or abort the process (exit 134) when that thread comes
back. A real subprocess, a real SIGINT, and a thread held where the race would leave it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import small_project

from seeknal.engine.duckdb_core import core, is_interrupt


def chain(root: Path, length: int) -> Path:
    """A source and `length` transforms reading one another: a plan long enough for a Ctrl-C
    to land while it is made."""
    nodes = {"seeknal/transforms/t0.yml": transform("t0", "source.people")}
    for i in range(1, length):
        nodes[f"seeknal/transforms/t{i}.yml"] = transform(f"t{i}", f"transform.t{i - 1}")
    small_project(root, nodes)
    return root


def transform(name: str, upstream: str) -> str:
    return (
        f"kind: transform\nname: {name}\ninputs:\n  - ref: {upstream}\n"
        f"transform: SELECT id, age + 1 AS age FROM ref('{upstream}')\n"
    )


def ctrl_c_at(failpoint: str, mode: str, cwd: Path) -> tuple[int, str]:
    """`seeknal run --full` (under -X importtime) stopped at `failpoint` in `mode`, then
    Ctrl-C: its exit code and stderr."""
    env = {**os.environ, "SEEKNAL_FAILPOINT": failpoint, "SEEKNAL_FAILPOINT_MODE": mode}
    proc = subprocess.Popen(
        [sys.executable, "-X", "importtime", "-m", "seeknal", "run", "--full"],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    for line in proc.stderr:
        if line.startswith(f"failpoint {failpoint}: "):
            break
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    return proc.returncode, err


def test_ctrl_c_ends_a_run_whose_thread_still_opens_duckdb(git_project: Path) -> None:
    """The thread opening DuckDB for the run never comes back; Ctrl-C lands while the run
    loads and plans its 151 nodes (the shutdown waited for that thread, for good)."""
    code, err = ctrl_c_at("duckdb.open", "hang", chain(git_project, 150))
    assert code == 130, err
    assert "Interrupted (Ctrl-C)" in err
    assert "Traceback" not in err


def test_ctrl_c_during_duckdb_s_import_waits_for_it_to_finish(small: Path) -> None:
    """DuckDB's compiled module aborts the process (exit 134) when a Ctrl-C interrupts its
    set-up: the Ctrl-C is acted on once the import is done."""
    code, err = ctrl_c_at("duckdb.import", "pause", small)
    assert code == 130, err
    assert "Interrupted (Ctrl-C)" in err
    # the module was imported after the Ctrl-C, not cut short by it
    assert any(
        line.rpartition("|")[2].strip() in ("_duckdb", "duckdb") for line in err.splitlines()
    )


def test_ctrl_c_during_orjson_s_import_waits_for_it_to_finish(git_project: Path) -> None:
    """orjson's compiled module crashes the process (exit 139) when a Ctrl-C interrupts its
    set-up; it is imported to read the first state file of 64 KB or more (here the run state
    of 300 nodes): the Ctrl-C is acted on once the import is done."""
    root = chain(git_project, 300)
    done = subprocess.run(
        [sys.executable, "-m", "seeknal", "run"], cwd=root, capture_output=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert (root / "target/run_state.json").stat().st_size >= 64 * 1024
    code, err = ctrl_c_at("orjson.import", "pause", root)
    assert code == 130, err
    assert "Interrupted (Ctrl-C)" in err
    assert any(line.rpartition("|")[2].strip() == "orjson" for line in err.splitlines())


def test_duckdb_s_word_for_ctrl_c_is_known_as_one() -> None:
    """What a statement Ctrl-C stopped raises, read as the Ctrl-C it was (the CLI says
    "Interrupted", exit 130, rather than reporting an internal error)."""
    con = core().connect(":memory:")
    stop = threading.Timer(0.3, con.interrupt)
    stop.start()
    with pytest.raises(Exception) as raised:  # noqa: PT011 - whatever DuckDB raises for it
        con.execute("SELECT count(*) FROM range(1000000000000) t(x) WHERE x % 7 = 3").fetchall()
    stop.cancel()
    assert is_interrupt(raised.value), repr(raised.value)
    assert not is_interrupt(RuntimeError("Conversion Error: could not convert"))
    assert not is_interrupt(ValueError("interrupted"))


def test_the_engine_closes_while_a_query_runs_on_another_thread(tmp_path: Path) -> None:
    """A run stopped by Ctrl-C closes its engine; a worker's query cut short may still be
    winding down. DuckDB refuses to close a database in use, and that refusal replaced the
    Ctrl-C's message with an internal error (exit 1), or the thread left inside DuckDB made
    the interpreter abort at exit (134). The engine interrupts the query and closes."""
    from seeknal.engine import create_engine

    engine = create_engine("duckdb", tmp_path)
    outcome: list[str] = []

    def long_query() -> None:
        try:
            engine._con().execute(
                "SELECT count(*) FROM range(1000000000000) t(x) WHERE x % 7 = 3"
            ).fetchall()
            outcome.append("finished")
        except Exception as exc:  # noqa: BLE001 - what the interrupted query raises
            outcome.append("interrupted" if is_interrupt(exc) else repr(exc))

    worker = threading.Thread(target=long_query)
    worker.start()
    time.sleep(0.3)  # the query runs
    engine.close()
    worker.join(timeout=30)
    assert outcome == ["interrupted"]
