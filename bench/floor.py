#!/usr/bin/env python3
"""The "plain DuckDB floor" for a (generated) seeknal project.

Executes the project's SQL back to back in ONE DuckDB connection with no framework around it:
for every node in topological order

    COPY (<sql, with ref('kind.name') -> read_parquet('<out>/<kind>_<name>.parquet')>)
        TO '<out>/<kind>_<name>.parquet' (FORMAT parquet)

and for csv sources ``COPY (SELECT * FROM read_csv_auto('<csv>')) TO ...``.

Usage:
    python bench/floor.py PROJECT_DIR [--out DIR] [--repeat K] [--json]

Prints the total seconds (parse + SQL, measured inside the process, i.e. excluding interpreter
start-up and the duckdb import).  With --repeat K it runs K times (fresh output dir and
connection each time) and reports every run plus the median.  --json prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections import deque
from pathlib import Path

import duckdb
import yaml

try:
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml missing
    _Loader = yaml.SafeLoader  # type: ignore[misc]

REF_RE = re.compile(r"""ref\(\s*['"]([A-Za-z0-9_]+)\.([A-Za-z0-9_]+)['"]\s*\)""")


def load_nodes(project_dir: Path) -> dict[str, dict]:
    """Return {"kind.name": node_dict} for every YAML node under PROJECT/seeknal/."""
    nodes: dict[str, dict] = {}
    for path in sorted((project_dir / "seeknal").rglob("*.yml")):
        with open(path, encoding="utf-8") as fh:
            doc = yaml.load(fh, Loader=_Loader)
        if not isinstance(doc, dict) or "kind" not in doc or "name" not in doc:
            continue
        nodes[f"{doc['kind']}.{doc['name']}"] = doc
    return nodes


def _deps(doc: dict) -> list[str]:
    deps = []
    for inp in doc.get("inputs") or []:
        ref = inp.get("ref") if isinstance(inp, dict) else inp
        if ref:
            deps.append(ref)
    for kind, name in REF_RE.findall(doc.get("transform") or ""):
        deps.append(f"{kind}.{name}")
    return list(dict.fromkeys(deps))


def topo_order(nodes: dict[str, dict]) -> list[str]:
    deps = {k: _deps(v) for k, v in nodes.items()}
    for k, ds in deps.items():
        missing = [d for d in ds if d not in nodes]
        if missing:
            raise SystemExit(f"{k}: unknown inputs {missing}")
    indeg = {k: len(ds) for k, ds in deps.items()}
    children: dict[str, list[str]] = {k: [] for k in nodes}
    for k, ds in deps.items():
        for d in ds:
            children[d].append(k)
    q = deque(sorted(k for k, d in indeg.items() if d == 0))
    order = []
    while q:
        k = q.popleft()
        order.append(k)
        for c in children[k]:
            indeg[c] -= 1
            if indeg[c] == 0:
                q.append(c)
    if len(order) != len(nodes):
        raise SystemExit("cycle in the DAG")
    return order


def _q(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def build_statements(project_dir: Path, out_dir: Path) -> list[tuple[str, str]]:
    nodes = load_nodes(project_dir)
    stmts = []
    for key in topo_order(nodes):
        doc = nodes[key]
        kind, name = key.split(".", 1)
        target = out_dir / f"{kind}_{name}.parquet"
        if kind == "source":
            src = doc.get("source", "csv")
            if src != "csv":
                raise SystemExit(f"{key}: unsupported source type {src!r}")
            csv = Path(doc["table"])
            if not csv.is_absolute():
                csv = project_dir / csv
            sql = f"SELECT * FROM read_csv_auto({_q(str(csv))})"
        else:
            sql = REF_RE.sub(
                lambda m: f"read_parquet({_q(str(out_dir / f'{m[1]}_{m[2]}.parquet'))})",
                doc["transform"].strip().rstrip(";"),
            )
        stmts.append((key, f"COPY ({sql}) TO {_q(str(target))} (FORMAT parquet)"))
    return stmts


def run_floor(project_dir: str | Path, out_dir: str | Path | None = None) -> dict:
    """Parse the project and execute all nodes once; return timings (seconds)."""
    project_dir = Path(project_dir).resolve()
    tmp = None
    if out_dir is None:
        tmp = tempfile.mkdtemp(prefix="seeknal-floor-")
        out = Path(tmp)
    else:
        out = Path(out_dir).resolve()
        out.mkdir(parents=True, exist_ok=True)
    try:
        t0 = time.perf_counter()
        stmts = build_statements(project_dir, out)
        t1 = time.perf_counter()
        con = duckdb.connect()
        for key, stmt in stmts:
            try:
                con.execute(stmt)
            except duckdb.Error as e:
                raise SystemExit(f"floor: {key} failed: {e}\n{stmt}") from e
        con.close()
        t2 = time.perf_counter()
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    return {
        "nodes": len(stmts),
        "parse_s": t1 - t0,
        "sql_s": t2 - t1,
        "total_s": t2 - t0,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("project_dir")
    ap.add_argument("--out", help="output dir for parquet files (default: temp dir, deleted)")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ns = ap.parse_args(argv)
    runs = [run_floor(ns.project_dir, ns.out) for _ in range(max(1, ns.repeat))]
    res = {
        "nodes": runs[0]["nodes"],
        "runs": runs,
        "total_s": statistics.median(r["total_s"] for r in runs),
        "sql_s": statistics.median(r["sql_s"] for r in runs),
        "parse_s": statistics.median(r["parse_s"] for r in runs),
        "duckdb_version": duckdb.__version__,
    }
    if ns.json:
        print(json.dumps(res))
    else:
        for i, r in enumerate(runs):
            print(
                f"run {i + 1}: {r['nodes']} nodes  parse {r['parse_s']:.3f}s  "
                f"sql {r['sql_s']:.3f}s  total {r['total_s']:.3f}s"
            )
        print(f"total seconds: {res['total_s']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
