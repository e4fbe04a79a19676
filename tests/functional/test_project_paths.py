"""Finding the project, data paths relative to its root, `seeknal init`, and the target/ lock."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from conftest import (
    SMALL_ROWS,
    cli,
    git,
    output,
    rows,
    run_state,
    seeknal_cmd,
    snapshot,
    state_files,
    write_tree,
)


def test_run_from_a_subfolder_resolves_table_paths_against_the_root(small: Path) -> None:
    sub = small / "seeknal" / "transforms"
    res = cli(sub, "run")
    assert res.exit_code == 0, res.output
    assert rows(output(small, "source.people"), "SELECT count(*) FROM t") == [(5,)]
    assert not (sub / "target").exists()
    assert not (small / "seeknal" / "target").exists()
    # a subprocess started in the subfolder agrees that nothing changed
    again = seeknal_cmd(small / "seeknal", "run")
    assert again.exit_code == 0, again.output
    assert "Nothing to do" in again.stdout


def test_absolute_table_path_outside_the_project(small: Path, tmp_path: Path) -> None:
    outside = tmp_path / "shared" / "people.csv"
    outside.parent.mkdir()
    outside.write_text((small / "data" / "people.csv").read_text())
    people = small / "seeknal" / "sources" / "people.yml"
    people.write_text(people.read_text().replace("data/people.csv", str(outside)))
    assert cli(small / "seeknal", "run").exit_code == 0
    assert rows(output(small, "transform.adults"), "SELECT count(*) FROM t") == [(3,)]


def test_init_scaffolds_a_project(tmp_path: Path) -> None:
    res = cli(tmp_path, "init", "my_proj")
    assert res.exit_code == 0, res.output
    root = tmp_path / "my_proj"
    text = (root / "seeknal_project.yml").read_text()
    assert "name: my_proj" in text and "state_backend: file" in text
    for folder in ("sources", "transforms", "rules", "exposures", "profiles", "common"):
        assert (root / "seeknal" / folder).is_dir()
    assert "target/" in (root / ".gitignore").read_text().split()
    assert "Next:" in res.stdout
    # the new project is found, and says it has nothing to run yet
    empty = cli(root, "run")
    assert empty.exit_code == 1
    assert "no nodes" in empty.stderr
    assert state_files(root) == []


def test_init_in_an_existing_git_repo_keeps_its_gitignore(git_project: Path) -> None:
    (git_project / ".gitignore").write_text("*.log")
    res = cli(git_project, "init", ".", "--name", "mine")
    assert res.exit_code == 0, res.output
    assert (git_project / ".gitignore").read_text().split() == ["*.log", "target/", "exports/"]
    assert "name: mine" in (git_project / "seeknal_project.yml").read_text()
    assert "seeknal_project.yml" in git(git_project, "status", "--porcelain")


def test_init_refuses_to_overwrite_a_project(small: Path) -> None:
    before = snapshot(small)
    res = cli(small.parent, "init", str(small))
    assert res.exit_code == 1
    assert "already exists" in res.stderr
    assert snapshot(small) == before
    res = cli(small.parent, "init", "--example", str(small))
    assert res.exit_code == 1
    assert snapshot(small) == before


def test_init_example_refuses_a_folder_with_clashing_files(tmp_path: Path) -> None:
    root = tmp_path / "busy"
    (root / "data").mkdir(parents=True)
    (root / "data" / "orders.csv").write_text("mine\n")
    res = cli(tmp_path, "init", "--example", str(root))
    assert res.exit_code == 1
    assert "orders.csv" in res.stderr and "already exists" in res.stderr
    assert (root / "data" / "orders.csv").read_text() == "mine\n"


HOLDER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from seeknal.state.lock import target_lock

    with target_lock(Path(sys.argv[1]), "seeknal run --full"):
        print("locked", flush=True)
        sys.stdin.read()  # hold the lock until the test closes our stdin
    """
)


