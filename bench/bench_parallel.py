#!/usr/bin/env python3
"""Ways to run a DAG of small DuckDB statements on 2 cores, without seeknal (bench/README.md).

Usage:
    python bench/bench_parallel.py [--n 1000] [--reps 3] [--project DIR]

The statements are bench/floor.py's (one `COPY (<node SQL>) TO '<node>.parquet'` per node of a
generated project), run in dependency order, each variant interleaved rep by rep:

  * seq, DuckDB threads=2   one connection: the parallelism is DuckDB's own, inside a query
  * seq, DuckDB threads=1   one connection, one thread
  * 2 threads, 1 database   two Python threads, a cursor each on one database (what seeknal's
                            --parallel does), DuckDB threads=1
  * 2 threads, 2 databases  two Python threads, a database each, DuckDB threads=1
  * 2 processes             two forked worker processes, a database each, DuckDB threads=1

A node starts as soon as its inputs are written. It is the ceiling of each way: seeknal adds
its own work per node on top. The load average is printed with the figures: other processes on
the same cores make every parallel figure worse.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import (
    FIRST_COMPLETED,
    Executor,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from pathlib import Path

import duckdb

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import gen_project  # noqa: E402
from floor import _deps, build_statements, load_nodes  # noqa: E402

STATEMENTS: dict[str, str] = {}
_local = threading.local()


def _database(threads: int) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    return con


def _in_own_database(key: str) -> str:
    con = getattr(_local, "con", None)
    if con is None:
        con = _local.con = _database(1)
    con.execute(STATEMENTS[key])
    return key


def _on_cursor(db: duckdb.DuckDBPyConnection, key: str) -> str:
    con = getattr(_local, "cursor", None)
    if con is None or getattr(_local, "db", None) is not db:
        con = _local.cursor = db.cursor()
        _local.db = db
    con.execute(STATEMENTS[key])
    return key


def _dag(pool: Executor, submit: Callable[[Executor, str], Future], deps: dict) -> None:
    waiting = {key: set(ups) for key, ups in deps.items()}
    pending: dict[Future, str] = {}
    while waiting or pending:
        for key in [k for k, ups in waiting.items() if not ups]:
            del waiting[key]
            pending[submit(pool, key)] = key
        done, _ = wait(pending, return_when=FIRST_COMPLETED)
        for future in done:
            key = pending.pop(future)
            future.result()
            for ups in waiting.values():
                ups.discard(key)


def variants(deps: dict, procs: Executor) -> dict[str, Callable[[], None]]:
    def sequential(threads: int) -> None:
        con = _database(threads)
        for key in deps:
            con.execute(STATEMENTS[key])
        con.close()

    def shared() -> None:
        db = _database(1)
        with ThreadPoolExecutor(2) as pool:
            _dag(pool, lambda p, k: p.submit(_on_cursor, db, k), deps)
        db.close()

    def separate() -> None:
        with ThreadPoolExecutor(2) as pool:
            _dag(pool, lambda p, k: p.submit(_in_own_database, k), deps)

    return {
        "seq, DuckDB threads=2": lambda: sequential(2),
        "seq, DuckDB threads=1": lambda: sequential(1),
        "2 threads, 1 database": shared,
        "2 threads, 2 databases": separate,
        "2 processes": lambda: _dag(procs, lambda p, k: p.submit(_in_own_database, k), deps),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--project", default=None, help="an existing project (default: generated)")
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="seeknal-bench-parallel-"))
    try:
        project = Path(args.project) if args.project else work / "project"
        if not args.project:
            gen_project.generate(args.n, project)
        STATEMENTS.update(build_statements(project.resolve(), work / "out"))
        (work / "out").mkdir()
        nodes = load_nodes(project.resolve())
        deps = {key: set(_deps(nodes[key])) for key in STATEMENTS}
        # forked after STATEMENTS is filled: the workers inherit it
        procs = ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork"))
        list(procs.map(abs, [1, 2]))  # started before anything is timed
        ways = variants(deps, procs)
        times: dict[str, list[float]] = {name: [] for name in ways}
        for rep in range(args.reps):
            names = list(ways) if rep % 2 == 0 else list(ways)[::-1]
            for name in names:
                started = time.perf_counter()
                ways[name]()
                times[name].append(time.perf_counter() - started)
        procs.shutdown()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    base = statistics.median(times["seq, DuckDB threads=2"])
    print(f"{len(STATEMENTS)} statements, {os.cpu_count()} cpus, load {os.getloadavg()}")
    for name, values in times.items():
        med = statistics.median(values)
        print(f"  {name:24s} median {med:6.2f} s  speed-up {base / med:4.2f}x  {values}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
