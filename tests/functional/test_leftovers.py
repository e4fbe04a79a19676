"""What killed commands leave behind (docs/concepts.md): the next command deletes seeknal's temp
files wherever seeknal wrote them (target/, and the project folders exposures write to), never
while a live command holds the lock; `env gc` never deletes an `env promote` in progress, and a
failed `env promote` leaves no half-made copy. Real subprocesses, killed with SIGKILL."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import cli, git, seeknal_cmd
from envkit import ADULTS, KILLED, edit, env_dir, env_project, kill, read_json, start_paused

from seeknal.state.store import DigestLog

TEMP = ".seeknal-tmp-"


@pytest.fixture
def proj(git_project: Path) -> Path:
    """The env project, committed (production not run yet)."""
    env_project(git_project)
    git(git_project, "add", "-A")
    git(git_project, "commit", "-q", "-m", "env project")
    return git_project


def applied(root: Path) -> Path:
    assert cli(root, "run").exit_code == 0
    edit(root, ADULTS, "WHERE age >= 18", "WHERE age >= 30")
    assert cli(root, "plan", "dev").exit_code == 0
    assert cli(root, "run", "--env", "dev").exit_code == 0
    return root


def temps(root: Path) -> list[str]:
    """Every seeknal temp file anywhere in the project."""
    return sorted(p.relative_to(root).as_posix() for p in root.rglob(TEMP + "*"))


# -- temp files ----------------------------------------------------------------------------------
def test_killed_production_run_leaves_no_partial_export(proj: Path) -> None:
    res = seeknal_cmd(proj, "run", env={"SEEKNAL_FAILPOINT": "write.exposure"})
    assert res.exit_code == KILLED, res.output
    left = temps(proj)
    assert len(left) == 1 and left[0].startswith(f"exports/{TEMP}"), left
    assert (proj / "exports" / left[0].split("/")[1]).stat().st_size > 0  # the whole export
    # the next command, even a read-only one, deletes it
    res = seeknal_cmd(proj, "env", "list")
    assert res.exit_code == 0, res.output
    assert "recovered: removed 1 temporary file(s) left by an interrupted command" in res.stderr
    assert temps(proj) == []
    res = seeknal_cmd(proj, "run")
    assert res.exit_code == 0, res.output
    assert (proj / "exports/adults.csv").is_file() and temps(proj) == []


def test_killed_tool_cache_write_leaves_no_temp_file(proj: Path) -> None:
    applied(proj)
    edit(proj, ADULTS, "WHERE age >= 30", "WHERE age >= 31")
    # killed while writing the tool cache whole (its files gone: a run would append to them),
    # after the run itself completed
    for name in ("cache.pickle", "cache.digests"):
        (proj / "target/.seeknal-cache" / name).unlink()
    res = seeknal_cmd(proj, "run", env={"SEEKNAL_FAILPOINT": "atomic.cache.digests"})
    assert res.exit_code == KILLED, res.output
    left = temps(proj)
    assert len(left) == 1 and left[0].startswith(f"target/.seeknal-cache/{TEMP}"), left
    res = seeknal_cmd(proj, "env", "list")
    assert res.exit_code == 0, res.output
    assert "removed 1 temporary file(s)" in res.stderr
    assert temps(proj) == []
    assert not (proj / "target/.lock.holder").exists()


def test_killed_promote_leaves_a_torn_digests_record_that_only_costs_time(proj: Path) -> None:
    """A promotion appends its digests to the tool cache's digests file; killed halfway through
    that (after the promotion itself completed), the torn record is ignored and the file is
    written whole by the next command that adds to it."""
    applied(proj)
    digests = proj / "target/.seeknal-cache/cache.digests"
    size = digests.stat().st_size
    res = seeknal_cmd(proj, "promote", "dev", env={"SEEKNAL_FAILPOINT": "cache.digests.append"})
    assert res.exit_code == KILLED, res.output
    assert digests.stat().st_size > size and temps(proj) == []
    entries, intact = DigestLog.load(digests)
    assert entries and intact == 0  # what came before the torn record still counts
    assert read_json(proj / "target/run_state.json")["promoted_from"] == "dev"
    res = seeknal_cmd(proj, "run", "--json")
    assert res.exit_code == 0, res.output
    assert all(n["status"] == "cached" for n in json.loads(res.stdout)["nodes"]), res.stdout
    edit(proj, ADULTS, "WHERE age >= 30", "WHERE age >= 32")
    assert cli(proj, "plan", "dev").exit_code == 0
    assert cli(proj, "run", "--env", "dev").exit_code == 0
    assert cli(proj, "promote", "dev").exit_code == 0
    assert DigestLog.load(digests)[1] >= 1  # written whole again, then appended to
    assert not (proj / "target/.lock.holder").exists()


def test_temp_files_of_a_live_command_are_left_alone(proj: Path) -> None:
    proc = start_paused(proj, "write.exposure", "run")
    try:
        left = temps(proj)
        assert len(left) == 1 and left[0].startswith(f"exports/{TEMP}"), left
        for args in (["env", "list"], ["plan"], ["report", "dev"]):
            res = seeknal_cmd(proj, *args)
            assert "recovered" not in res.stderr, res.output
            assert temps(proj) == left
        res = seeknal_cmd(proj, "run", env={"SEEKNAL_LOCK_TIMEOUT": "0.5"})
        assert res.exit_code == 1 and f"pid {proc.pid}" in res.stderr, res.output
        assert temps(proj) == left
        assert proc.poll() is None
    finally:
        kill(proc)
    res = seeknal_cmd(proj, "env", "list")
    assert "removed 1 temporary file(s)" in res.stderr, res.output
    assert temps(proj) == []


def test_temp_files_outside_the_project_are_never_touched(proj: Path, tmp_path: Path) -> None:
    """The folder list lives in target/; a folder in it that is not inside the project (a
    hand-edited list, a symlink swapped in) is skipped."""
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / f"{TEMP}keep").write_text("not seeknal's\n")
    (proj / "linked").symlink_to(outside)
    res = seeknal_cmd(proj, "run", env={"SEEKNAL_FAILPOINT": "write.exposure"})
    assert res.exit_code == KILLED
    folders = proj / "target/.temp-folders.json"
    assert read_json(folders) == {"folders": ["exports"]}
    folders.write_text(json.dumps({"folders": ["exports", "linked", str(outside), "../elsewhere"]}))
    res = seeknal_cmd(proj, "env", "list")
    assert "removed 1 temporary file(s)" in res.stderr, res.output
    assert (outside / f"{TEMP}keep").is_file()


# -- env gc and env promote -------------------------------------------------------------------------
def copies(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "target/environments").glob(".copy-*"))


def test_env_gc_does_not_delete_an_env_promote_in_progress(proj: Path) -> None:
    applied(proj)
    proc = start_paused(proj, "env_copy.copied", "env", "promote", "dev", "qa")
    try:
        assert len(copies(proj)) == 1
        res = seeknal_cmd(proj, "env", "gc", env={"SEEKNAL_LOCK_TIMEOUT": "0.5"})
        assert res.exit_code == 1, res.output
        assert f"pid {proc.pid}: seeknal env promote dev qa" in res.stderr
        assert len(copies(proj)) == 1
        assert proc.poll() is None
    finally:
        kill(proc)
    res = seeknal_cmd(proj, "env", "gc")
    assert res.exit_code == 0, res.output
    assert copies(proj) == [] and not env_dir(proj, "qa").exists()
    # nothing lost: the copy can be made again
    assert seeknal_cmd(proj, "env", "promote", "dev", "qa").exit_code == 0
    assert read_json(env_dir(proj, "qa") / "env_config.json")["promoted_from"] == "dev"


def test_failed_env_promote_leaves_no_copy_behind(proj: Path) -> None:
    applied(proj)
    state = env_dir(proj, "dev") / "run_state.json"
    original = state.read_text()
    data = json.loads(original)
    data["nodes"]["transform.adults"]["row_count"] = "three"
    state.write_text(json.dumps(data))
    res = cli(proj, "env", "promote", "dev", "qa")
    assert res.exit_code == 1, res.output
    assert f"{state} has an unexpected shape" in res.stderr
    assert copies(proj) == [] and not env_dir(proj, "qa").exists()
    # a copy the file system refuses (a fifo cannot be copied) is cleaned up the same way
    state.write_text(original)
    os.mkfifo(env_dir(proj, "dev") / "cache" / "fifo")
    res = cli(proj, "env", "promote", "dev", "qa")
    assert res.exit_code == 1, res.output
    assert "Copying env 'dev' to 'qa' failed" in res.stderr and "Nothing was changed" in res.stderr
    assert copies(proj) == [] and not env_dir(proj, "qa").exists()


def test_run_killed_while_replacing_an_output_keeps_the_old_one(proj: Path) -> None:
    """A new output takes the old one's place with one rename, the old file's second name
    deleted later: killed in between, every output is whole where it was, and the next command
    deletes the new file and the second name."""
    assert cli(proj, "run").exit_code == 0
    before = outputs(proj)
    res = seeknal_cmd(proj, "run", "--full", env={"SEEKNAL_FAILPOINT": "swap.replace"})
    assert res.exit_code == KILLED, res.output
    left = temps(proj)
    assert len(left) == 2 and any(".old-" in name for name in left), left
    assert outputs(proj) == before
    res = seeknal_cmd(proj, "env", "list")
    assert res.exit_code == 0, res.output
    assert temps(proj) == []
    res = seeknal_cmd(proj, "run", "--full")
    assert res.exit_code == 0, res.output
    assert outputs(proj).keys() == before.keys() and temps(proj) == []


def outputs(root: Path) -> dict[str, bytes]:
    cache = root / "target" / "cache"
    return {
        p.relative_to(cache).as_posix(): p.read_bytes()
        for p in cache.rglob("*.parquet")
        if not p.name.startswith(TEMP)
    }
