"""Helpers shared by the environment tests (kept apart from conftest.py, which other tests own).

Importable as `from envkit import ...` because tests/ is on sys.path (it holds conftest.py).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import PROJECT_YML, SMALL_NODES, cli, git, write_tree

# Production is target/ and the exposure files seeknal writes (exports/), except environments,
# the in-flight transaction folder, the lock files and the tool cache (a cache of parsed YAML and
# digests that only costs time to lose).
PRODUCTION = ("target/", "exports/")
NOT_PRODUCTION = (
    "target/environments/",
    "target/.txn/",
    "target/.seeknal-cache/",
)
LOCK_NAMES = {"target/.lock", "target/.lock.holder"}
TEMP_PREFIX = ".seeknal-tmp-"


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def production_digests(root: Path) -> dict[str, str]:
    """Relative path → sha256 of every production file of the project (see PRODUCTION)."""
    found: dict[str, str] = {}
    paths = [p for top in PRODUCTION for p in (root / top).rglob("*")]
    for path in sorted(paths):
        if not path.is_file():
            continue
        rel = path.relative_to(root).as_posix()
        if not rel.startswith(PRODUCTION) or rel in LOCK_NAMES or rel.startswith(NOT_PRODUCTION):
            continue
        found[rel] = sha(path)
    return found


def outputs_digests(root: Path) -> dict[str, str]:
    """Digests of production outputs only: target/cache and exports (no state files)."""
    return {
        k: v
        for k, v in production_digests(root).items()
        if k.startswith(("target/cache/", "exports/"))
    }


def temp_leftovers(root: Path) -> list[str]:
    target = root / "target"
    found = [p.relative_to(root).as_posix() for p in target.rglob(TEMP_PREFIX + "*")]
    if (target / ".txn").exists():
        found.append("target/.txn")
    return sorted(found)


def files_and_times(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file below `folder` with its bytes and modification time: a command that only
    reads leaves both as they were (rewriting a file with the same bytes counts as a write)."""
    return {
        p.relative_to(folder).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())


def env_dir(root: Path, env: str) -> Path:
    return root / "target" / "environments" / env


def env_json(root: Path, env: str, name: str) -> Any:
    return read_json(env_dir(root, env) / name)


def history_lines(root: Path) -> list[dict[str, Any]]:
    """Every line of production's history: promotions, rollbacks, runs that changed outputs."""
    path = root / "target" / "promotions.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def promotions(root: Path) -> list[dict[str, Any]]:
    """The promotion lines of production's history (lines without a kind are promotions)."""
    return [line for line in history_lines(root) if line.get("kind", "promote") == "promote"]


def edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text()
    assert old in text, f"{old!r} not in {rel}"
    path.write_text(text.replace(old, new))


def manifest_core(manifest: dict[str, Any]) -> dict[str, Any]:
    """What a manifest says about the project, without its timestamp."""
    return {
        "fingerprint": manifest["fingerprint"],
        "nodes": {nid: n["fingerprint"] for nid, n in manifest["nodes"].items()},
        "metadata": {nid: n.get("metadata_hash") for nid, n in manifest["nodes"].items()},
    }


def run_state_core(state: dict[str, Any]) -> dict[str, Any]:
    """What a run state says about each node, without timestamps, durations and run ids."""
    return {
        nid: (e.get("hash"), e.get("status"), e.get("output_path"), e.get("output_digest"))
        for nid, e in state["nodes"].items()
    }


# --------------------------------------------------------------------------------------------
# The env project: the small project plus a rule, a profile and a file exposure on adults.

ADULTS = "seeknal/transforms/adults.yml"
NAMES = "seeknal/transforms/names.yml"

ENV_EXTRA = {
    "seeknal/rules/adults_unique.yml": """\
kind: rule
name: adults_unique
inputs:
  - ref: transform.adults
rule:
  type: uniqueness
  columns: [id]
""",
    "seeknal/profiles/adults_profile.yml": """\
kind: profile
name: adults_profile
inputs:
  - ref: transform.adults
""",
    "seeknal/exposures/adults_export.yml": """\
kind: exposure
name: adults_export
type: file
depends_on:
  - ref: transform.adults
params:
  format: csv
  path: exports/adults.csv
""",
}

ADULTS_DOWNSTREAM = {
    "transform.city_counts",
    "rule.adults_unique",
    "profile.adults_profile",
    "exposure.adults_export",
}


def env_project(root: Path, people_csv: str | None = None) -> Path:
    from conftest import PEOPLE_CSV

    return write_tree(
        root,
        {
            "seeknal_project.yml": PROJECT_YML.format(name="envs"),
            "data/people.csv": people_csv or PEOPLE_CSV,
            **SMALL_NODES,
            **ENV_EXTRA,
        },
    )


def big_people_csv(rows: int = 20000) -> str:
    """A people file whose parquet output is far larger than 4 KB."""
    lines = ["id,name,age,city"]
    cities = ["Oslo", "Rome", "Lima", "Kyiv", "Pune"]
    for i in range(1, rows + 1):
        lines.append(f"{i},P{i * 7919 % 100003},{(i * 37) % 90},{cities[i % 5]}")
    return "\n".join(lines) + "\n"


def applied_dev_env(root: Path) -> Path:
    """Production run; env 'dev' keeps adults of 30 and more, planned and applied."""
    env_project(root)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "env project")
    assert cli(root, "run").exit_code == 0
    edit(root, ADULTS, "WHERE age >= 18", "WHERE age >= 30")
    for command in (("plan", "dev"), ("run", "--env", "dev")):
        res = cli(root, *command)
        assert res.exit_code == 0, res.output
    return root


KILLED = -signal.SIGKILL


def start_paused(root: Path, step: str, *args: str) -> subprocess.Popen[str]:
    """`seeknal ARGS` (default: promote dev), waited for until it pauses at failpoint `step`
    (holding the lock while paused)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "seeknal", *(args or ("promote", "dev"))],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "SEEKNAL_FAILPOINT": step, "SEEKNAL_FAILPOINT_MODE": "pause"},
    )
    assert proc.stderr is not None
    line = proc.stderr.readline()
    if f"failpoint {step}: paused (pid {proc.pid})" not in line:
        proc.kill()
        pytest.fail(f"did not pause at {step}: {line}{proc.stderr.read()}")
    return proc


def kill(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=10) == KILLED
    for stream in (proc.stdout, proc.stderr):
        if stream:
            stream.close()


def promoted_then_full(root: Path, read: Callable[[], Any]) -> tuple[Any, Any, str]:
    """`read()` after plan dev / run --env dev / promote dev (a production run then has
    nothing to do), and after a full production run; and the plan's text. What promote keeps
    and moves must be what a full run computes."""
    plan = cli(root, "plan", "dev")
    assert plan.exit_code == 0, plan.output
    for command in (("run", "--env", "dev"), ("promote", "dev")):
        res = cli(root, *command)
        assert res.exit_code == 0, res.output
    res = cli(root, "run")
    assert res.exit_code == 0 and "Nothing to do" in res.stdout, res.output
    promoted = read()
    res = cli(root, "run", "--full")
    assert res.exit_code == 0, res.output
    return promoted, read(), plan.stdout
