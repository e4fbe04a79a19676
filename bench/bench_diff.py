#!/usr/bin/env python3
"""`seeknal diff` on two large keyed outputs (see bench/README.md).

Usage:
    python bench/bench_diff.py [--rows 10000000] [--reps 3] [--seeknal PATH] [--workdir DIR]
                               [--keep] [--out bench/out/diff.json]

A real project in a temp folder: a parquet source `events` of --rows rows (written by DuckDB:
id, grp, val, ts, s) and a transform `facts` with `key: id` that selects it. `seeknal run`
builds production; then `facts` is edited so that its output drops the ids with
id % 997 = 3 (removed), adds 1 to `val` where id % 1000 = 7 (changed) and appends
--added new ids (added); `seeknal plan dev` and `seeknal run --env dev` build the env. Both
outputs of `facts` then hold about --rows rows.

Timed, whole process (wall time and peak RSS, as bench_core.measure does):
  * `seeknal diff dev`, --reps times (median and max RSS);
  * `seeknal diff dev --json` once; its counts must equal the ones computed from the edit;
  * `seeknal report dev --format markdown` once (its Data changes section runs the same diff
    without examples).

Results: a table on stdout and bench/out/diff.json. A seeknal command that exits non-zero, or
counts that differ from the expected ones, stop the benchmark with exit status 1.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _measure import (  # noqa: E402
    CommandFailed,
    bench_env,
    find_seeknal,
    finish_bench,
    med,
    meta,
    print_table,
    run_ok,
)

PROJECT = """\
name: diffbench
version: 1.0.0
profile: default
config-version: 1
state_backend: file
"""
SOURCE = """\
kind: source
name: events
source: parquet
table: data/events.parquet
"""
FACTS = """\
kind: transform
name: facts
key: id
inputs:
  - ref: source.events
transform: |
{sql}"""
PROD_SQL = "  SELECT id, grp, val, ts, s FROM ref('source.events')\n"
ENV_SQL = """\
  SELECT id, grp, CASE WHEN id % 1000 = 7 THEN val + 1 ELSE val END AS val, ts, s
  FROM ref('source.events')
  WHERE id % 997 <> 3
  UNION ALL
  SELECT id + {rows} AS id, grp, val, ts, s
  FROM ref('source.events')
  WHERE id < {added}
