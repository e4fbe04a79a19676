"""Shared fixtures and helpers: projects built from dicts, real git repos, the CLI.

Helpers are plain functions (import them with `from conftest import ...`); fixtures wire the
environment (isolated git config, a fresh repository per test).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

# --------------------------------------------------------------------------------------------
# Building projects


def write_tree(root: Path, files: Mapping[str, str | bytes]) -> Path:
    """Write `{relative path: text or bytes}` under `root`; returns `root`."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


PROJECT_YML = """\
name: {name}
version: 1.0.0
profile: default
config-version: 1
state_backend: file
"""

PEOPLE_CSV = """\
id,name,age,city
1,Ann,34,Oslo
2,Bob,17,Oslo
3,Cid,45,Rome
4,Dee,15,Rome
5,Eve,29,Lima
"""

SMALL_NODES = {
    "seeknal/sources/people.yml": """\
kind: source
name: people
description: People from the csv.
source: csv
table: data/people.csv
params:
  delimiter: ","
  header: true
""",
    "seeknal/transforms/adults.yml": """\
kind: transform
name: adults
description: People aged 18 or more.
inputs:
  - ref: source.people
transform: |
  SELECT id, name, age, city
  FROM ref('source.people')
  WHERE age >= 18
""",
    "seeknal/transforms/city_counts.yml": """\
kind: transform
name: city_counts
inputs:
  - ref: transform.adults
transform: |
  SELECT city, count(*) AS n
  FROM ref('transform.adults')
  GROUP BY city
""",
    "seeknal/transforms/names.yml": """\
kind: transform
name: names
inputs:
  - ref: source.people
transform: |
  SELECT id, upper(name) AS name FROM ref('source.people')
""",
}

# rows each node of the small project produces
SMALL_ROWS = {
    "source.people": 5,
    "transform.adults": 3,
    "transform.city_counts": 3,
    "transform.names": 5,
}


def small_project(root: Path, extra: Mapping[str, str | bytes] | None = None) -> Path:
    """source.people (csv) → transform.adults → transform.city_counts, and people → names.

    `transform.names` is an independent branch of `transform.adults`.
    """
    files: dict[str, str | bytes] = {
        "seeknal_project.yml": PROJECT_YML.format(name="small"),
        "data/people.csv": PEOPLE_CSV,
        **SMALL_NODES,
    }
    files.update(extra or {})
    return write_tree(root, files)


def minimal_project(root: Path, nodes: Mapping[str, str | bytes]) -> Path:
    """A project file plus exactly the given files (no default nodes)."""
    return write_tree(root, {"seeknal_project.yml": PROJECT_YML.format(name="p"), **nodes})


# --------------------------------------------------------------------------------------------
# Reading results


def output(root: Path, node_id: str) -> Path:
    kind, name = node_id.split(".", 1)
    return root / "target" / "cache" / kind / f"{name}.parquet"


def rows(path: Path, sql: str = "SELECT * FROM t ORDER BY ALL") -> list[tuple[Any, ...]]:
    """Rows of a parquet (or csv/json) file, read with DuckDB; the file is the table `t`."""
    con = duckdb.connect()
    try:
        suffix = path.suffix
        reader = {".csv": "read_csv_auto", ".json": "read_json_auto"}.get(suffix, "read_parquet")
        con.execute(f"CREATE VIEW t AS SELECT * FROM {reader}('{path}')")
        return con.execute(sql).fetchall()
    finally:
        con.close()


def row_count(path: Path) -> int:
    return int(rows(path, "SELECT count(*) FROM t")[0][0])


def run_state(root: Path) -> dict[str, Any]:
    return json.loads((root / "target" / "run_state.json").read_text())


