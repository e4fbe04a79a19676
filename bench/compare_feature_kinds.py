"""Run the older seeknal (2.13.0) and this one on the same projects; compare every node's rows.

    python bench/compare_feature_kinds.py [--project DIR ...] [--older PATH/TO/seeknal]

Default project: tests/projects/feature_kinds (sources, transforms, feature groups, an
aggregation and a second-order aggregation in the older tool's style). Without --older, the
older tool is installed (with `uv`, which runs its Python nodes) into a venv of its own under
~/.cache/seeknal-bench/older-2.13.0 the first time.

Each project is copied twice into a temp folder, made a git repository and run with
`seeknal run` by each tool. Every node both tools wrote is compared as a multiset of rows:
columns matched by name, DATE read as TIMESTAMP (the older tool passes feature groups and
aggregations through pandas, which turns dates into timestamps), doubles rounded to 9 places,
and columns holding the run's own timestamp (every value within the run) left aside. The
report says, per kind, how many nodes were compared and how many matched row for row.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

HERE = Path(__file__).resolve().parent
DEFAULT_PROJECT = HERE.parent / "tests" / "projects" / "feature_kinds"
OLDER = "seeknal==2.13.0"
OLDER_VENV = Path.home() / ".cache" / "seeknal-bench" / "older-2.13.0"


def older_seeknal(given: str | None) -> Path:
    """The older tool's executable: the one given, or one installed in a venv of its own."""
    if given:
        return Path(given)
    exe = OLDER_VENV / "bin" / "seeknal"
    if not exe.exists():
        print(f"installing {OLDER} and uv into {OLDER_VENV} ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(OLDER_VENV)], check=True)
        pip = [str(OLDER_VENV / "bin" / "python"), "-m", "pip", "install", "-q", OLDER, "uv"]
        subprocess.run(pip, check=True)
    return exe


def prepare(project: Path, into: Path) -> Path:
    shutil.copytree(project, into, ignore=shutil.ignore_patterns("target", ".git"))
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "project"]):
        subprocess.run(["git", *args], cwd=into, check=True, capture_output=True)
    return into


def run(cmd: list[str], cwd: Path) -> tuple[float, float, int]:
    """Run a tool; (start, end) epoch seconds and its exit code."""
    env_path = str(Path(cmd[0]).parent)
    start = time.time()
    proc = subprocess.run(
        cmd,
        cwd=cwd,
        capture_output=True,
        text=True,
        env={"PATH": f"{env_path}:/usr/bin:/bin", "HOME": str(Path.home())},
    )
    end = time.time()
    if proc.returncode != 0:
        print(f"  {' '.join(cmd[-2:])} exited {proc.returncode}: {proc.stdout[-400:]}")
    return start, end, proc.returncode


def older_output(root: Path, node_id: str) -> Path | None:
    """Where the older tool leaves a node's rows (its own layout under target/)."""
    kind, name = node_id.split(".", 1)
    candidates = [
        root / "target" / "intermediate" / f"{kind}_{name}.parquet",
        root / "target" / kind / name / "result.parquet",
    ]
    return next((p for p in candidates if p.exists()), None)


def ours(root: Path) -> dict[str, tuple[str, Path]]:
    """node id → (kind, output file) from this tool's run state."""
    import json

    state = json.loads((root / "target" / "run_state.json").read_text())
    found = {}
    for node_id, entry in state["nodes"].items():
        path = root / str(entry.get("output_path") or "")
        if entry.get("status") in ("success", "cached") and path.is_file():
            found[node_id] = (node_id.split(".", 1)[0], path)
    return found


def _columns(con: Any, path: Path) -> list[tuple[str, str]]:
    reader = "read_csv_auto" if path.suffix == ".csv" else "read_parquet"
    described = con.execute(f"DESCRIBE SELECT * FROM {reader}('{path}')").fetchall()
    return [(row[0], row[1]) for row in described]


def _normalised(name: str, dtype: str) -> str:
    col = '"' + name.replace('"', '""') + '"'
    if dtype == "DATE":
        return f"CAST({col} AS TIMESTAMP) AS {col}"
    if dtype in ("DOUBLE", "FLOAT") or dtype.startswith("DECIMAL"):
        return f"round(CAST({col} AS DOUBLE), 9) AS {col}"
    if dtype == "HUGEINT":
        return f"CAST({col} AS BIGINT) AS {col}"
    return col


