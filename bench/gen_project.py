#!/usr/bin/env python3
"""Generate a synthetic seeknal project with N nodes (for benchmarks).

Usage:
    python bench/gen_project.py N OUTDIR [--seed S] [--change t_K]
    python bench/gen_project.py OUTDIR --change t_K     # mutate an existing project only

Layout written under OUTDIR:
    seeknal_project.yml
    .gitignore                      (ignores target/)
    data/src_<i>.csv                (columns id, grp, val, ts; 50-200 rows, ids 0..rows-1)
    seeknal/sources/src_<i>.yml     (max(3, N // 100) csv sources)
    seeknal/transforms/t_<i>.yml    (the remaining nodes, in layers)

Every node outputs exactly the columns (id BIGINT, grp VARCHAR, val DOUBLE, ts TIMESTAMP) with
unique ids, so any node can be joined/unioned with any other.  Row counts stay within 50-200:
sources hold ids 0..rows-1 (rows >= 50), joins intersect on id, unions are deduplicated
per id, filters keep every row (the literal is far below any value) and aggregations group by id.

Every transform contains exactly one filter of the form ``val > -1000000`` (a literal of 7+
digits that nothing else uses); ``mutate()`` lowers that literal by one, which is a breaking
change of the node's logic (in practice it still keeps all rows, so downstream results stay valid).
"""

from __future__ import annotations

import argparse
import math
import random
import re
import shutil
import sys
from datetime import datetime, timedelta
from pathlib import Path

COLS = "id, grp, val, ts"
FILTER_LITERAL = -1000000
FILTER_RE = re.compile(r"val > (-\d{7,})\b")


