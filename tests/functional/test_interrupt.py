"""Ctrl-C during a run (docs/concepts.md): the run says it was interrupted, exits 130, records the
nodes that finished and nothing else, and the next run does what is left. A real subprocess and a
real SIGINT; the node being interrupted reads a named pipe, so it is stopped exactly while it
runs."""

from __future__ import annotations

import errno
import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import cli, git, ran, run_json, statuses
from envkit import ADULTS, edit, env_dir, env_project, read_json

INTERRUPTED = 130
PIPE = "data/pipe.csv"
BLOCKER = f"""\
kind: transform
name: blocker
inputs:
  - ref: transform.adults
transform: |
  SELECT a.id, p.n
  FROM ref('transform.adults') a, read_csv('{PIPE}', header = true, columns = {{'n': 'INTEGER'}}) p
"""
AFTER = """\
kind: transform
name: zz_after
inputs:
  - ref: transform.blocker
transform: SELECT count(*) AS n FROM ref('transform.blocker')
"""
SLOW = """\
kind: transform
name: slow
inputs:
  - ref: transform.adults
transform: |
  SELECT count(*) AS n FROM range(200000) a(x), range(200000) b(y) WHERE (a.x * b.y) % 7 = 3
"""


@pytest.fixture
def proj(git_project: Path) -> Path:
    env_project(git_project)
    git(git_project, "add", "-A")
    git(git_project, "commit", "-q", "-m", "env project")
    return git_project


def start(root: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "seeknal", *args],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def open_writer(pipe: Path, proc: subprocess.Popen[str], timeout: float = 60) -> int:
    """Open the pipe's writing end as soon as the node has opened it for reading."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return os.open(pipe, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as exc:
            if exc.errno != errno.ENXIO:  # ENXIO: nobody reads it yet
                raise
        if proc.poll() is not None:
            pytest.fail(f"the run ended before reading the pipe: {proc.communicate()}")
        time.sleep(0.02)
    proc.kill()
    pytest.fail("the node never opened the pipe")


def interrupt(proc: subprocess.Popen[str], writer: int) -> tuple[int, str, str]:
    """SIGINT while the node waits on the pipe; then the pipe is closed, so that whatever the
    engine made of the signal, the read it may still be blocked in returns."""
    proc.send_signal(signal.SIGINT)
    time.sleep(0.5)
    os.close(writer)
    out, err = proc.communicate(timeout=60)
    return proc.returncode, out, err


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_consistent(root: Path, state_path: Path, finished_before: set[str]) -> dict:
    """Every recorded output is exactly the file on disk; no temp file, no lock holder left."""
    state = read_json(state_path)
    for node_id, entry in state["nodes"].items():
        if entry["status"] in ("success", "cached") and entry.get("output_path"):
            assert sha(root / entry["output_path"]) == entry["output_digest"], node_id
    assert [p for p in root.rglob(".seeknal-tmp-*")] == []
    assert not (root / "target/.lock.holder").exists()
    assert not (root / "target/.txn").exists()
    assert finished_before <= {n for n, e in state["nodes"].items() if e["status"] == "success"}
    return state


def test_ctrl_c_during_a_full_run_names_the_full_run_again(proj: Path) -> None:
    """What `run --full` did not reach is up to date by its fingerprint: `seeknal run` would do
    nothing, so the advice is the full run again."""
    (proj / "seeknal/transforms/blocker.yml").write_text(BLOCKER)
    pipe = proj / PIPE
    os.mkfifo(pipe)
    proc = start(proj, "run", "--full")
    code, out, err = interrupt(proc, open_writer(pipe, proc))
    assert code == INTERRUPTED, (out, err)
    assert "Next: Run 'seeknal run --full' again to run what is left." in err, err
    assert "Traceback" not in err


def test_ctrl_c_during_a_production_run(proj: Path) -> None:
    (proj / "seeknal/transforms/blocker.yml").write_text(BLOCKER)
    (proj / "seeknal/transforms/zz_after.yml").write_text(AFTER)
    pipe = proj / PIPE
    os.mkfifo(pipe)
    proc = start(proj, "run")
    code, out, err = interrupt(proc, open_writer(pipe, proc))
    assert code == INTERRUPTED, (out, err)
    assert "Error: Interrupted (Ctrl-C):" in err, err
    assert "internal error" not in err and "Traceback" not in err, err
    assert "Next: Run 'seeknal run' again to run what is left." in err
    # what finished before the blocker is recorded, exactly as written; the rest is not
    finished = {line.split()[1] for line in out.splitlines() if line.strip().startswith("ok ")}
    assert "transform.adults" in finished and "transform.zz_after" not in finished
    state = assert_consistent(proj, proj / "target/run_state.json", finished)
    assert "transform.zz_after" not in state["nodes"]
    assert not (proj / "target/cache/transform/zz_after.parquet").exists()
    # the pipe becomes a file: the next run does what is left, and only that
    pipe.unlink()
    pipe.write_text("n\n1\n")
    res, summary = run_json(proj)
    assert res.exit_code == 0, res.output
    assert ran(summary) == {"transform.blocker", "transform.zz_after"} | (
        set(read_json(proj / "target/manifest.json")["nodes"]) - set(state["nodes"])
    )
    assert not ran(summary) & finished


def test_ctrl_c_during_an_env_run(proj: Path) -> None:
    assert cli(proj, "run").exit_code == 0
    edit(proj, ADULTS, "WHERE age >= 18", "WHERE age >= 30")
    (proj / "seeknal/transforms/blocker.yml").write_text(BLOCKER)
    (proj / "seeknal/transforms/zz_after.yml").write_text(AFTER)
    assert cli(proj, "plan", "dev").exit_code == 0
    pipe = proj / PIPE
    os.mkfifo(pipe)
    before = {p: sha(p) for p in (proj / "target/cache").rglob("*.parquet")}
    proc = start(proj, "run", "--env", "dev")
    code, out, err = interrupt(proc, open_writer(pipe, proc))
    assert code == INTERRUPTED, (out, err)
    assert "Error: Interrupted (Ctrl-C):" in err and "internal error" not in err, err
    assert "target/environments/dev/run_state.json" in err
    assert "Next: Run 'seeknal run --env dev' again to run what is left." in err
    assert {p: sha(p) for p in (proj / "target/cache").rglob("*.parquet")} == before
    finished = {line.split()[1] for line in out.splitlines() if line.strip().startswith("ok ")}
    assert "transform.adults" in finished
    state = assert_consistent(proj, env_dir(proj, "dev") / "run_state.json", finished)
    assert "plan_id" not in state  # not applied: it cannot be promoted half done
    res = cli(proj, "promote", "dev")
    assert res.exit_code == 1 and "has not been applied" in res.stderr
    pipe.unlink()
    pipe.write_text("n\n1\n")
    res, summary = run_json(proj, "--env", "dev")
    assert res.exit_code == 0, res.output
    assert finished <= set(summary["reused"])  # what finished is not computed again
    assert {"transform.blocker", "transform.zz_after"} <= ran(summary)
    assert cli(proj, "promote", "dev").exit_code == 0


def test_ctrl_c_during_a_parallel_run(proj: Path) -> None:
    """Workers are stopped too: a query that would run for minutes ends at once."""
    (proj / "seeknal/transforms/slow.yml").write_text(SLOW)
    proc = start(proj, "run", "--parallel", "--max-workers", "2")
    city_counts = proj / "target/cache/transform/city_counts.parquet"
    deadline = time.monotonic() + 60
    while not (proj / "target/cache/transform/names.parquet").exists() or not city_counts.exists():
        assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    time.sleep(0.5)  # the slow node is under way
    started = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert time.monotonic() - started < 20
    assert proc.returncode == INTERRUPTED, (out, err)
    assert "Error: Interrupted (Ctrl-C):" in err and "internal error" not in err, err
    state = assert_consistent(proj, proj / "target/run_state.json", {"transform.names"})
    assert "transform.slow" not in state["nodes"]
    (proj / "seeknal/transforms/slow.yml").write_text(SLOW.replace("200000", "10"))
    res, summary = run_json(proj)
    assert res.exit_code == 0, res.output
    assert ran(summary) == {"transform.slow"} | (set(statuses(summary)) - set(state["nodes"]))
    assert not ran(summary) & {"source.people", "transform.adults", "transform.names"}


ENDLESS = """\
kind: transform
name: endless
inputs:
  - ref: transform.adults