def _run_clock(con: Any, path: Path, col: str, window: tuple[float, float]) -> bool:
    """Whether every value of a timestamp column falls within the run (the run's own time)."""
    low = datetime.fromtimestamp(window[0] - 5).isoformat(sep=" ")
    high = datetime.fromtimestamp(window[1] + 5).isoformat(sep=" ")
    sql = (
        f"SELECT bool_and(CAST(\"{col}\" AS TIMESTAMP) BETWEEN TIMESTAMP '{low}' "
        f"AND TIMESTAMP '{high}') FROM read_parquet('{path}')"
    )
    try:
        return bool(con.execute(sql).fetchone()[0])
    except duckdb.Error:
        return False


def compare(new: Path, old: Path, windows: tuple[tuple[float, float], ...]) -> str | None:
    """None when both files hold the same rows, else what differs."""
    con = duckdb.connect()
    try:
        a, b = dict(_columns(con, new)), dict(_columns(con, old))
        if set(a) != set(b):
            return f"columns differ: ours {sorted(a)} vs older {sorted(b)}"
        clock = {
            c
            for c, t in a.items()
            if t.startswith("TIMESTAMP") and any(_run_clock(con, new, c, w) for w in windows)
        }
        names = sorted(c for c in a if c not in clock)
        if not names:
            return None
        sel_a = ", ".join(_normalised(c, a[c]) for c in names)
        sel_b = ", ".join(_normalised(c, b[c]) for c in names)
        reader_b = "read_csv_auto" if old.suffix == ".csv" else "read_parquet"
        con.execute(f"CREATE VIEW x AS SELECT {sel_a} FROM read_parquet('{new}')")
        con.execute(f"CREATE VIEW y AS SELECT {sel_b} FROM {reader_b}('{old}')")
        only_new = con.execute("SELECT count(*) FROM (FROM x EXCEPT ALL FROM y)").fetchone()[0]
        only_old = con.execute("SELECT count(*) FROM (FROM y EXCEPT ALL FROM x)").fetchone()[0]
        if only_new or only_old:
            return f"{only_new} row(s) only in ours, {only_old} only in the older tool's"
        return None
    except duckdb.Error as exc:
        return f"could not compare: {exc}"
    finally:
        con.close()


def compare_project(project: Path, older: Path, work: Path) -> tuple[Counter, Counter, list[str]]:
    old_root = prepare(project, work / "older")
    new_root = prepare(project, work / "ours")
    old_window = run([str(older), "run"], old_root)
    new_window = run([sys.executable, "-m", "seeknal", "run"], new_root)
    windows = (old_window[:2], new_window[:2])
    compared: Counter = Counter()
    matched: Counter = Counter()
    notes = []
    for node_id, (kind, path) in sorted(ours(new_root).items()):
        old_path = older_output(old_root, node_id)
        if old_path is None:
            notes.append(f"{node_id}: the older tool wrote no rows for it")
            continue
        compared[kind] += 1
        problem = compare(path, old_path, windows)
        if problem is None:
            matched[kind] += 1
        else:
            notes.append(f"{node_id}: {problem}")
    return compared, matched, notes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--project", action="append", type=Path, help="project folder(s)")
    parser.add_argument("--older", help="the older seeknal executable (installed when omitted)")
    args = parser.parse_args()
    older = older_seeknal(args.older)
    projects = args.project or [DEFAULT_PROJECT]
    total, same = Counter(), Counter()
    for project in projects:
        with tempfile.TemporaryDirectory(prefix="seeknal-compare-") as tmp:
            compared, matched, notes = compare_project(project.resolve(), older, Path(tmp))
        print(f"{project}:")
        for kind in sorted(compared):
            print(f"  {kind:26} {matched[kind]}/{compared[kind]} matched row for row")
        for note in notes:
            print(f"  differs: {note}")
        total.update(compared)
        same.update(matched)
    print(f"all: {sum(same.values())}/{sum(total.values())} nodes matched")
    return 0 if same == total else 1


if __name__ == "__main__":
    raise SystemExit(main())
