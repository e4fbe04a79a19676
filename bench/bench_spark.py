#!/usr/bin/env python3
"""Spark engine benchmark: full runs and env runs on DuckDB and on Spark (local[2]), and the
time seeknal adds per node on top of Spark's own (see bench/README.md).

Usage:
    python bench/bench_spark.py [--n 100 1000] [--master local[2]] [--workdir DIR] [--keep]

For each N, two copies of the generated project (bench/gen_project.py) as git repos:
  * full run: ``seeknal run`` (DuckDB) in one copy, ``seeknal run --engine spark`` in the other,
    wall time of the run itself (seeknal is driven in this process, so Spark's JVM starts once,
    before the first Spark run, and its start is reported on its own);
  * env run: on a branch, the middle-layer transform with the most downstream nodes is changed
    (gen_project.mutate), ``seeknal plan dev`` plans on DuckDB, and ``seeknal run --env dev`` runs
    the plan on each engine (``--engine spark`` in the Spark copy);
  * Spark's own time: the wall time of every SQL execution Spark records for the run (its REST
    API lists them with their durations; the UI server is turned on for this, on a free port),
    and the busy time of its jobs (union of job intervals). seeknal's overhead per node is
    (run wall time - Spark SQL time) / nodes run.

Results: a table on stdout and bench/out/spark.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import gen_project  # noqa: E402

REF_RE = re.compile(r"^\s*-\s*ref:\s*(\S+)\s*$", re.MULTILINE)
GIT_ENV = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@seeknal.invalid",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@seeknal.invalid",
}


def git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, env={**os.environ, **GIT_ENV}
    )


def seeknal(cwd: Path, *args: str) -> tuple[float, dict[str, Any]]:
    """Run `seeknal ARGS --json` in this process; (wall seconds, its JSON summary)."""
    from typer.testing import CliRunner

    from seeknal.cli.main import get_app

    old = Path.cwd()
    os.chdir(cwd)
    try:
        started = time.perf_counter()
        res = CliRunner().invoke(get_app(), [*args, "--json"], catch_exceptions=False)
        seconds = time.perf_counter() - started
    finally:
        os.chdir(old)
    if res.exit_code != 0:
        raise SystemExit(f"seeknal {' '.join(args)} failed in {cwd}:\n{res.stdout[-3000:]}")
    return seconds, json.loads(res.stdout)


def executed(summary: dict[str, Any]) -> int:
    return sum(1 for n in summary.get("nodes", []) if n.get("status") == "success")


class SparkClock:
    """Spark's own time, from its REST API: SQL executions and jobs finished since `mark`."""

    def __init__(self, session: Any) -> None:
        self.url = session.sparkContext.uiWebUrl
        self.app = session.sparkContext.applicationId
        self.seen_sql: set[int] = set()
        self.seen_jobs: set[int] = set()

    def _get(self, what: str) -> list[dict[str, Any]]:
        url = f"{self.url}/api/v1/applications/{self.app}/{what}"
        with urllib.request.urlopen(url, timeout=60) as reply:
            return json.loads(reply.read())

    def mark(self) -> None:
        self.seen_sql = {e["id"] for e in self._get("sql?details=false&length=100000")}
        self.seen_jobs = {j["jobId"] for j in self._get("jobs")}

    def since_mark(self) -> dict[str, float]:
        sql = [
            e for e in self._get("sql?details=false&length=100000") if e["id"] not in self.seen_sql
        ]
        jobs = [j for j in self._get("jobs") if j["jobId"] not in self.seen_jobs]
        spans = sorted(
            (_ts(j["submissionTime"]), _ts(j["completionTime"]))
            for j in jobs
            if j.get("completionTime")
        )
        busy, end = 0.0, 0.0
        for start, stop in spans:
            if stop > end:
                busy += stop - max(start, end)
                end = stop
        return {
            "sql_executions": len(sql),
            "sql_seconds": sum(e.get("duration", 0) for e in sql) / 1000.0,
            "jobs": len(jobs),
            "job_busy_seconds": busy,
        }


