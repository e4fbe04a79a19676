"""Crash safety (docs/concepts.md): a promote killed at any step leaves production either exactly as
before or exactly promoted, and the next command finishes or rolls it back by itself; a kill
during `run --env` never touches production; a second mutating command fails naming the lock
holder. Real subprocesses, killed with SIGKILL (SEEKNAL_FAILPOINT, or by the test)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import cli, git, output, rows, seeknal_cmd
from envkit import (
    ADULTS,
    KILLED,
    NAMES,
    edit,
    env_dir,
    env_project,
    kill,
    manifest_core,
    outputs_digests,
    production_digests,
    promotions,
    read_json,
    run_state_core,
    start_paused,
    temp_leftovers,
)

TEENS = """\
kind: transform
name: teens
inputs:
  - ref: source.people
transform: SELECT id, name FROM ref('source.people') WHERE age < 18
"""


def prepare(root: Path) -> Path:
    """Production run, then a breaking change, an added and a removed node applied in dev."""
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    env_project(root)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "env project")
    assert cli(root, "run").exit_code == 0
    edit(root, ADULTS, "WHERE age >= 18", "WHERE age >= 30")
    (root / NAMES).unlink()
    (root / "seeknal/transforms/teens.yml").write_text(TEENS)
    assert cli(root, "plan", "dev").exit_code == 0
    res = cli(root, "run", "--env", "dev")
    assert res.exit_code == 0, res.output
    return root


def production(root: Path) -> dict[str, Any]:
    """Everything production is, byte for byte (files) and as JSON (state)."""
    return {
        "files": production_digests(root),
        "manifest": read_json(root / "target/manifest.json"),
        "run_state": read_json(root / "target/run_state.json"),
    }


def promoted(root: Path) -> dict[str, Any]:
    """What a promotion decides, without timestamps."""
    return {
        "outputs": outputs_digests(root),
        "manifest": manifest_core(read_json(root / "target/manifest.json")),
        "run_state": run_state_core(read_json(root / "target/run_state.json")),
        "history": [(p["env"], p["plan_id"], sorted(p["nodes"])) for p in promotions(root)],
    }


@pytest.fixture
def template(tmp_path: Path) -> Path:
    return prepare(tmp_path / "template")


@pytest.fixture
def reference(template: Path, tmp_path: Path) -> dict[str, Any]:
    """The result of the same promote, uninterrupted, in a copy of the template."""
    clean = tmp_path / "clean"
    shutil.copytree(template, clean)
    res = seeknal_cmd(clean, "promote", "dev")
    assert res.exit_code == 0, res.output
    assert temp_leftovers(clean) == []
    return promoted(clean)


def assert_recovered(root: Path, in_subprocess: bool = True) -> str:
    """The next command (read-only env list) finishes or rolls back, and says so."""
    res = seeknal_cmd(root, "env", "list") if in_subprocess else cli(root, "env", "list")
    assert res.exit_code == 0, res.output
    assert "recovered" in res.stderr, res.output
    assert temp_leftovers(root) == []
    return res.stderr


@pytest.mark.parametrize("mode", ["move", "copy"])
def test_promote_killed_at_every_step(
    template: Path, reference: dict[str, Any], tmp_path: Path, mode: str
) -> None:
    before = production(template)
    assert promoted(template) != reference
    assert "target/cache/transform/teens.parquet" in reference["outputs"]
    assert "target/cache/transform/names.parquet" in before["files"]
    assert "target/cache/transform/names.parquet" not in reference["outputs"]
    extra = ["--copy-data"] if mode == "copy" else []
    outcomes: dict[int, str] = {}
    for n in range(1, 60):
        work = tmp_path / f"{mode}-{n}"
        shutil.copytree(template, work)
        res = seeknal_cmd(work, "promote", "dev", *extra, env={"SEEKNAL_FAILPOINT": f"promote:{n}"})
        if res.exit_code == 0:
            # no step n: the promote ran to the end
            assert promoted(work) == reference
            assert temp_leftovers(work) == []
            break
        assert res.exit_code == KILLED, (n, res.output)
        # what follows the kill runs in-process (faster; the kill itself was real)
        message = assert_recovered(work, in_subprocess=n % 4 == 1)
        if production(work) == before:
            outcomes[n] = "before"
            assert "rolled back" in message or "removed the leftovers" in message
            assert promotions(work) == []
            # the env is intact: promoting again works and gives the same result
            again = cli(work, "promote", "dev", *extra)
            assert again.exit_code == 0, (n, again.output)
            assert promoted(work) == reference, n
        else:
            outcomes[n] = "promoted"
            assert promoted(work) == reference, n
            assert "completed the interrupted promote" in message
            res = cli(work, "run", "--json")
            assert res.exit_code == 0, res.output
            assert {x["status"] for x in res.json()["nodes"]} == {"cached"}
            again = cli(work, "promote", "dev", *extra)
            assert again.exit_code == 1 and "already been promoted" in again.stderr
        if mode == "copy":
            # --copy-data leaves the env as it was, whatever happened
            assert (env_dir(work, "dev") / "cache/transform/adults.parquet").is_file()
        shutil.rmtree(work)
    else:
        pytest.fail("the promote never ran to the end")
    # 8 operations (6 outputs, manifest, run state) and a deletion: many steps, both outcomes
    assert len(outcomes) >= 10, outcomes
    assert set(outcomes.values()) == {"before", "promoted"}, outcomes
    first_promoted = min(k for k, v in outcomes.items() if v == "promoted")
    assert all(v == "before" for k, v in outcomes.items() if k < first_promoted), outcomes
    assert all(v == "promoted" for k, v in outcomes.items() if k > first_promoted), outcomes


@pytest.mark.parametrize(
    ("step", "outcome"),
    [
        ("promote.journal", "before"),
        ("promote.apply.2", "before"),
        ("promote.committed", "promoted"),
        ("promote.finished", "promoted"),
    ],
)
def test_pause_then_kill(
    template: Path, reference: dict[str, Any], step: str, outcome: str
) -> None:
    before = production(template)
    proc = start_paused(template, step)
    try:
        assert (template / "target/.txn").is_dir()
    finally:
        kill(proc)
    assert_recovered(template)
    if outcome == "before":
        assert production(template) == before
        res = seeknal_cmd(template, "promote", "dev")
        assert res.exit_code == 0, res.output
    assert promoted(template) == reference


def test_second_mutating_command_fails_naming_the_lock_holder(
    template: Path, reference: dict[str, Any]
) -> None:
    before = production(template)
    proc = start_paused(template, "promote.apply.1")
    try:
        for args in (
            ["run"],
            ["plan", "other"],
            ["promote", "dev"],
            ["env", "delete", "dev", "--yes"],
        ):
            started = time.monotonic()
            res = seeknal_cmd(template, *args, env={"SEEKNAL_LOCK_TIMEOUT": "1"})
            assert res.exit_code == 1, (args, res.output)
            assert f"pid {proc.pid}" in res.stderr, res.stderr
            assert "seeknal promote dev" in res.stderr, res.stderr
            assert "waited 1s" in res.stderr
            assert time.monotonic() - started < 20
        assert proc.poll() is None  # still paused, still holding the lock
        assert env_dir(template, "dev").is_dir()
        assert not env_dir(template, "other").exists()
    finally:
        kill(proc)
    message = assert_recovered(template)
    assert "rolled back" in message
    assert production(template) == before
    res = seeknal_cmd(template, "promote", "dev")
    assert res.exit_code == 0, res.output
    assert promoted(template) == reference


SLOW_NODE = """\
kind: transform
name: slow
inputs:
  - ref: transform.adults
