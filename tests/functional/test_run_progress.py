"""What `seeknal run` shows while a node runs long (docs/cli.md#seeknal-run): a heartbeat line
per long-running node, piped or not, and on a terminal a progress bar with the elapsed time and
the running nodes. The slow node reads a named pipe, so it runs exactly until the test feeds it."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import PROJECT_YML, write_tree

HEARTBEAT = "  ... transform.slow still running ("


@pytest.fixture
def slow(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    pipe = root / "data" / "pipe.csv"
    write_tree(
        root,
        {
            "seeknal_project.yml": PROJECT_YML.format(name="slow"),
            "seeknal/transforms/slow.yml": (
                "kind: transform\nname: slow\ntransform: |\n"
                f"  SELECT * FROM read_csv('{pipe}', header = true, columns = {{'a': 'INT'}},"
                " auto_detect = false)\n"
            ),
        },
    )
    pipe.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(pipe)
    return root


def feed_until_done(pipe: Path, proc: subprocess.Popen[bytes]) -> None:
    """Write the pipe's content once, when the run opens it, then wait for the run to end.

    One write only: a second writer opening the pipe while the run still reads it would append
    a second header to the rows the run reads."""

    def write_once() -> None:
        try:
            fd = os.open(pipe, os.O_WRONLY)  # blocks until the reader opens the pipe
            try:
                os.write(fd, b"a\n1\n2\n")
            finally:
                os.close(fd)
        except BrokenPipeError:  # the reader had already gone (we released the writer)
            pass

    writer = threading.Thread(target=write_once, daemon=True)
    writer.start()
    while writer.is_alive() and proc.poll() is None:
        writer.join(0.2)
    if writer.is_alive():  # the run ended without opening the pipe: release the writer
        try:
            fd = os.open(pipe, os.O_RDONLY | os.O_NONBLOCK)
            os.close(fd)
        except OSError:
            pass
        writer.join(1)
    proc.wait(timeout=60)


def start(root: Path, **io: object) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SEEKNAL_HEARTBEAT_SECONDS": "1", "TERM": "xterm", "COLUMNS": "120"}
    env.pop("NO_COLOR", None)
    return subprocess.Popen(
        [sys.executable, "-m", "seeknal", "run"],
        cwd=root,
        env=env,
        **io,  # type: ignore[call-overload]
    )


def read_until(fd: int, needle: bytes, seen: bytearray, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while needle not in seen:
        assert time.monotonic() < deadline, f"{needle!r} never appeared in {bytes(seen)!r}"
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # pty closed
                break
            if not chunk:
                break
            seen.extend(chunk)


def test_piped_run_prints_a_heartbeat_then_the_usual_lines(slow: Path) -> None:
    proc = start(slow, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    seen = bytearray()
    read_until(proc.stdout.fileno(), HEARTBEAT.encode(), seen)
    assert proc.poll() is None  # still blocked on the pipe: the heartbeat came while it ran
    feed_until_done(slow / "data" / "pipe.csv", proc)
    rest, err = proc.communicate(timeout=60)
    lines = (bytes(seen) + rest).decode().splitlines()
    assert proc.returncode == 0, err.decode()
    assert lines[0] == "Running 1 node(s), 0 cached"
    assert lines[1] == HEARTBEAT + "1s)"
    done = [x for x in lines if x.startswith("  ok")]
    assert len(done) == 1 and done[0].split()[:4] == ["ok", "transform.slow", "2", "rows"]
    assert lines[-1].startswith("Done in ")
    # nothing but the usual lines and heartbeats: no bar, no terminal codes
    assert all(x.startswith(("Running", HEARTBEAT, "  ok", "Done in")) for x in lines), lines
    assert b"\x1b" not in bytes(seen) + rest


def test_terminal_run_shows_a_progress_bar(slow: Path) -> None:
    master, slave = pty.openpty()
    proc = start(slow, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave)
    os.close(slave)
    seen = bytearray()
    try:
        read_until(master, b"running: transform.slow", seen)
        read_until(master, HEARTBEAT.encode(), seen)
        assert proc.poll() is None
        assert b"0/1" in seen  # nodes done of nodes to run
        assert b"0:00:0" in seen  # elapsed time
        feed_until_done(slow / "data" / "pipe.csv", proc)
        read_until(master, b"Done in ", seen)
        assert proc.wait(timeout=60) == 0
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    text = bytes(seen).decode(errors="replace")
    assert "Running 1 node(s), 0 cached" in text
    assert "transform.slow" in text.split("Done in ")[0].split("ok")[-1]