def _ts(text: str) -> float:
    return datetime.strptime(text.replace("GMT", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


def project(folder: Path, n: int) -> Path:
    gen_project.generate(n, folder)
    git(folder, "init", "-q", "-b", "main")
    git(folder, "add", "-A")
    git(folder, "commit", "-q", "-m", "bench")
    return folder


def middle_transform(folder: Path) -> str:
    """The transform of the middle third with the most nodes downstream (as bench_envs picks)."""
    children: dict[str, set[str]] = {}
    for path in (folder / "seeknal/transforms").glob("t_*.yml"):
        for parent in REF_RE.findall(path.read_text()):
            children.setdefault(parent.split(".", 1)[1], set()).add(path.stem)

    def downstream(name: str) -> int:
        seen, todo = set(), [name]
        while todo:
            for child in children.get(todo.pop(), ()):
                if child not in seen:
                    seen.add(child)
                    todo.append(child)
        return len(seen)

    names = sorted(
        (p.stem for p in (folder / "seeknal/transforms").glob("t_*.yml")),
        key=lambda n: int(n.split("_")[1]),
    )
    middle = names[len(names) // 3 : 2 * len(names) // 3]
    return max(middle, key=lambda n: (downstream(n), n))


def one_engine(folder: Path, engine: str, clock: SparkClock | None) -> dict[str, Any]:
    extra = ["--engine", engine]
    figures: dict[str, Any] = {}
    for phase in ("full", "env"):
        if phase == "env":
            git(folder, "checkout", "-q", "-b", "dev")
            gen_project.mutate(folder, middle_transform(folder))
            git(folder, "commit", "-qam", "change")
            seconds, _ = seeknal(folder, "plan", "dev")
            figures["plan_seconds"] = round(seconds, 3)
        if clock:
            clock.mark()
        args = ["run", *extra] if phase == "full" else ["run", "--env", "dev", *extra]
        seconds, summary = seeknal(folder, *args)
        nodes = executed(summary)
        entry: dict[str, Any] = {"seconds": round(seconds, 2), "nodes": nodes}
        if clock:
            spark = clock.since_mark()
            overhead = max(0.0, seconds - spark["sql_seconds"])
            entry |= {k: round(v, 2) if isinstance(v, float) else v for k, v in spark.items()}
            entry["seeknal_overhead_per_node_ms"] = round(1000 * overhead / max(nodes, 1), 1)
        entry["per_node_ms"] = round(1000 * seconds / max(nodes, 1), 1)
        figures[phase] = entry
    return figures


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n", type=int, nargs="+", default=[100, 1000])
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--workdir")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args(argv)
    from seeknal.engine.spark_session import spark_session

    work = Path(args.workdir or tempfile.mkdtemp(prefix="seeknal-bench-spark-"))
    work.mkdir(parents=True, exist_ok=True)
    os.environ["SEEKNAL_SYNC_CLEANUP"] = "1"
    # the UI server's REST API is Spark's own clock; it keeps 1,000 executions by default
    kept = {k: "1000000" for k in ("spark.sql.ui.retainedExecutions", "spark.ui.retainedJobs")}
    conf = {"spark.ui.enabled": "true", "spark.ui.port": "0", **kept}
    conf["spark.ui.retainedStages"] = "1000000"
    started = time.perf_counter()
    session = spark_session(args.master, conf)
    jvm_start = time.perf_counter() - started
    clock = SparkClock(session)
    results: dict[str, Any] = {"master": args.master, "jvm_start_seconds": round(jvm_start, 2)}
    profile = f"engine: duckdb\nmaster: {args.master}\nconf:\n" + "".join(
        f"  {k}: '{v}'\n" for k, v in conf.items()
    )
    for n in args.n:
        print(f"N={n}: generating", flush=True)
        row: dict[str, Any] = {}
        for engine in ("duckdb", "spark"):
            folder = project(work / f"n{n}-{engine}", n)
            (folder / "profiles.yml").write_text(profile)  # the same session settings
            print(f"N={n}: {engine}", flush=True)
            row[engine] = one_engine(folder, engine, clock if engine == "spark" else None)
            print(json.dumps(row[engine]), flush=True)
        results[str(n)] = row
        out = HERE / "out"
        out.mkdir(exist_ok=True)
        (out / "spark.json").write_text(json.dumps(results, indent=2) + "\n")
    print_table(results, args.n)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def print_table(results: dict[str, Any], ns: list[int]) -> None:
    print(f"\nSpark JVM start: {results['jvm_start_seconds']} s (once per process, not counted)")
    head = f"{'N':>5} {'run':>5} {'engine':>7} {'nodes':>6} {'wall s':>8} {'ms/node':>8}"
    print(head + f" {'Spark SQL s':>12} {'job busy s':>11} {'seeknal ms/node':>16}")
    for n in ns:
        for phase in ("full", "env"):
            for engine in ("duckdb", "spark"):
                e = results[str(n)][engine][phase]
                spark = (
                    f" {e['sql_seconds']:>12} {e['job_busy_seconds']:>11} "
                    f"{e['seeknal_overhead_per_node_ms']:>16}"
                    if engine == "spark"
                    else ""
                )
                print(
                    f"{n:>5} {phase:>5} {engine:>7} {e['nodes']:>6} {e['seconds']:>8} "
                    f"{e['per_node_ms']:>8}{spark}"
                )


if __name__ == "__main__":
    raise SystemExit(main())