"""


def write_project(root: Path, rows: int) -> None:
    import duckdb

    (root / "seeknal" / "sources").mkdir(parents=True)
    (root / "seeknal" / "transforms").mkdir(parents=True)
    (root / "data").mkdir()
    (root / "seeknal_project.yml").write_text(PROJECT)
    (root / "seeknal" / "sources" / "events.yml").write_text(SOURCE)
    (root / "seeknal" / "transforms" / "facts.yml").write_text(FACTS.format(sql=PROD_SQL))
    con = duckdb.connect()
    try:
        con.execute(
            f"""COPY (
                SELECT range AS id, 'g' || (range % 100) AS grp,
                       (range * 7919 % 1000003) / 100.0 AS val,
                       TIMESTAMP '2024-01-01' + to_seconds(range % 31536000) AS ts,
                       substr(md5(range::VARCHAR), 1, 8) AS s
                FROM range({rows})
            ) TO '{root / "data" / "events.parquet"}' (FORMAT parquet)"""
        )
    finally:
        con.close()


def expected_counts(rows: int, added: int) -> dict[str, int]:
    removed = sum(1 for _ in range(3, rows, 997))
    both = sum(1 for i in range(7, rows, 1000) if i % 997 != 3)
    return {"rows_added": min(added, rows), "rows_removed": removed, "rows_changed": both}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--added", type=int, default=5_000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--seeknal")
    ap.add_argument("--workdir", help="Folder for the project (default: a new temp folder).")
    ap.add_argument("--keep", action="store_true", help="Keep the project folder.")
    ap.add_argument("--out", default=str(HERE / "out" / "diff.json"))
    args = ap.parse_args()
    seeknal = find_seeknal(args.seeknal)
    if seeknal is None:
        print("seeknal not found: pass --seeknal PATH", file=sys.stderr)
        return 1
    started = time.perf_counter()
    base = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="seeknal-diff-"))
    root = base / "project"
    doc: dict = {**meta(seeknal), "rows": args.rows, "added": args.added}
    try:
        figures = run(root, seeknal, args, doc)
    except CommandFailed as exc:
        print(exc, file=sys.stderr)
        return 1
    finally:
        finish_bench(doc, started, seeknal, base, args.keep, args.out)
    print(print_table(figures, f"seeknal diff, {args.rows:,} rows per output"))
    print(f"\nraw figures: {args.out}")
    return 0 if doc.get("counts_match") else 1


def run(root: Path, seeknal: str, args: argparse.Namespace, doc: dict) -> list[tuple[str, str]]:
    env = bench_env(seeknal)
    t0 = time.perf_counter()
    write_project(root, args.rows)
    doc["generate_s"] = time.perf_counter() - t0
    doc["prod_run"] = _brief(run_ok([seeknal, "run"], root, env))
    facts = root / "seeknal" / "transforms" / "facts.yml"
    facts.write_text(FACTS.format(sql=ENV_SQL.format(rows=args.rows, added=args.added)))
    run_ok([seeknal, "plan", "dev"], root, env)
    doc["env_run"] = _brief(run_ok([seeknal, "run", "--env", "dev"], root, env))
    prod_out = root / "target" / "cache" / "transform" / "facts.parquet"
    env_out = root / "target" / "environments" / "dev" / "cache" / "transform" / "facts.parquet"
    doc["output_mb"] = {
        "production": prod_out.stat().st_size / 1e6,
        "env": env_out.stat().st_size / 1e6,
    }

    diffs = [_brief(run_ok([seeknal, "diff", "dev"], root, env)) for _ in range(args.reps)]
    doc["diff"] = diffs
    as_json = run_ok([seeknal, "diff", "dev", "--json"], root, env)
    doc["diff_json"] = _brief(as_json)
    node = next(n for n in json.loads(as_json["stdout"])["nodes"] if n["id"] == "transform.facts")
    found = {k: node[k] for k in ("rows_added", "rows_removed", "rows_changed")}
    doc["expected"] = expected_counts(args.rows, args.added)
    doc["found"] = {**found, "rows_before": node["rows_before"], "rows_after": node["rows_after"]}
    doc["counts_match"] = found == doc["expected"]
    doc["report"] = _brief(run_ok([seeknal, "report", "dev", "-f", "markdown"], root, env))
    return [
        ("rows production / env", f"{node['rows_before']:,} / {node['rows_after']:,}"),
        (
            "parquet production / env",
            "{production:.0f} MB / {env:.0f} MB".format(**doc["output_mb"]),
        ),
        (
            "added / removed / changed",
            "{rows_added:,} / {rows_removed:,} / {rows_changed:,}".format(**found),
        ),
        ("counts as expected", "yes" if doc["counts_match"] else f"NO, expected {doc['expected']}"),
        ("production run (2 nodes)", f"{doc['prod_run']['wall_s']:.2f} s"),
        ("run --env dev (1 node)", f"{doc['env_run']['wall_s']:.2f} s"),
        (f"seeknal diff dev, median of {len(diffs)}", f"{med(d['wall_s'] for d in diffs):.2f} s"),
        ("seeknal diff dev, peak RSS (max)", f"{max(d['maxrss_mb'] for d in diffs):.0f} MB"),
        (
            "seeknal diff dev --json",
            f"{doc['diff_json']['wall_s']:.2f} s, {doc['diff_json']['maxrss_mb']:.0f} MB",
        ),
        (
            "seeknal report dev -f markdown",
            f"{doc['report']['wall_s']:.2f} s, {doc['report']['maxrss_mb']:.0f} MB",
        ),
    ]


def _brief(res: dict) -> dict:
    return {k: res[k] for k in ("wall_s", "maxrss_mb", "user_s", "sys_s")}


if __name__ == "__main__":
    sys.exit(main())
