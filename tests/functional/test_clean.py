"""`seeknal clean` (docs/cli.md#seeknal-clean): production cache files of nodes no longer in the
project, expired envs' folders and the tool cache go; everything a run state or a node of the
project refers to stays; `--dry-run` changes nothing; the lock is taken."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

import pytest
from conftest import cli, git, output, seeknal_cmd, snapshot
from envkit import env_dir, env_project

from seeknal.state.lock import target_lock

ADULTS = "seeknal/transforms/adults.yml"


@pytest.fixture
def proj(git_project: Path) -> Path:
    """Production ran; env `dev` (adults changed) applied, env `old` planned and expired; a
    leftover output of a node that is gone sits in production's cache."""
    env_project(git_project)
    git(git_project, "add", "-A")
    git(git_project, "commit", "-q", "-m", "project")
    assert cli(git_project, "run").exit_code == 0
    adults = git_project / ADULTS
    adults.write_text(adults.read_text().replace("age >= 18", "age >= 30"))
    for env in ("dev", "old"):
        assert cli(git_project, "plan", env).exit_code == 0
    assert cli(git_project, "run", "--env", "dev").exit_code == 0
    config_path = env_dir(git_project, "old") / "env_config.json"
    config = json.loads(config_path.read_text())
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
    config["last_accessed"] = long_ago.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    config_path.write_text(json.dumps(config))
    gone = git_project / "target" / "cache" / "transform" / "gone.parquet"
    gone.write_bytes(b"x" * 1000)
    return git_project


def test_dry_run_lists_and_changes_nothing(proj: Path) -> None:
    before = snapshot(proj / "target")
    res = cli(proj, "clean", "--dry-run")
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert any("target/cache/transform/gone.parquet" in x and "1000 B" in x for x in lines)
    assert any("target/environments/old" in x and "env expired" in x for x in lines)
    assert any("target/.seeknal-cache" in x and "tool cache" in x for x in lines)
    assert not any("environments/dev" in x for x in lines)
    assert lines[-1].startswith("Would remove 3 item(s), ")
    assert snapshot(proj / "target") == before


def test_clean_removes_only_what_nothing_needs(proj: Path) -> None:
    kept = {p: p.read_bytes() for p in (proj / "target" / "cache").rglob("*.parquet")}
    kept.pop(proj / "target" / "cache" / "transform" / "gone.parquet")
    dev_files = snapshot(env_dir(proj, "dev"))
    plan_before = cli(proj, "plan", "--json").json()
    res = cli(proj, "clean", "--yes")
    assert res.exit_code == 0, res.output
    assert res.stdout.splitlines()[-1].startswith("Removed 3 item(s), ")
    assert "freed" in res.stdout
    assert not (proj / "target" / "cache" / "transform" / "gone.parquet").exists()
    assert not env_dir(proj, "old").exists()
    assert not (proj / "target" / ".seeknal-cache").exists()
    assert {p: p.read_bytes() for p in kept} == kept  # every referenced output is there
    assert snapshot(env_dir(proj, "dev")) == dev_files
    assert output(proj, "transform.adults").is_file()
    # nothing was lost: production plans the same, the env still promotes
    assert cli(proj, "plan", "--json").json() == plan_before
    shutil.rmtree(proj / "target" / ".seeknal-cache")  # plan wrote it again
    assert cli(proj, "clean").stdout.strip() == "Nothing to clean."
    assert cli(proj, "promote", "dev").exit_code == 0


def test_without_yes_it_asks(proj: Path) -> None:
    before = snapshot(proj / "target")
    res = seeknal_cmd(proj, "clean", env={"SEEKNAL_LOCK_TIMEOUT": "0"})
    # no terminal to answer: the question gets no "y"
    assert res.exit_code == 1, res.output
    assert "Nothing removed." in res.stdout
    assert snapshot(proj / "target") == before


def test_clean_takes_the_lock(proj: Path) -> None:
    with target_lock(proj / "target", "seeknal run (held by the test)"):
        res = seeknal_cmd(proj, "clean", "--yes", env={"SEEKNAL_LOCK_TIMEOUT": "0"})
    assert res.exit_code == 1, res.output
    assert "seeknal run (held by the test)" in res.stderr
    assert "Traceback" not in res.stderr
    assert (proj / "target" / "cache" / "transform" / "gone.parquet").exists()


def test_clean_removes_the_tool_cache_kept_outside_a_never_run_project(
    git_project: Path, tmp_path: Path
) -> None:
    env_project(git_project)
    other = tmp_path / "other"
    shutil.copytree(git_project, other)
    assert cli(git_project, "plan").exit_code == 0 and cli(other, "plan").exit_code == 0
    cache = Path(os.environ["XDG_CACHE_HOME"]) / "seeknal" / "projects"
    ours, theirs = sorted(cache.glob("*.pickle"), key=lambda p: p.stat().st_mtime)

    res = cli(git_project, "clean", "--dry-run")
    assert res.exit_code == 0, res.output
    listed, summary = res.stdout.splitlines()
    assert listed.split()[0] == str(ours) and listed.endswith(
        "tool cache of this project kept outside it (rebuilt when needed)"
    )
    assert summary.startswith("Would remove 1 item(s), ")
    assert ours.is_file()
    for pickle in (ours, theirs):  # the cache's digests file, beside it once it holds some
        pickle.with_suffix(".digests").write_bytes(b"digests")
    res = cli(git_project, "clean", "--yes")
    assert res.exit_code == 0, res.output
    assert "Removed 1 item(s)" in res.stdout
    assert not ours.exists() and theirs.is_file()  # another project's cache stays
    assert not ours.with_suffix(".digests").exists() and theirs.with_suffix(".digests").is_file()
    assert not (git_project / "target").exists()  # nothing created to remove it
    assert cli(git_project, "clean").stdout == "Nothing to clean.\n"