def n_sources(n: int) -> int:
    return max(3, n // 100)


def layer_width(n: int) -> int:
    """Nodes per transform layer: ~sqrt(N), clamped to [10, 50]."""
    return max(10, min(50, round(math.sqrt(n))))


def _flt(lit: int = FILTER_LITERAL) -> str:
    return f"> {lit}"


def _ref(node: str) -> str:
    return f"ref('{node}')"


def _sql_single(rng: random.Random, p: str) -> str:
    kind = rng.randrange(4)
    r = _ref(p)
    if kind == 0:  # projection + filter
        mult = rng.choice(["0.5", "0.9", "1.1", "2"])
        return f"SELECT id, grp, val * {mult} - 1 AS val, ts FROM {r} WHERE val {_flt()}"
    if kind == 1:  # filter + derived columns
        return (
            f"SELECT id, upper(grp) AS grp, round(val, 3) AS val, ts + INTERVAL 1 HOUR AS ts "
            f"FROM {r} WHERE val {_flt()}"
        )
    if kind == 2:  # aggregation preserving the schema (group by the unique id)
        return (
            f"SELECT id, min(grp) AS grp, sum(val) / 2 AS val, max(ts) AS ts FROM {r} "
            f"WHERE val {_flt()} GROUP BY id"
        )
    # window function preserving the schema
    return (
        f"SELECT id, grp, (val + avg(val) OVER (PARTITION BY grp)) / 2 AS val, ts "
        f"FROM {r} WHERE val {_flt()}"
    )


def _sql_multi(rng: random.Random, parents: list[str]) -> str:
    if rng.random() < 0.5:  # join on id
        aliases = "abc"[: len(parents)]
        frm = f"{_ref(parents[0])} a"
        for al, p in zip(aliases[1:], parents[1:], strict=True):
            frm += f" JOIN {_ref(p)} {al} USING (id)"
        vsum = " + ".join(f"{al}.val" for al in aliases)
        return (
            f"SELECT id, a.grp, ({vsum}) / {len(parents)} AS val, a.ts FROM {frm} "
            f"WHERE a.val {_flt()}"
        )
    # union all + dedup per id
    union = " UNION ALL ".join(f"SELECT {COLS} FROM {_ref(p)}" for p in parents)
    return (
        f"SELECT {COLS} FROM ({union}) u WHERE val {_flt()} "
        f"QUALIFY row_number() OVER (PARTITION BY id ORDER BY ts, val, grp) = 1"
    )


def _write_csv(path: Path, rng: random.Random) -> int:
    rows = rng.randint(50, 200)
    base = datetime(2024, 1, 1)
    lines = ["id,grp,val,ts"]
    for i in range(rows):
        ts = base + timedelta(minutes=rng.randrange(0, 60 * 24 * 365))
        lines.append(f"{i},g{rng.randrange(5)},{rng.uniform(-100, 100):.3f},{ts:%Y-%m-%d %H:%M:%S}")
    path.write_text("\n".join(lines) + "\n")
    return rows


def generate(n: int, outdir: str | Path, seed: int = 0, overwrite: bool = True) -> dict:
    """Write the project; return a summary dict (counts, layers, edges)."""
    if n < 4:
        raise ValueError("N must be >= 4")
    out = Path(outdir)
    if overwrite:
        for sub in ("seeknal", "data"):
            if (out / sub).exists():
                shutil.rmtree(out / sub)
    rng = random.Random(seed)
    (out / "data").mkdir(parents=True, exist_ok=True)
    (out / "seeknal" / "sources").mkdir(parents=True, exist_ok=True)
    (out / "seeknal" / "transforms").mkdir(parents=True, exist_ok=True)
    (out / "seeknal_project.yml").write_text(
        "name: bench\nversion: 1.0.0\nprofile: default\nconfig-version: 1\nstate_backend: file\n"
    )
    (out / ".gitignore").write_text("target/\n")

    ns = n_sources(n)
    layers: list[list[str]] = [[]]
    for i in range(ns):
        name = f"src_{i}"
        _write_csv(out / "data" / f"{name}.csv", rng)
        (out / "seeknal" / "sources" / f"{name}.yml").write_text(
            f"kind: source\nname: {name}\nsource: csv\ntable: data/{name}.csv\n"
        )
        layers[0].append(f"source.{name}")

    width = layer_width(n)
    n_t = n - ns
    edges = 0
    for i in range(n_t):
        if i % width == 0:
            layers.append([])
        cur = len(layers) - 1
        earlier = [x for layer in layers[:cur] for x in layer]
        fan_in = min(rng.choice((1, 1, 2, 2, 3)), len(earlier))
        # first parent from the previous layer (gives depth), the rest anywhere earlier
        parents = [rng.choice(layers[cur - 1])]
        while len(parents) < fan_in:
            # bias towards recent layers: pick a layer, then a node in it
            lyr = layers[max(0, cur - 1 - int(rng.expovariate(0.5)))]
            cand = rng.choice(lyr)
            if cand not in parents:
                parents.append(cand)
        sql = _sql_single(rng, parents[0]) if fan_in == 1 else _sql_multi(rng, parents)
        name = f"t_{i}"
        inputs = "".join(f"  - ref: {p}\n" for p in parents)
        (out / "seeknal" / "transforms" / f"{name}.yml").write_text(
            f"kind: transform\nname: {name}\ndescription: synthetic node {i}\n"
            f"inputs:\n{inputs}transform: |\n  {sql}\n"
        )
        layers[cur].append(f"transform.{name}")
        edges += len(parents)
    return {
        "nodes": n,
        "sources": ns,
        "transforms": n_t,
        "layers": len(layers),
        "layer_width": width,
        "edges": edges,
        "seed": seed,
    }


def mutate(project_dir: str | Path, node_name: str) -> str:
    """Breaking change to transform `node_name` (e.g. "t_17" or "transform.t_17"):
    lowers its filter literal by 1.  Returns the new SQL line."""
    name = node_name.split(".", 1)[-1]
    path = Path(project_dir) / "seeknal" / "transforms" / f"{name}.yml"
    text = path.read_text()
    m = FILTER_RE.search(text)
    if not m:
        raise ValueError(f"no bench filter literal found in {path}")
    new = FILTER_RE.sub(lambda mm: f"val {_flt(int(mm.group(1)) - 1)}", text, count=1)
    path.write_text(new)
    return next(line.strip() for line in new.splitlines() if FILTER_RE.search(line))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument(
        "args", nargs="+", metavar="N OUTDIR", help="N OUTDIR, or just OUTDIR with --change"
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--change", metavar="t_K", help="mutate this transform (after generating)")
    ns = ap.parse_args(argv)
    if len(ns.args) == 2:
        info = generate(int(ns.args[0]), ns.args[1], seed=ns.seed)
        outdir = ns.args[1]
        print(
            f"generated {info['nodes']} nodes ({info['sources']} sources, {info['transforms']} "
            f"transforms, {info['layers']} layers of <= {info['layer_width']}, "
            f"{info['edges']} edges) in {outdir}"
        )
    elif len(ns.args) == 1 and ns.change:
        outdir = ns.args[0]
    else:
        ap.error("expected N OUTDIR (or OUTDIR --change t_K)")
    if ns.change:
        print(f"changed {ns.change}: {mutate(outdir, ns.change)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