transform: |
  SELECT (SELECT count(*) FROM ref('transform.adults')) AS adults, count(*) AS n
  FROM range(200000) a(x), range(200000) b(y)
  WHERE (a.x * b.y) % 7 = 3
"""
# 4e10 pairs: minutes of CPU, constant memory; the test kills it after half a second


def test_kill_during_run_env_leaves_production_untouched(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    env_project(root)
    assert cli(root, "run").exit_code == 0
    before = production(root)
    edit(root, ADULTS, "WHERE age >= 18", "WHERE age >= 30")
    (root / "seeknal/transforms/slow.yml").write_text(SLOW_NODE)
    assert cli(root, "plan", "dev").exit_code == 0
    proc = subprocess.Popen(
        [sys.executable, "-m", "seeknal", "run", "--env", "dev"],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    holder = root / "target/.lock.holder"
    adults = env_dir(root, "dev") / "cache/transform/adults.parquet"
    deadline = time.monotonic() + 30
    # wait until the env run is under way (an output written), then kill it mid-run
    while not adults.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    assert adults.exists() and "run --env dev" in json.loads(holder.read_text())["command"]
    time.sleep(0.5)
    try:
        assert proc.poll() is None, "the slow node finished before the kill"
    finally:
        kill(proc)
    assert production(root) == before
    assert not (env_dir(root, "dev") / "run_state.json").exists() or (
        read_json(env_dir(root, "dev") / "run_state.json").get("plan_id") is None
    )
    res = seeknal_cmd(root, "promote", "dev")
    assert res.exit_code == 1 and "has not been applied" in res.stderr
    # the slow node is made fast again; its definition is only in the plan snapshot, so re-plan
    (root / "seeknal/transforms/slow.yml").write_text(SLOW_NODE.replace("200000", "10"))
    assert seeknal_cmd(root, "plan", "dev").exit_code == 0
    res = seeknal_cmd(root, "run", "--env", "dev")
    assert res.exit_code == 0, res.output
    assert production(root) == before
    assert [p for p in env_dir(root, "dev").rglob(".seeknal-tmp-*")] == []
    res = seeknal_cmd(root, "promote", "dev")
    assert res.exit_code == 0, res.output
    assert rows(output(root, "transform.slow")) == [(2, 10)]
    assert temp_leftovers(root) == []