def test_second_mutating_command_waits_then_names_the_holder(
    small: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli(small, "run").exit_code == 0
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(small / "target")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        before = snapshot(small / "target" / "cache")
        state = (small / "target" / "run_state.json").read_bytes()
        monkeypatch.setenv("SEEKNAL_LOCK_TIMEOUT", "1")
        res = cli(small, "run", "--full")
        assert res.exit_code == 1
        assert f"pid {holder.pid}" in res.stderr
        assert "seeknal run --full" in res.stderr
        assert "waited 1s" in res.stderr
        assert snapshot(small / "target" / "cache") == before
        assert (small / "target" / "run_state.json").read_bytes() == state

        # another process gets the same answer
        other = seeknal_cmd(small, "run", env={"SEEKNAL_LOCK_TIMEOUT": "1"})
        assert other.exit_code == 1 and f"pid {holder.pid}" in other.stderr
        # and said it was waiting before it gave up
        assert f"waiting up to 1s for pid {holder.pid}" in other.stderr

        # read-only commands do not wait for the lock
        plan = cli(small, "plan")
        assert plan.exit_code == 0 and "0 node(s) to run" in plan.stdout
        dry = cli(small, "run", "--dry-run", "--full")
        assert dry.exit_code == 0
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
    assert holder.returncode == 0, holder.stderr.read() if holder.stderr else ""

    # once the holder is gone, the run goes ahead
    res = cli(small, "run", "--full")
    assert res.exit_code == 0, res.output
    assert {e["status"] for e in run_state(small)["nodes"].values()} == {"success"}
    assert set(run_state(small)["nodes"]) == set(SMALL_ROWS)


SLOW_NODE = """\
kind: transform
name: slow
inputs:
  - ref: source.people
transform: |
  SELECT count(*) AS n FROM range(200000) a(x), range(200000) b(y) WHERE (a.x * b.y) % 7 = 3
"""  # minutes of CPU: the test kills it


def test_the_lock_message_shows_the_holders_whole_command_line(small: Path) -> None:
    write_tree(small, {"seeknal/transforms/slow.yml": SLOW_NODE})
    args = ["run", "--full", "--max-workers", "1"]
    holder = subprocess.Popen(
        [sys.executable, "-m", "seeknal", *args],
        cwd=small,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    info = small / "target" / ".lock.holder"
    try:
        deadline = time.monotonic() + 60
        while not info.exists() and time.monotonic() < deadline and holder.poll() is None:
            time.sleep(0.02)
        assert info.exists(), "the run never took the lock"
        res = seeknal_cmd(small, "run", env={"SEEKNAL_LOCK_TIMEOUT": "1"})
        assert res.exit_code == 1
        assert f"pid {holder.pid}: seeknal run --full --max-workers 1" in res.stderr, res.stderr
    finally:
        holder.kill()
        holder.communicate(timeout=30)


def test_corrupt_run_state_is_reported_with_how_to_recover(small: Path) -> None:
    assert cli(small, "run").exit_code == 0
    path = small / "target" / "run_state.json"
    path.write_text(path.read_text()[:40])
    for args in (["run"], ["plan"]):
        res = cli(small, *args)
        assert res.exit_code == 1
        assert str(path) in res.stderr
        assert "seeknal run --full" in res.stderr
    path.unlink()
    res = cli(small, "run")
    assert res.exit_code == 0, res.output


def test_debug_shows_the_traceback_that_is_otherwise_hidden(tmp_path: Path) -> None:
    plain = seeknal_cmd(tmp_path, "run")  # the helper asserts there is no traceback
    assert plain.exit_code == 1 and "No seeknal project found" in plain.stderr
    proc = subprocess.run(
        [sys.executable, "-m", "seeknal", "--debug", "run"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if k != "SEEKNAL_DEBUG"},
    )
    assert proc.returncode == 1
    assert "Traceback" in proc.stderr and "No seeknal project found" in proc.stderr


def test_a_holder_that_died_does_not_block_the_next_run(small: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(small / "target")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    finally:
        holder.kill()  # dies without cleaning up: the pid file stays, the OS lock goes
        holder.communicate(timeout=30)
    assert (small / "target" / ".lock.holder").exists()
    res = seeknal_cmd(small, "run", env={"SEEKNAL_LOCK_TIMEOUT": "1"})
    assert res.exit_code == 0, res.output
    assert "4 succeeded" in res.stdout
    assert not (small / "target" / ".lock.holder").exists()