def manifest(root: Path) -> dict[str, Any]:
    return json.loads((root / "target" / "manifest.json").read_text())


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file below `folder` with its bytes (empty when the folder does not exist)."""
    if not folder.exists():
        return {}
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


LOCK_FILES = {".lock", ".lock.holder"}


def state_files(root: Path) -> list[str]:
    """Files under target/ other than the lock file a mutating command creates to wait on."""
    return sorted(k for k in snapshot(root / "target") if k not in LOCK_FILES)


def statuses(result_json: Mapping[str, Any]) -> dict[str, str]:
    """node id → status from `seeknal run --json`."""
    return {n["id"]: n["status"] for n in result_json["nodes"]}


def ran(result_json: Mapping[str, Any]) -> set[str]:
    return {nid for nid, st in statuses(result_json).items() if st != "cached"}


# --------------------------------------------------------------------------------------------
# Running the CLI


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def json(self) -> Any:
        return json.loads(self.stdout)


def _check_clean(result: Result) -> Result:
    # A traceback or an internal error reaching a user is a bug (docs/concepts.md), in every test.
    assert "Traceback" not in result.output, result.output
    assert "internal error" not in result.output, result.output
    return result


@contextmanager
def working_dir(path: Path) -> Iterator[None]:
    old = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def cli(project_dir: Path | None, *args: str) -> Result:
    """Run `seeknal ARGS` in-process with typer's CliRunner, from `project_dir`."""
    from typer.testing import CliRunner

    from seeknal.cli.main import get_app

    runner = CliRunner()
    with working_dir(project_dir or Path.cwd()):
        res = runner.invoke(get_app(), [str(a) for a in args], catch_exceptions=True)
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        raise res.exception
    return _check_clean(Result(res.exit_code, res.stdout, res.stderr))


def run_json(project_dir: Path, *args: str) -> tuple[Result, dict[str, Any]]:
    """`seeknal run --json ARGS`; returns the result and the parsed summary."""
    res = cli(project_dir, "run", "--json", *args)
    return res, res.json()


def seeknal_cmd(
    cwd: Path, *args: str, env: Mapping[str, str] | None = None, timeout: float = 120
) -> Result:
    """Run the installed CLI in a subprocess (`python -m seeknal ARGS`)."""
    proc = subprocess.run(
        [sys.executable, "-m", "seeknal", *[str(a) for a in args]],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )
    return _check_clean(Result(proc.returncode, proc.stdout, proc.stderr))


def git(cwd: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True, timeout=60
    )
    return proc.stdout


# --------------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Isolated git config for every test (subprocesses inherit it) and a quiet environment."""
    gitconfig = tmp_path / "gitconfig"
    gitconfig.write_text(
        "[user]\n\tname = Seeknal Tests\n\temail = tests@seeknal.invalid\n"
        "[init]\n\tdefaultBranch = main\n"
    )
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Seeknal Tests")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "tests@seeknal.invalid")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Seeknal Tests")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "tests@seeknal.invalid")
    monkeypatch.setenv("HOME", str(tmp_path))
    # the tool cache of a project without target/ goes here: beside the test's folder, not in it
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path.parent / f"{tmp_path.name}-cache"))
    for name in ("SEEKNAL_DEBUG", "SEEKNAL_LOCK_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    # promote deletes replaced outputs in a background process; tests that compare whole
    # trees need it done before the command returns (test_envs checks the background way)
    monkeypatch.setenv("SEEKNAL_SYNC_CLEANUP", "1")


@pytest.fixture
def git_project(tmp_path: Path) -> Path:
    """An empty folder `tmp_path/proj` that is a fresh git repository on `main`."""
    root = tmp_path / "proj"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    return root


@pytest.fixture
def small(git_project: Path) -> Path:
    """The small project, committed in its git repository."""
    small_project(git_project)
    git(git_project, "add", "-A")
    git(git_project, "commit", "-q", "-m", "small project")
    return git_project


@pytest.fixture
def example(git_project: Path) -> Path:
    """The shipped example project, written by `seeknal init --example`, committed."""
    res = cli(git_project.parent, "init", "--example", str(git_project))
    assert res.exit_code == 0, res.output
    git(git_project, "add", "-A")
    git(git_project, "commit", "-q", "-m", "example")
    return git_project


# --------------------------------------------------------------------------------------------
# PostgreSQL (tests/pgkit.py): one throwaway server per session, a fresh database per test


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Any]:
    from pgkit import start_server

    server = start_server()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg(pg_server: Any) -> Iterator[Any]:
    from pgkit import PgDb

    name = "t_" + os.urandom(6).hex()
    with pg_server.connect() as con:
        con.execute(f"CREATE DATABASE {name}")
    yield PgDb(pg_server, name)
    with pg_server.connect() as con:
        con.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
