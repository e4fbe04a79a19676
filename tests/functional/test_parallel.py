"""`--parallel` really runs independent nodes at the same time, in production and in an env.

Two independent transforms meet at a named pipe (a FIFO): `transform.sender` copies rows into
it and `transform.receiver` reads them from it. Opening a FIFO blocks until the other end is
opened too, so neither node can finish unless both run at once. Run one after the other, the
first node waits for ever and the command is stopped by the timeout: no sleeps, no clocks.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import duckdb
import pytest
from conftest import PROJECT_YML, git, output, rows, seeknal_cmd, small_project, statuses

from seeknal.types import NodeStatus

TIMEOUT = 60  # only reached when the two nodes do not overlap


def pipe_nodes(fifo: Path, marker: str) -> dict[str, str]:
    """The two nodes; a new `marker` changes both, so an env plan runs both. The pipe is
    outside the project: the project lets node SQL reach its folder (sql_sandbox)."""
    return {
        "seeknal_project.yml": PROJECT_YML.format(name="small")
        + f"sql_sandbox:\n  allow: [{fifo.parent}]\n",
        "seeknal/transforms/sender.yml": (
            "kind: transform\nname: sender\ninputs:\n  - ref: source.people\ntransform: |\n"
            f"  COPY (SELECT id, '{marker}' AS marker FROM ref('source.people'))\n"
            f"    TO '{fifo}' (FORMAT csv, HEADER false);\n"
            "  SELECT count(*) AS sent FROM ref('source.people')\n"
        ),
        "seeknal/transforms/receiver.yml": (
            "kind: transform\nname: receiver\ninputs:\n  - ref: source.people\ntransform: |\n"
            f"  SELECT * FROM read_csv('{fifo}', header = false,\n"
            "    columns = {'id': 'INTEGER', 'marker': 'VARCHAR'})\n"
            f"  WHERE marker = '{marker}'\n"
        ),
    }


def run_overlapping(
    root: Path, *args: str, flags: tuple[str, ...] = ("--parallel", "--max-workers", "2")
) -> dict[str, str]:
    """`seeknal ARGS --json FLAGS` (by default --parallel --max-workers 2); node id → status."""
    try:
        res = seeknal_cmd(root, *args, "--json", *flags, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(
            f"seeknal {' '.join((*args, *flags))} did not finish in {TIMEOUT}s: "
            "transform.sender and transform.receiver never ran at the same time"
        )
    assert res.exit_code == 0, res.output
    return statuses(res.json())


@pytest.fixture
def piped(git_project: Path, tmp_path: Path) -> Path:
    fifo = tmp_path / "pipe" / "rows.fifo"
    fifo.parent.mkdir()
    os.mkfifo(fifo)
    small_project(git_project, pipe_nodes(fifo, "prod"))
    git(git_project, "add", "-A")
    git(git_project, "commit", "-q", "-m", "piped project")
    return git_project


def test_parallel_production_run_overlaps_independent_nodes(piped: Path) -> None:
    done = run_overlapping(piped, "run")
    assert done["transform.sender"] == done["transform.receiver"] == NodeStatus.SUCCESS
    assert rows(output(piped, "transform.sender")) == [(5,)]
    assert rows(output(piped, "transform.receiver")) == [(i, "prod") for i in range(1, 6)]


def test_parallel_env_run_overlaps_independent_nodes(piped: Path, tmp_path: Path) -> None:
    run_overlapping(piped, "run")
    git(piped, "checkout", "-q", "-b", "dev")
    small_project(piped, pipe_nodes(tmp_path / "pipe" / "rows.fifo", "dev"))
    res = seeknal_cmd(piped, "plan", "dev")
    assert res.exit_code == 0, res.output
    done = run_overlapping(piped, "run", "--env", "dev")
    assert done["transform.sender"] == done["transform.receiver"] == NodeStatus.SUCCESS
    env_cache = piped / "target" / "environments" / "dev" / "cache" / "transform"
    assert rows(env_cache / "receiver.parquet") == [(i, "dev") for i in range(1, 6)]
    # production kept its own rows
    assert rows(output(piped, "transform.receiver")) == [(i, "prod") for i in range(1, 6)]


def test_max_workers_alone_runs_in_parallel(piped: Path, tmp_path: Path) -> None:
    """A number of workers asks for them: --max-workers N without --parallel is parallel too,
    for a plain run (answered without typer), `run ENV` and `env apply ENV`."""
    alone = ("--max-workers", "2")
    done = run_overlapping(piped, "run", flags=alone)
    assert done["transform.sender"] == done["transform.receiver"] == NodeStatus.SUCCESS
    assert rows(output(piped, "transform.receiver")) == [(i, "prod") for i in range(1, 6)]
    git(piped, "checkout", "-q", "-b", "dev")
    for marker, command in (("dev1", ("run", "dev")), ("dev2", ("env", "apply", "dev"))):
        small_project(piped, pipe_nodes(tmp_path / "pipe" / "rows.fifo", marker))
        res = seeknal_cmd(piped, "plan", "dev")
        assert res.exit_code == 0, res.output
        done = run_overlapping(piped, *command, flags=("--max-workers=2",))
        assert done["transform.sender"] == done["transform.receiver"] == NodeStatus.SUCCESS
        env_cache = piped / "target" / "environments" / "dev" / "cache" / "transform"
        assert rows(env_cache / "receiver.parquet") == [(i, marker) for i in range(1, 6)]


THREADS_NODE = (
    "kind: transform\nname: threads\ninputs:\n  - ref: source.people\ntransform: |\n"
    "  SELECT current_setting('threads') AS threads FROM ref('source.people') LIMIT 1\n"
)


def test_parallel_workers_share_the_cores_between_them(git_project: Path) -> None:
    """Each of N workers' queries gets cpu_count // N of DuckDB's threads (at least one); one
    node at a time, DuckDB keeps its own default (every core)."""
    small_project(git_project, {"seeknal/transforms/threads.yml": THREADS_NODE})
    git(git_project, "add", "-A")
    git(git_project, "commit", "-q", "-m", "threads node")
    threads = output(git_project, "transform.threads")
    res = seeknal_cmd(git_project, "run", "--full")
    assert res.exit_code == 0, res.output
    default = duckdb.connect().execute("SELECT current_setting('threads')").fetchone()
    assert rows(threads) == [default]
    for workers in (2, 4):
        res = seeknal_cmd(git_project, "run", "--full", "--parallel", "--max-workers", str(workers))
        assert res.exit_code == 0, res.output
        assert rows(threads) == [(max(1, (os.cpu_count() or 1) // workers),)]
