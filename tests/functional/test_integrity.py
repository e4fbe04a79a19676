"""Integrity of what gets promoted and of damaged state (docs/concepts.md): promote verifies every
output it moves, every plan records production digests (pre-push plans too), and damaged state
files, locks, caches and outputs give clear messages instead of internal errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import cli, ran, rows, run_json
from envkit import (
    ADULTS,
    edit,
    env_dir,
    env_json,
    env_project,
    production_digests,
    read_json,
    sha,
)
from gitkit import bare_remote, commit_files, env_folder, ignore_target, install_hooks, run_git


@pytest.fixture
def proj(git_project: Path) -> Path:
    """The env project, committed, production run once, `adults` changed and applied in dev."""
    env_project(git_project)
    ignore_target(git_project)  # commits the project with its .gitignore
    assert cli(git_project, "run").exit_code == 0
    edit(git_project, ADULTS, "WHERE age >= 18", "WHERE age >= 30")
    assert cli(git_project, "plan", "dev").exit_code == 0
    res = cli(git_project, "run", "--env", "dev")
    assert res.exit_code == 0, res.output
    return git_project


def env_file(root: Path, rel: str) -> Path:
    return env_dir(root, "dev") / rel


# -- promote verifies what it moves ---------------------------------------------------------------
def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def append_row(path: Path) -> None:
    with path.open("a") as handle:
        handle.write("99,Mallory,99,Nowhere\n")


@pytest.mark.parametrize(
    ("rel", "node", "damage"),
    [
        ("cache/transform/adults.parquet", "transform.adults", truncate),
        ("exports/adults.csv", "exposure.adults_export", append_row),
    ],
)
def test_promote_refuses_an_env_output_changed_since_it_was_written(
    proj: Path, rel: str, node: str, damage: object
) -> None:
    before = production_digests(proj)
    env_state = env_file(proj, "run_state.json").read_bytes()
    damage(env_file(proj, rel))  # type: ignore[operator]
    damaged = sha(env_file(proj, rel))
    for args in (["promote", "dev"], ["promote", "dev", "--copy-data"]):
        res = cli(proj, *args)
        assert res.exit_code == 1, res.output
        assert f"Output target/environments/dev/{rel} of {node} in env 'dev'" in res.stderr
        assert "Nothing was promoted" in res.stderr
        assert "seeknal run --env dev" in res.stderr
        assert "recovered" not in res.stderr
    # production untouched, the env as it was, nothing left of the attempt
    assert production_digests(proj) == before
    assert sha(env_file(proj, rel)) == damaged
    assert env_file(proj, "run_state.json").read_bytes() == env_state
    assert not (proj / "target/.txn").exists()
    # the tool cache did not take the damaged file for the one the run wrote: it is recomputed
    res, summary = run_json(proj, "--env", "dev")
    assert res.exit_code == 0, res.output
    assert node in ran(summary)
    assert cli(proj, "promote", "dev").exit_code == 0
    res, summary = run_json(proj)
    assert res.exit_code == 0 and ran(summary) == set()
    adults = rows(proj / "target/cache/transform/adults.parquet", "SELECT name FROM t ORDER BY 1")
    assert adults == [("Ann",), ("Cid",)]
    exported = (proj / "exports/adults.csv").read_text()
    assert "Mallory" not in exported and "Cid" in exported


# -- every plan records production digests --------------------------------------------------------
def test_env_planned_by_pre_push_checks_production_digests(proj: Path) -> None:
    """A plan saved by the pre-push hook records production's digests like `seeknal plan`, so
    `run --env` and `promote` notice a production output changed after the push."""
    install_hooks(proj)
    bare_remote(proj)
    run_git(proj, "checkout", "-q", "-b", "feature/x")
    commit_files(proj, {}, "adults >= 30")  # the edit of the fixture
    run_git(proj, "push", "-q", "origin", "feature/x")
    refs = read_json(env_folder(proj, "feature-x") / "refs.json")["refs"]
    assert {r["node_id"] for r in refs} >= {"source.people", "transform.names"}
    for ref in refs:
        assert ref["output_digest"] == sha(proj / ref["output_path"]), ref
    res = cli(proj, "run", "--env", "feature-x")
    assert res.exit_code == 0, res.output
    # production's people output, which the env's adults read, changes after the push (by
    # hand, or a tool outside seeknal)
    people = proj / "target/cache/source/people.parquet"
    people.write_bytes(people.read_bytes() + b"\0")
    for args in (["run", "--env", "feature-x"], ["promote", "feature-x"]):
        res = cli(proj, *args)
        assert res.exit_code == 1, (args, res.output)
        assert "Production output target/cache/source/people.parquet" in res.stderr
        assert "changed since env 'feature-x' was planned" in res.stderr


def test_deleted_refs_file_is_refused_until_planned_again(proj: Path) -> None:
    env_file(proj, "refs.json").unlink()
    for args in (["run", "--env", "dev"], ["promote", "dev"], ["report", "dev"]):
        res = cli(proj, *args)
        assert res.exit_code == 1, (args, res.output)
        assert "target/environments/dev/refs.json is missing" in res.stderr
        assert "seeknal plan dev" in res.stderr
    assert cli(proj, "plan", "dev").exit_code == 0
    assert [r["node_id"] for r in env_json(proj, "dev", "refs.json")["refs"]]
    res, summary = run_json(proj, "--env", "dev")
    assert res.exit_code == 0, res.output
    assert summary["reused"] and not ran(summary)  # the outputs were kept, only re-checked
    assert cli(proj, "promote", "dev").exit_code == 0


# -- damaged state ---------------------------------------------------------------------------------
def test_report_names_a_damaged_output(proj: Path) -> None:
    truncate(env_file(proj, "cache/transform/adults.parquet"))
    res = cli(proj, "report", "dev")
    assert res.exit_code == 1, res.output
    assert "transform.adults in env 'dev' changed since 'seeknal run --env dev'" in res.stderr
    assert "Next: Run 'seeknal run --env dev' to write it again." in res.stderr
    assert cli(proj, "run", "--env", "dev").exit_code == 0
    assert cli(proj, "report", "dev").exit_code == 0


def test_promote_without_the_env_manifest_is_refused(proj: Path) -> None:
    before = production_digests(proj)
    env_file(proj, "manifest.json").unlink()
    for args in (
        ["promote", "dev"],
        ["run", "--env", "dev"],
        ["query", "SELECT * FROM ref('transform.adults')", "--env", "dev"],
    ):
        res = cli(proj, *args)
        assert res.exit_code == 1, res.output
        assert "Environment 'dev' has no manifest" in res.stderr
        assert "target/environments/dev/manifest.json is missing" in res.stderr
        assert "Run 'seeknal plan dev'" in res.stderr
    assert production_digests(proj) == before
    assert not (proj / "target/.txn").exists()
    assert cli(proj, "plan", "dev").exit_code == 0
    assert cli(proj, "run", "--env", "dev").exit_code == 0
    assert cli(proj, "promote", "dev").exit_code == 0


ENV_STATE = "target/environments/dev/run_state.json"
ENV_MANIFEST = "target/environments/dev/manifest.json"


@pytest.mark.parametrize(
    ("rel", "field", "value", "commands"),
    [
        (ENV_STATE, "row_count", "3", ["promote dev", "report dev"]),
        (ENV_STATE, "output_digest", 7, ["promote dev", "report dev"]),
        (ENV_STATE, "ref", "yes", ["promote dev", "report dev"]),
        ("target/run_state.json", "warnings", "none", ["run", "promote dev", "report dev"]),
        ("target/run_state.json", "status", ["success"], ["run", "promote dev", "report dev"]),
        (ENV_MANIFEST, "inputs", 5, ["promote dev", "report dev", "run --env dev"]),
        (ENV_MANIFEST, "sql", 5, ["promote dev", "report dev", "run --env dev"]),
        (ENV_MANIFEST, "config", ["x"], ["promote dev", "report dev", "run --env dev"]),
    ],
)
def test_wrongly_typed_state_values_are_named(
    proj: Path, rel: str, field: str, value: object, commands: list[str]
) -> None:
    path = proj / rel
    data = json.loads(path.read_text())
    data["nodes"]["transform.adults"][field] = value
    path.write_text(json.dumps(data))
    for command in commands:
        res = cli(proj, *command.split())
        assert res.exit_code == 1, (command, res.output)
        assert f"{path} has an unexpected shape" in res.stderr, res.output
        assert f"'{field}'" in res.stderr
    assert cli(proj, "env", "list").exit_code == 0  # a damaged env shows as corrupt


def test_promote_failing_on_an_os_error_rolls_back_at_once(proj: Path) -> None:
    shutil.rmtree(proj / "exports")
    (proj / "exports").write_text("a file where the exports folder belongs\n")
    before = production_digests(proj)
    res = cli(proj, "promote", "dev")
    assert res.exit_code == 1, res.output
    assert "Promotion failed at exports/adults.csv" in res.stderr
    assert "rolled back: production is exactly as before" in res.stderr
    assert not (proj / "target/.txn").exists()  # no journal left "prepared"
    assert production_digests(proj) == before
    res = cli(proj, "env", "list")
    assert "recovered" not in res.stderr and "applied" in res.stdout
    (proj / "exports").unlink()
    assert cli(proj, "promote", "dev").exit_code == 0
    assert (proj / "exports/adults.csv").is_file()


def test_lock_replaced_by_a_folder_is_named(proj: Path) -> None:
    lock = proj / "target/.lock"
    lock.unlink(missing_ok=True)
    lock.mkdir()
    (proj / "target/.lock.holder").write_text('{"pid": 1, "command": "seeknal run"}')
    res = cli(proj, "env", "list")
    assert res.exit_code == 0, res.output
    assert "dev" in res.stdout
    for args in (["run"], ["promote", "dev"], ["plan", "dev"]):
        res = cli(proj, *args)
        assert res.exit_code == 1, res.output
        assert f"Cannot take the lock {lock}: it is a folder" in res.stderr
        assert f"Remove {lock}" in res.stderr
    lock.rmdir()
    assert cli(proj, "promote", "dev").exit_code == 0


def flip(data: bytes, needle: bytes) -> bytes:
    """`data` with the last byte of every occurrence of `needle` changed."""
    assert needle in data
    out = bytearray(data)
    start = data.find(needle)
    while start != -1:
        out[start + len(needle) - 1] ^= 0x01
        start = data.find(needle, start + 1)
    return bytes(out)


@pytest.mark.parametrize("damage", ["flipped", "garbage", "truncated"])
def test_damaged_tool_cache_only_costs_time(proj: Path, damage: str) -> None:
    cache = proj / "target/.seeknal-cache/cache.pickle"
    res, expected = run_json(proj, "--dry-run")
    data = cache.read_bytes()
    if damage == "flipped":  # still a valid pickle: 'source.people' becomes 'source.peopld'
        cache.write_bytes(flip(data, b"source.people"))
    elif damage == "garbage":
        cache.write_bytes(data[:40] + bytes(range(256)) * 4 + data[40:])
    else:
        cache.write_bytes(data[: len(data) // 3])
    res, summary = run_json(proj, "--dry-run")
    assert res.exit_code == 0, res.output
    assert summary == expected
    for args in (["plan", "dev"], ["run", "--env", "dev"], ["promote", "dev"]):
        res = cli(proj, *args)
        assert res.exit_code == 0, (args, res.output)
