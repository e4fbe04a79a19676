#!/usr/bin/env python3
"""Side by side: the older seeknal (2.13.0) and this one on the same projects, node by node.

Usage:
    python bench/compare_older.py PROJECT [PROJECT ...] [--older-venv DIR] [--workdir DIR]
                                  [--keep] [--json OUT]

For each project folder: two copies, each a fresh git repository with the project committed.
The older seeknal runs `seeknal run` in one; this seeknal (the interpreter running this script)
runs `seeknal plan` then `seeknal run` in the other. Then every node of the project is compared:

* nodes with a data output: the older tool's file (target/intermediate/<kind>_<name>.parquet,
  target/aggregation/<name>/result.parquet, an exposure's params.path) against ours (the
  `output_path` of our run state), as multisets of rows over the columns both have, row order
  aside. A timestamp column whose every value lies within its tool's own run is the run's
  timestamp (e.g. CURRENT_TIMESTAMP AS processed_at) and is left out; DATE and TIMESTAMP are
  compared as timestamps, numbers as doubles rounded to 9 decimals. Profiles (rows of
  column_name, metric, value, detail) have two values that no two runs share: freshness_hours
  (hours to the run's clock) is set aside when the two runs' values differ by no more than the
  time between the runs allows, and in a top_values list whose column has more distinct values
  than the list holds, the values tied at the list's last count are compared by count only
  (which tied values the older tool keeps, and their order, depend on DuckDB's thread count).
* rules: the outcome (passed, or the number of violating rows) of both runs.
* semantic models: `seeknal query --metrics` in both, with the model's measures and metrics by
  each of its dimensions (time dimensions by month) and its cumulative metrics by its time
  dimension, rows compared as multisets (numbers rounded to 6 decimals).
* nodes that have no output in either tool (metrics, documenting exposures) are counted as not
  compared.
* the feature store's consolidated files of each entity: target/feature_store/<entity>/
  features.parquet (rows, as above; a struct column read as the older tool's struct type) and
  _entity_catalog.json (every field but last_updated and consolidated_at, the run's own times;
  a DATE column's type read as TIMESTAMP, the type the older tool's pandas step gave it).

Printed per node kind: compared / matched / differing (each with its first difference) / not
run (which tool gave nothing, and why when it said). The older tool is taken from
--older-venv (default bench/out/venv-older), created with `seeknal==2.13.0` and `uv` (which
runs its Python nodes) when that folder has no `bin/seeknal`.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import yaml

HERE = Path(__file__).resolve().parent
OLDER = "seeknal==2.13.0"
SLACK_S = 5.0  # a run's own timestamps may lie this far outside its wall-clock window
NO_OUTPUT_KINDS = {"metric", "model"}


@dataclass
class Result:
    node: str
    kind: str
    outcome: str  # matched | differing | not run | not compared
    detail: str = ""


@dataclass
class Side:
    root: Path
    started: float = 0.0
    ended: float = 0.0
    exit_code: int = 0
    tool: Path | None = None
    log: str = ""
    state: dict[str, Any] = field(default_factory=dict)


def ensure_older(venv: Path) -> Path:
    seeknal = venv / "bin" / "seeknal"
    if seeknal.exists():
        return seeknal
    print(f"installing {OLDER} and uv into {venv} ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, OLDER, "uv"], check=True)
    return seeknal


def git_copy(project: Path, dest: Path) -> Path:
    shutil.copytree(project, dest, ignore=shutil.ignore_patterns(".git", "target", "__pycache__"))
    env = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@localhost",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@localhost"}  # fmt: skip
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "project"]):
        subprocess.run(["git", *args], cwd=dest, env=env, check=True, capture_output=True)
    return dest


def run_side(side: Side, commands: list[list[str]], path_prefix: Path) -> None:
    env = {**os.environ, "PATH": f"{path_prefix}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("VIRTUAL_ENV", None)
    side.started = time.time()
    logs = []
    for command in commands:
        proc = subprocess.run(command, cwd=side.root, env=env, capture_output=True, text=True)
        logs.append(f"$ {' '.join(command)}\n{proc.stdout}{proc.stderr}")
        side.exit_code = proc.returncode or side.exit_code
    side.ended = time.time()
    side.log = "\n".join(logs)
    state = side.root / "target" / "run_state.json"
    side.state = json.loads(state.read_text()).get("nodes", {}) if state.exists() else {}


def project_nodes(root: Path) -> dict[str, dict[str, Any]]:
    """Every YAML node (id -> its YAML) and every Python node of the project, as our loader
    sees them (our run state and manifest name the Python ones)."""
    nodes: dict[str, dict[str, Any]] = {}
    for path in sorted((root / "seeknal").rglob("*.y*ml")):
        if "common" in path.relative_to(root / "seeknal").parts[:1]:
            continue
        for doc in yaml.safe_load_all(path.read_text()):
            if isinstance(doc, dict) and doc.get("kind") and doc.get("name"):
                nodes[f"{doc['kind']}.{doc['name']}"] = doc
    manifest = root / "target" / "manifest.json"
    if manifest.exists():
        for node_id, entry in json.loads(manifest.read_text()).get("nodes", {}).items():
            nodes.setdefault(node_id, {"kind": entry.get("type") or node_id.split(".")[0]})
    return nodes


def older_output(root: Path, node_id: str, doc: dict[str, Any]) -> Path | None:
    kind, name = node_id.split(".", 1)
    if kind == "exposure":
        target = (doc.get("params") or {}).get("path")
        return root / target if target else None
    for rel in (
        f"target/intermediate/{kind}_{name}.parquet",
        f"target/{kind}/{name}/result.parquet",
    ):
        if (root / rel).exists():
            return root / rel
    return None


def read_rel(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> None:
    suffix = path.suffix.lower()
    reader = {".csv": "read_csv_auto", ".json": "read_json_auto", ".jsonl": "read_json_auto"}
    fn = reader.get(suffix, "read_parquet")
    target = f"{path}/**/*.parquet" if path.is_dir() else str(path)
    quoted = target.replace("'", "''")
    con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM {fn}('{quoted}')")


def columns(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    return {r[0]: str(r[1]) for r in con.execute(f"DESCRIBE {table}").fetchall()}


def run_stamp(con: duckdb.DuckDBPyConnection, table: str, col: str, side: Side) -> bool:
    """Whether every value of a timestamp column lies within the run that wrote it."""
    q = f'SELECT min(epoch("{col}")), max(epoch("{col}")), count("{col}") FROM {table}'
    low, high, count = con.execute(q).fetchone() or (None, None, 0)
    if not count:
        return False
    return side.started - SLACK_S <= low and high <= side.ended + SLACK_S


def normalised(col: str, kind_a: str, kind_b: str) -> str:
    quoted = '"' + col.replace('"', '""') + '"'
    kinds = {kind_a.upper(), kind_b.upper()}
    if any(k.startswith(("DATE", "TIMESTAMP")) for k in kinds):
        return f"CAST({quoted} AS TIMESTAMP) AS {quoted}"
    numeric = ("DOUBLE", "FLOAT", "DECIMAL", "REAL", "BIGINT", "INTEGER", "HUGEINT", "SMALLINT")
    if all(k.startswith(numeric) for k in kinds) and kinds - {"BIGINT", "INTEGER"}:
        return f"round(CAST({quoted} AS DOUBLE), 9) AS {quoted}"
    if kinds == {kind_a.upper()}:
        return quoted
    if any(k.startswith("STRUCT") for k in kinds):
        return f"CAST({quoted} AS {kind_a}) AS {quoted}"  # e.g. a DATE field as the older's
    return f"CAST({quoted} AS VARCHAR) AS {quoted}"


PROFILE_COLUMNS = {"column_name", "metric", "value", "detail"}


def settle_profiles(con: duckdb.DuckDBPyConnection, old_side: Side, our_side: Side) -> list[str]:
    """Set aside what two profile runs cannot share (see the module's docstring); what was."""
    notes = []
    fresh = "SELECT column_name, CAST(value AS DOUBLE) FROM {} WHERE metric = 'freshness_hours'"
    a = dict(con.execute(fresh.format("a")).fetchall())
    b = dict(con.execute(fresh.format("b")).fetchall())
    low = old_side.started - our_side.ended - SLACK_S
    high = old_side.ended - our_side.started + SLACK_S
    for col in set(a) & set(b):
        if a[col] is not None and b[col] is not None and low <= (a[col] - b[col]) * 3600 <= high:
            for table in ("a", "b"):
                con.execute(
                    f"UPDATE {table} SET value = 'run clock' "
                    "WHERE metric = 'freshness_hours' AND column_name = ?",
                    [col],
                )
            notes.append(f"{col}.freshness_hours")
    for table in ("a", "b"):
        distinct = dict(
            con.execute(
                f"SELECT column_name, value FROM {table} WHERE metric = 'distinct_count'"
            ).fetchall()
        )
        tops = con.execute(
            f"SELECT column_name, detail FROM {table} WHERE metric = 'top_values'"
        ).fetchall()
        for col, detail in tops:
            entries = sorted(json.loads(detail or "[]"), key=lambda e: (-e["count"], e["value"]))
            if entries and str(len(entries)) != str(distinct.get(col)):
                last = entries[-1]["count"]
                entries = [{**e, "value": "(tied)"} if e["count"] == last else e for e in entries]
            con.execute(
                f"UPDATE {table} SET detail = ? WHERE metric = 'top_values' AND column_name = ?",
                [json.dumps(entries), col],
            )
    return notes


def compare_data(older: Path, ours: Path, old_side: Side, our_side: Side) -> tuple[bool, str]:
    con = duckdb.connect()
    try:
        read_rel(con, older, "a")
        read_rel(con, ours, "b")
        ca, cb = columns(con, "a"), columns(con, "b")
        settled = []
        if PROFILE_COLUMNS == set(ca) == set(cb):
            settled = settle_profiles(con, old_side, our_side)
        stamps = {
            c for c in set(ca) & set(cb)
            if ca[c].upper().startswith("TIMESTAMP") and run_stamp(con, "a", c, old_side)
            and cb[c].upper().startswith("TIMESTAMP") and run_stamp(con, "b", c, our_side)
        }  # fmt: skip
        only_a, only_b = sorted(set(ca) - set(cb)), sorted(set(cb) - set(ca))
        if only_a or only_b:
            return False, f"columns only in the older output: {only_a}, only in ours: {only_b}"
        cols = [c for c in ca if c not in stamps]
        sel = ", ".join(normalised(c, ca[c], cb[c]) for c in cols)
        na = con.execute("SELECT count(*) FROM a").fetchone()[0]  # type: ignore[index]
        nb = con.execute("SELECT count(*) FROM b").fetchone()[0]  # type: ignore[index]
        first_a = con.execute(f"SELECT {sel} FROM a EXCEPT ALL SELECT {sel} FROM b LIMIT 1")
        row_a = first_a.fetchone()
        row_b = con.execute(
            f"SELECT {sel} FROM b EXCEPT ALL SELECT {sel} FROM a LIMIT 1"
        ).fetchone()
        if row_a is None and row_b is None and na == nb:
            note = f" (run timestamps left out: {sorted(stamps)})" if stamps else ""
            note += f" (run clock left out: {sorted(settled)})" if settled else ""
            return True, f"{na} rows{note}"
        return False, (
            f"{na} rows vs {nb}; first row only in the older output: {row_a}; only in ours: {row_b}"
        )
    finally:
        con.close()


def rule_outcome(entry: dict[str, Any], older: bool) -> str:
    if older:
        meta = entry.get("metadata") or {}
        if entry.get("status") != "success":
            return f"failed ({entry.get('status')})"
        if "warned" in meta or "failed" in meta:  # profile checks count their outcomes
            return "violations" if meta.get("warned") or meta.get("failed") else "passed"
        return "passed" if meta.get("passed", True) else "violations"
    if entry.get("status") not in ("success", "cached"):
        return f"failed ({entry.get('status')})"
    return "violations" if entry.get("warnings") else "passed"


def compare_node(node_id: str, doc: dict[str, Any], old: Side, ours: Side) -> Result:
    kind = str(doc.get("kind") or node_id.split(".")[0])
    old_entry, our_entry = old.state.get(node_id), ours.state.get(node_id)
    if kind in NO_OUTPUT_KINDS or (kind == "exposure" and doc.get("type", "file") != "file"):
        return Result(node_id, kind, "not compared", "no data output in either tool")
    if kind == "semantic_model":
        return compare_metrics(node_id, doc, old, ours)
    if kind == "rule":
        if not old_entry or not our_entry:
            return Result(node_id, kind, "not run", missing(old_entry, our_entry))
        a, b = rule_outcome(old_entry, True), rule_outcome(our_entry, False)
        same = a == b
        return Result(node_id, kind, "matched" if same else "differing", f"older {a}, ours {b}")
    older_path = older_output(old.root, node_id, doc)
    our_rel = (our_entry or {}).get("output_path")
    our_path = ours.root / our_rel if our_rel else None
    if older_path is None or not older_path.exists() or our_path is None or not our_path.exists():
        return Result(
            node_id,
            kind,
            "not run",
            missing(older_path and older_path.exists(), our_path and our_path.exists(), our_entry),
        )
    try:
        same, detail = compare_data(older_path, our_path, old, ours)
    except duckdb.Error as exc:
        return Result(node_id, kind, "differing", f"could not compare: {exc}".splitlines()[0])
    return Result(node_id, kind, "matched" if same else "differing", detail)


def metric_queries(doc: dict[str, Any]) -> list[list[str]]:
    """`query --metrics` arguments covering a semantic model: its measures and non-cumulative
    metrics by each dimension (time ones by month), cumulative ones by the time dimension."""
    plain = [m["name"] for m in doc.get("measures") or []]
    cumulative = []
    for metric in doc.get("metrics") or []:
        (cumulative if metric.get("type") == "cumulative" else plain).append(metric["name"])
    queries = [["--metrics", ",".join(plain)]] if plain else []
    for dim in doc.get("dimensions") or []:
        name = dim["name"] + ("__month" if dim.get("type") == "time" else "")
        queries += [["--metrics", ",".join(plain), "--dimensions", name]] if plain else []
    time = doc.get("default_time_dimension")
    if cumulative and time:
        queries.append(["--metrics", ",".join(cumulative), "--dimensions", time])
    return queries


def query_rows(side: Side, command: list[str], args: list[str]) -> Counter[tuple[str, ...]]:
    full = [*command, "query", *args, "--format", "csv", "--limit", "1000000"]
    proc = subprocess.run(full, cwd=side.root, capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError((proc.stderr or proc.stdout).strip().splitlines()[0])
    lines = proc.stdout.split("\n\n")[0].strip().splitlines()  # the older tool adds a count
    found: Counter[tuple[str, ...]] = Counter()
    for row in csv.reader(lines[1:]):
        found[tuple(_rounded(v) for v in row)] += 1
    found[("columns:", *next(csv.reader(lines[:1]), []))] = 1
    return found


def _rounded(value: str) -> str:
    try:
        return repr(round(float(value), 6)) if "." in value else value
    except ValueError:
        return value


def compare_metrics(node_id: str, doc: dict[str, Any], old: Side, ours: Side) -> Result:
    if node_id not in old.state:
        return Result(node_id, "semantic_model", "not run", "the older tool did not register it")
    queries = metric_queries(doc)
    for args in queries:
        try:
            a = query_rows(old, [str(old.tool)], args)
            b = query_rows(ours, [sys.executable, "-m", "seeknal"], args)
        except RuntimeError as exc:
            return Result(node_id, "semantic_model", "differing", f"{' '.join(args)}: {exc}")
        if a != b:
            first = sorted((a - b) or (b - a))[0]
            side = "older" if a - b else "ours"
            return Result(node_id, "semantic_model", "differing",
                          f"query {' '.join(args)}: row only in {side}: {first}")  # fmt: skip
    return Result(node_id, "semantic_model", "matched", f"{len(queries)} metric queries")


def missing(older: Any, ours: Any, our_entry: dict[str, Any] | None = None) -> str:
    gone = [name for name, there in (("older", older), ("ours", ours)) if not there]
    why = ""
    if our_entry and our_entry.get("status") not in (None, "success", "cached"):
        why = f" (ours: {our_entry.get('status')})"
    return f"no output from {' and '.join(gone)}{why}"


def compare_project(project: Path, older: Path, workdir: Path) -> list[Result]:
    old = Side(git_copy(project, workdir / "older"), tool=older)
    ours = Side(git_copy(project, workdir / "ours"))
    run_side(old, [[str(older), "run"]], older.parent)
    ours_cmd = [sys.executable, "-m", "seeknal"]
    # uv (installed beside the older tool) runs Python nodes whose packages seeknal's own
    # environment lacks, as it would on a user's PATH
    path = f"{Path(sys.executable).parent}{os.pathsep}{older.parent}"
    run_side(ours, [[*ours_cmd, "plan"], [*ours_cmd, "run"]], Path(path))
    (workdir / "older.log").write_text(old.log)
    (workdir / "ours.log").write_text(ours.log)
    nodes = {**project_nodes(old.root), **project_nodes(ours.root)}
    for node_id in set(old.state) | set(ours.state):
        nodes.setdefault(node_id, {"kind": node_id.split(".")[0]})
    results = [compare_node(n, nodes[n], old, ours) for n in sorted(nodes)]
    return results + compare_feature_store(old, ours)


STORE = Path("target") / "feature_store"
RUN_CLOCK = ("last_updated", "consolidated_at")  # the run's own time, in both catalogs


def compare_feature_store(old: Side, ours: Side) -> list[Result]:
    """Each entity's consolidated features.parquet (rows) and _entity_catalog.json (all but the
    run's own times; DATE and TIMESTAMP as one type) of both tools."""
    entities = {
        p.parent.name
        for side in (old, ours)
        for p in (side.root / STORE).glob("*/features.parquet")
    }
    results = []
    for entity in sorted(entities):
        a, b = old.root / STORE / entity, ours.root / STORE / entity
        for name, kind in (("features.parquet", "entity features"), ("_entity_catalog.json",
                                                                      "entity catalog")):  # fmt: skip
            label = f"{STORE.as_posix()}/{entity}/{name}"
            if not (a / name).exists() or not (b / name).exists():
                gone = missing((a / name).exists(), (b / name).exists())
                results.append(Result(label, kind, "not run", gone))
            elif name.endswith(".json"):
                same, detail = compare_catalogs(a / name, b / name)
                results.append(Result(label, kind, "matched" if same else "differing", detail))
            else:
                same, detail = compare_data(a / name, b / name, old, ours)
                results.append(Result(label, kind, "matched" if same else "differing", detail))
    return results


def _catalog(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text())
    for key in RUN_CLOCK:
        data.pop(key, None)
    for group in data.get("feature_groups", {}).values():
        for key in RUN_CLOCK:
            group.pop(key, None)
        group["schema"] = {c: t.replace("DATE", "TIMESTAMP") if t == "DATE" else t
                           for c, t in sorted(group.get("schema", {}).items())}  # fmt: skip
    return data


def compare_catalogs(older: Path, ours: Path) -> tuple[bool, str]:
    a, b = _catalog(older), _catalog(ours)
    if a == b:
        groups = ", ".join(sorted(a.get("feature_groups", {})))
        return True, f"groups {groups}; times of the run left out"
    keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
    return (
        False,
        f"differs in {keys}: older {[a.get(k) for k in keys]}, ours {[b.get(k) for k in keys]}",
    )


def report(project: Path, results: list[Result]) -> None:
    print(f"\n== {project} ==")
    by_kind: dict[str, Counter[str]] = {}
    for r in results:
        by_kind.setdefault(r.kind, Counter())[r.outcome] += 1
    head = f"{'kind':<26} {'compared':>8} {'matched':>8} {'differing':>9} {'not run':>8} {'n/a':>4}"
    print(head + "\n" + "-" * len(head))
    total: Counter[str] = Counter()
    for kind in sorted(by_kind):
        c = by_kind[kind]
        total.update(c)
        compared = c["matched"] + c["differing"]
        print(f"{kind:<26} {compared:>8} {c['matched']:>8} {c['differing']:>9} "
              f"{c['not run']:>8} {c['not compared']:>4}")  # fmt: skip
    compared = total["matched"] + total["differing"]
    print(f"{'total':<26} {compared:>8} {total['matched']:>8} {total['differing']:>9} "
          f"{total['not run']:>8} {total['not compared']:>4}")  # fmt: skip
    for r in results:
        if r.outcome in ("differing", "not run"):
            print(f"  {r.outcome:<9} {r.node}: {r.detail}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("projects", nargs="+", type=Path)
    parser.add_argument("--older-venv", type=Path, default=HERE / "out" / "venv-older")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the two copies of each project")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args(argv)
    older = ensure_older(args.older_venv.resolve())
    base = Path(tempfile.mkdtemp(prefix="seeknal-compare-", dir=args.workdir))
    everything: dict[str, list[dict[str, str]]] = {}
    try:
        for i, project in enumerate(args.projects):
            results = compare_project(project.resolve(), older, base / f"p{i}")
            report(project, results)
            everything[str(project)] = [asdict(r) for r in results]
    finally:
        if args.keep:
            print(f"\ncopies kept in {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(everything, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