transform: |
  SELECT count(*) AS n, sum(hash(r.range::VARCHAR)) AS h
  FROM range(1000000000000) r, (SELECT 1 FROM ref('transform.adults') LIMIT 1) a
"""


def test_ctrl_c_stops_the_query_of_a_sequential_run_at_once(proj: Path) -> None:
    """Python runs its SIGINT handler only when the main thread is back from C code: the
    query is stopped from a thread woken by the signal, not after it ends (in hours)."""
    assert cli(proj, "run").exit_code == 0
    (proj / "seeknal/transforms/endless.yml").write_text(ENDLESS)
    for args in (("run",), ("run", "--env", "dev")):
        if args[-1] == "dev":
            assert cli(proj, "plan", "dev").exit_code == 0
        proc = start(proj, *args)
        time.sleep(3)  # planned, and the endless query under way
        assert proc.poll() is None, proc.communicate()
        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            pytest.fail(f"seeknal {' '.join(args)} went on running its query after Ctrl-C")
        assert time.monotonic() - started < 10
        assert proc.returncode == INTERRUPTED, (out, err)
        assert "Error: Interrupted (Ctrl-C):" in err and "internal error" not in err, err
        assert [p for p in proj.rglob(".seeknal-tmp-*")] == []


ENDLESS_SQL = "SELECT count(*) AS n, sum(hash(range::VARCHAR)) AS h FROM range(1000000000000)"


def test_ctrl_c_stops_a_query_and_only_the_statement_in_the_repl(proj: Path) -> None:
    """DuckDB stops a query on Ctrl-C with an error of its own (`Query interrupted`): query says
    Ctrl-C and exits 130; the repl drops the statement and goes on with the next one."""
    assert cli(proj, "run").exit_code == 0
    proc = start(proj, "query", ENDLESS_SQL)
    time.sleep(2)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == INTERRUPTED, (out, err)
    assert "Error: Interrupted (Ctrl-C)." in err and "internal error" not in err, err
    statements = proj / "statements.sql"
    statements.write_text(
        f"SELECT 'under way' AS marker;\n{ENDLESS_SQL};\nSELECT 40 + 2 AS answer;\n"
    )
    with statements.open() as stdin:
        repl = subprocess.Popen(
            [sys.executable, "-m", "seeknal", "repl"],
            cwd=proj,
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    assert repl.stdout is not None
    while "under way" not in (line := repl.stdout.readline()):  # the endless query is next
        assert line, repl.communicate()
    time.sleep(1)
    repl.send_signal(signal.SIGINT)
    out, err = repl.communicate(timeout=30)
    assert "Error: Interrupted (Ctrl-C): the statement was stopped." in err, err
    assert "internal error" not in err and "42" in out, (out, err)
    assert repl.returncode == 1  # a statement failed, as for any failed statement
