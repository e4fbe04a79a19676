#!/usr/bin/env python3
"""Virtual-environment command benchmarks: plan ENV, run --env, promote (see bench/README.md).

Usage:
    python bench/bench_envs.py [--seeknal PATH] [--n 1000] [--plan-reps 5] [--promote-reps 5]
                               [--small-mb 10] [--big-mb 1000] [--small-reps 3] [--big-reps 2]
                               [--big-copy-reps 1] [--workdir DIR] [--keep]

Part A, on the generated N-node project (bench/gen_project.py, default 1,000 nodes) as a fresh
git repo on branch main:
  * ``seeknal run`` builds production (timed once, for context);
  * one transform of the middle layer (the one with the most downstream nodes) is changed with
    gen_project.mutate (a breaking filter-literal change);
  * ``seeknal plan dev``: whole-process wall time, median of --plan-reps fresh processes (each
    plan overwrites the previous one); one more ``seeknal plan dev --json`` gives
    nodes_to_execute, compared with 1 + the node's downstream count (from the YAML inputs);
  * ``seeknal run --env dev``: wall time and the number of nodes it executed; every file under
    target/ except target/environments/ is sha256-digested before and after to show production
    is untouched;
  * ``seeknal promote dev``: wall time; repeated --promote-reps times in total (each time the
    same node is mutated again, re-planned and re-run first; only the promote is timed).

Part B, promote cost vs data size: a 4-node project whose changed transform
(``SELECT *, val * 2 AS w FROM ref('source.big') WHERE val > -1000000``) outputs ~--small-mb
and ~--big-mb of parquet (the source parquet is generated with DuckDB; rows calibrated from a
sample).  For each size: production run, then per rep: mutate, plan dev, run --env dev, record
the env cache size, and time ``seeknal promote dev`` (move) or ``seeknal promote dev
--copy-data`` (copy); reps of the two modes are interleaved.  Needs ~4.5x --big-mb of free disk
(falls back to /work, then to half the size, if the temp dir has less than 6 GB); the big
project is always deleted at the end.

Results: a table on stdout and bench/out/envs.json.  A seeknal command that exits non-zero
aborts the benchmark (exit 1) with its output.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
import time
from collections import deque
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _measure import (  # noqa: E402
    CommandFailed,
    _tail,
    bench_env,
    diff_digests,
    digest_tree,
    du_bytes,
    find_seeknal,
    finish_bench,
    gen_project,
    git_init,
    med,
    meta,
    print_table,
    run_ok,
)

TOOL_FILES = (".seeknal-cache/", ".lock", ".lock.holder")  # not production state or data
ENV_DONE_RE = re.compile(
    r"done in ([\d.]+)s: (\d+) succeeded, (\d+) failed, (\d+) skipped", re.IGNORECASE
)
PROMOTE_RE = re.compile(r"in (\d+) ms: (\d+) output\(s\) (\w+), (\d+) removed")
REF_RE = re.compile(r"^\s*-\s*ref:\s*(\S+)\s*$", re.MULTILINE)


def log(msg: str) -> None:
    print(msg, flush=True)


# -- part A: the N-node project ------------------------------------------------------------------
def downstream_counts(repo: Path) -> dict[str, set[str]]:
    """node id -> set of all downstream node ids, from the `inputs:` of the generated YAML."""
    children: dict[str, list[str]] = {}
    nodes: list[str] = []
    for path in sorted((repo / "seeknal" / "transforms").glob("*.yml")):
        node = f"transform.{path.stem}"
        nodes.append(node)
        for parent in REF_RE.findall(path.read_text()):
            children.setdefault(parent, []).append(node)
    result: dict[str, set[str]] = {}
    for node in nodes:
        seen: set[str] = set()
        todo = deque(children.get(node, []))
        while todo:
            c = todo.popleft()
            if c not in seen:
                seen.add(c)
                todo.extend(children.get(c, []))
        result[node] = seen
    return result


def pick_middle_node(info: dict, down: dict[str, set[str]]) -> tuple[str, list[int]]:
    """The transform of the middle layer with the most downstream nodes (lowest index on ties)."""
    width, n_layers = info["layer_width"], info["layers"]  # layer 0 = sources
    mid = n_layers // 2
    idx = [i for i in range((mid - 1) * width, mid * width) if i < info["transforms"]]
    counts = [len(down[f"transform.t_{i}"]) for i in idx]
    best = max(range(len(idx)), key=lambda k: (counts[k], -idx[k]))
    return f"t_{idx[best]}", sorted(counts)


def parse_env_run(stdout: str) -> dict:
    m = ENV_DONE_RE.search(stdout)
    if not m:
        return {"parsed": False}
    return {
        "parsed": True,
        "internal_s": float(m.group(1)),
        "succeeded": int(m.group(2)),
        "failed": int(m.group(3)),
        "skipped": int(m.group(4)),
    }


def parse_promote(stdout: str) -> dict:
    m = PROMOTE_RE.search(stdout)
    if not m:
        return {"parsed": False}
    return {
        "parsed": True,
        "internal_ms": int(m.group(1)),
        "outputs": int(m.group(2)),
        "mode": m.group(3),
        "removed": int(m.group(4)),
    }


def part_a(args: argparse.Namespace, seeknal: str, env: dict, root: Path) -> dict:
    to = args.timeout
    repo = root / f"proj_{args.n}"
    repo.mkdir(parents=True)
    info = gen_project.generate(args.n, repo, seed=args.seed)
    git_init(repo, env)
    log(
        f"\n== part A: N={args.n} ({info['sources']} sources, {info['layers']} layers of "
        f"<= {info['layer_width']}, {info['edges']} edges) in {repo}"
    )
    r: dict = {"n": args.n, "project": info, "project_dir": str(repo)}

    run = run_ok([seeknal, "run", "-q"], repo, env, to)
    r["prod_run_s"] = run["wall_s"]
    log(f"  seeknal run (production build)   {run['wall_s']:.2f} s")

    down = downstream_counts(repo)
    node, mid_counts = pick_middle_node(info, down)
    node_id = f"transform.{node}"
    r["changed_node"] = node_id
    r["changed_node_downstream"] = len(down[node_id])
    r["middle_layer_downstream_counts"] = mid_counts
    changed_sql = gen_project.mutate(repo, node)
    log(
        f"  changed {node_id} (middle layer {info['layers'] // 2}; {len(down[node_id])} "
        f"downstream nodes; middle layer downstream counts {mid_counts[0]}..{mid_counts[-1]})"
    )
    r["changed_sql"] = changed_sql

    target = repo / "target"
    exclude = ("environments/",)
    digest_before_plan = digest_tree(target, exclude)

    plans = [run_ok([seeknal, "plan", "dev"], repo, env, to) for _ in range(args.plan_reps)]
    r["plan_env_s"] = med(p["wall_s"] for p in plans)
    r["plan_env_s_all"] = [p["wall_s"] for p in plans]
    r["plan_env_maxrss_mb"] = max(p["maxrss_mb"] for p in plans)
    r["plan_env_stdout_tail"] = _tail(plans[-1]["stdout"], 15)
    log(f"  seeknal plan dev                 median {r['plan_env_s']:.3f} s")

    pj = run_ok([seeknal, "plan", "dev", "--json"], repo, env, to)
    plan = json.loads(pj["stdout"])
    r["plan_env_json_s"] = pj["wall_s"]
    to_exec = list(plan.get("nodes_to_execute", []))
    r["plan_nodes_to_execute"] = len(to_exec)
    r["plan_categorized_changes"] = plan.get("categorized_changes")
    expected = {node_id} | down[node_id]
    r["plan_matches_downstream"] = set(to_exec) == expected
    r["plan_extra_nodes"] = sorted(set(to_exec) - expected)
    r["plan_missing_nodes"] = sorted(expected - set(to_exec))

    digest_before = digest_tree(target, exclude)
    env_run = run_ok([seeknal, "run", "--env", "dev"], repo, env, to)
    digest_after = digest_tree(target, exclude)
    parsed = parse_env_run(env_run["stdout"])
    r["run_env_s"] = env_run["wall_s"]
    r["run_env_maxrss_mb"] = env_run["maxrss_mb"]
    r["run_env_parsed"] = parsed
    r["run_env_stdout_tail"] = _tail(env_run["stdout"], 15)
    r["run_env_executed"] = parsed.get("succeeded")
    log(
        f"  seeknal run --env dev            {env_run['wall_s']:.3f} s, executed "
        f"{parsed.get('succeeded')} node(s); plan nodes_to_execute {len(to_exec)}; "
        f"changed node + downstream = {len(expected)}"
    )

    def classify(d: dict[str, list[str]]) -> dict:
        paths = d["changed"] + d["added"] + d["removed"]
        prod = [p for p in paths if not any(p.startswith(t) for t in TOOL_FILES)]
        return {"diff": d, "production_paths_differing": prod, "identical": not prod}

    r["prod_files_digested"] = len(digest_before)
    r["prod_digest_run_env"] = classify(diff_digests(digest_before, digest_after))
    r["prod_digest_plan"] = classify(diff_digests(digest_before_plan, digest_before))
    ok = r["prod_digest_run_env"]["identical"]
    log(
        f"  production files under target/ (excl. environments/): {len(digest_before)} digested; "
        f"byte-identical across run --env: {ok}"
        + ("" if ok else f" DIFFER: {r['prod_digest_run_env']['production_paths_differing'][:10]}")
    )
    tool_diff = [
        p
        for k in ("changed", "added", "removed")
        for p in r["prod_digest_run_env"]["diff"][k]
        if p not in r["prod_digest_run_env"]["production_paths_differing"]
    ]
    if tool_diff:
        log(f"    (tool files that changed, not production state: {tool_diff})")

    promotes = []
    for rep in range(args.promote_reps):
        if rep > 0:
            gen_project.mutate(repo, node)
            run_ok([seeknal, "plan", "dev"], repo, env, to)
            run_ok([seeknal, "run", "--env", "dev", "-q"], repo, env, to)
        p = run_ok([seeknal, "promote", "dev"], repo, env, to)
        promotes.append(
            {"wall_s": p["wall_s"], "maxrss_mb": p["maxrss_mb"], **parse_promote(p["stdout"])}
        )
        if rep == 0:
            r["promote_stdout"] = p["stdout"].strip()
    r["promote_s"] = med(p["wall_s"] for p in promotes)
    r["promote_s_all"] = [p["wall_s"] for p in promotes]
    r["promote_internal_ms_all"] = [p.get("internal_ms") for p in promotes]
    r["promote_outputs"] = promotes[0].get("outputs")
    r["promote_maxrss_mb"] = max(p["maxrss_mb"] for p in promotes)
    log(
        f"  seeknal promote dev              median {r['promote_s']:.3f} s over {len(promotes)} "
        f"(internal {r['promote_internal_ms_all']} ms; {r['promote_outputs']} outputs moved)"
    )
    after = json.loads(run_ok([seeknal, "plan", "--json"], repo, env, to)["stdout"])
    r["prod_plan_after_promote_to_run"] = after.get("to_run")
    log(f"  production plan after the last promote: to_run = {after.get('to_run')}")
    return r


# -- part B: promote vs data size -----------------------------------------------------------------
def calibrate_bytes_per_row(tmp: Path, rows: int = 400_000) -> float:
    import duckdb

    path = tmp / "calib.parquet"
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT range AS id, random() AS val, md5(range::VARCHAR) AS s, "
        f"random() * 2 AS w FROM range({rows})) TO '{path}' (FORMAT parquet)"
    )
    con.close()
    bpr = path.stat().st_size / rows
    path.unlink()
    return bpr


def make_size_project(proj: Path, rows: int, env: dict) -> float:
    """Write the 4-node project; return seconds spent generating the source parquet."""
    import duckdb

    (proj / "data").mkdir(parents=True)
    (proj / "seeknal" / "sources").mkdir(parents=True)
    (proj / "seeknal" / "transforms").mkdir(parents=True)
    (proj / "seeknal_project.yml").write_text(
        "name: bench_size\nversion: 1.0.0\nprofile: default\nconfig-version: 1\n"
        "state_backend: file\n"
    )
    (proj / ".gitignore").write_text("target/\ndata/\n")  # the data is not committed
    (proj / "seeknal" / "sources" / "big.yml").write_text(
        "kind: source\nname: big\nsource: parquet\ntable: data/big.parquet\n"
    )
    transforms = {
        # the changed node: mutate() lowers the literal (breaking; still keeps every row)
        "wide": (
            "source.big",
            "SELECT *, val * 2 AS w FROM ref('source.big') WHERE val > -1000000",
        ),
        "wide_stats": (
            "transform.wide",
            "SELECT count(*) AS n, sum(w) AS sw FROM ref('transform.wide')",
        ),
        "sample": (
            "source.big",
            "SELECT id % 10 AS k, count(*) AS n FROM ref('source.big') WHERE id < 1000 GROUP BY 1",
        ),
    }
    for name, (parent, sql) in transforms.items():
        (proj / "seeknal" / "transforms" / f"{name}.yml").write_text(
            f"kind: transform\nname: {name}\ndescription: size bench node\n"
            f"inputs:\n  - ref: {parent}\ntransform: |\n  {sql}\n"
        )
    t0 = time.perf_counter()
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    con.execute(
        f"COPY (SELECT range AS id, random() AS val, md5(range::VARCHAR) AS s FROM range({rows})) "
        f"TO '{proj / 'data' / 'big.parquet'}' (FORMAT parquet)"
    )
    con.close()
    gen_s = time.perf_counter() - t0
    git_init(proj, env)
    return gen_s


def part_b_size(
    label: str,
    mb: float,
    bpr: float,
    move_reps: int,
    copy_reps: int,
    args: argparse.Namespace,
    seeknal: str,
    env: dict,
    root: Path,
) -> dict:
    to = args.timeout
    rows = max(1000, int(mb * 1e6 / bpr))
    proj = root / f"size_{label}"
    proj.mkdir(parents=True)
    gen_s = make_size_project(proj, rows, env)
    src_bytes = (proj / "data" / "big.parquet").stat().st_size
    log(
        f"\n== part B: ~{label} ({rows:,} rows; source parquet {src_bytes / 1e6:.1f} MB, "
        f"generated in {gen_s:.1f}s) in {proj}"
    )
    r: dict = {"label": label, "target_mb": mb, "rows": rows, "source_bytes": src_bytes}
    run = run_ok([seeknal, "run", "-q"], proj, env, to)
    r["prod_run_s"] = run["wall_s"]
    r["prod_run_maxrss_mb"] = run["maxrss_mb"]
    prod_out = proj / "target" / "cache" / "transform" / "wide.parquet"
    r["prod_output_bytes"] = prod_out.stat().st_size if prod_out.exists() else None
    log(f"  seeknal run (production)   {run['wall_s']:.2f} s")

    schedule: list[str] = []
    for i in range(max(move_reps, copy_reps)):
        if i < move_reps:
            schedule.append("move")
        if i < copy_reps:
            schedule.append("copy")
    reps = []
    for mode in schedule:
        gen_project.mutate(proj, "wide")
        plan = run_ok([seeknal, "plan", "dev"], proj, env, to)
        env_run = run_ok([seeknal, "run", "--env", "dev"], proj, env, to)
        cache = proj / "target" / "environments" / "dev" / "cache"
        cache_bytes = du_bytes(cache)
        env_bytes = du_bytes(cache.parent)
        cmd = [seeknal, "promote", "dev"] + (["--copy-data"] if mode == "copy" else [])
        p = run_ok(cmd, proj, env, to)
        pp = parse_promote(p["stdout"])
        reps.append(
            {
                "mode": mode,
                "promote_s": p["wall_s"],
                "promote_maxrss_mb": p["maxrss_mb"],
                "promote_cpu_s": p["user_s"] + p["sys_s"],
                "promote_parsed": pp,
                "plan_s": plan["wall_s"],
                "run_env_s": env_run["wall_s"],
                "run_env_parsed": parse_env_run(env_run["stdout"]),
                "env_cache_bytes": cache_bytes,
                "env_dir_bytes": env_bytes,
            }
        )
        log(
            f"  {mode:4}: plan dev {plan['wall_s']:.2f} s, run --env dev {env_run['wall_s']:.2f} s,"
            f" env cache {cache_bytes / 1e6:.1f} MB -> promote{' --copy-data' if mode == 'copy' else ''}"
            f" {p['wall_s'] * 1000:.0f} ms (internal {pp.get('internal_ms')} ms, "
            f"{pp.get('outputs')} output(s) {pp.get('mode')})"
        )
    r["reps"] = reps
    for mode in ("move", "copy"):
        sel = [x for x in reps if x["mode"] == mode]
        if sel:
            r[f"promote_{mode}_s"] = med(x["promote_s"] for x in sel)
            r[f"promote_{mode}_s_all"] = [x["promote_s"] for x in sel]
            r[f"promote_{mode}_internal_ms_all"] = [
                x["promote_parsed"].get("internal_ms") for x in sel
            ]
    r["env_cache_bytes"] = med(x["env_cache_bytes"] for x in reps)
    r["plan_env_s"] = med(x["plan_s"] for x in reps)
    r["run_env_s"] = med(x["run_env_s"] for x in reps)
    return r


def pick_workdir(args: argparse.Namespace) -> tuple[Path, float, str | None]:
    need = 6e9
    base = Path(args.workdir) if args.workdir else Path(tempfile.gettempdir())
    free = shutil.disk_usage(base).free
    note = None
    big_mb = args.big_mb
    if free < need and not args.workdir:
        alt = Path("/work")
        if alt.exists() and shutil.disk_usage(alt).free >= need:
            note = f"{base} had {free / 1e9:.1f} GB free; using {alt}"
            base = alt
        else:
            big_mb = args.big_mb / 2
            note = f"{base} had {free / 1e9:.1f} GB free; big size scaled down to {big_mb:.0f} MB"
    return base, big_mb, note


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--seeknal", default=None, help="seeknal executable (default: on PATH)")
    ap.add_argument("--n", type=int, default=1000, help="nodes of the part A project")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--plan-reps", type=int, default=5)
    ap.add_argument("--promote-reps", type=int, default=5)
    ap.add_argument("--small-mb", type=float, default=10)
    ap.add_argument("--big-mb", type=float, default=1000)
    ap.add_argument("--small-reps", type=int, default=3, help="move promotes, small size")
    ap.add_argument("--small-copy-reps", type=int, default=3, help="--copy-data promotes, small")
    ap.add_argument("--big-reps", type=int, default=2, help="move promotes, big size")
    ap.add_argument("--big-copy-reps", type=int, default=1, help="--copy-data promotes, big")
    ap.add_argument("--skip-a", action="store_true", help="skip part A")
    ap.add_argument("--skip-b", action="store_true", help="skip part B")
    ap.add_argument("--workdir", default=None, help="where the temp projects go")
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--out", default=str(HERE / "out" / "envs.json"))
    ap.add_argument("--keep", action="store_true", help="keep the projects (not the big one)")
    args = ap.parse_args(argv)

    seeknal = find_seeknal(args.seeknal)
    if not seeknal:
        print(f"seeknal executable not found ({args.seeknal or 'on PATH'})", file=sys.stderr)
        return 2
    env = bench_env(seeknal)
    base, big_mb, note = pick_workdir(args)
    if note:
        log(f"note: {note}")
    root = Path(tempfile.mkdtemp(prefix="seeknal-bench-envs-", dir=base))
    doc: dict = {**meta(seeknal), "workdir": str(root), "disk_note": note}
    t_start = time.perf_counter()
    big_dir = None
    try:
        if not args.skip_a:
            doc["part_a"] = part_a(args, seeknal, env, root)
        if not args.skip_b:
            bpr = calibrate_bytes_per_row(root)
            doc["part_b_bytes_per_row"] = bpr
            sizes = [
                ("small", args.small_mb, args.small_reps, args.small_copy_reps),
                ("big", big_mb, args.big_reps, args.big_copy_reps),
            ]
            doc["part_b"] = []
            for label, mb, mr, cr in sizes:
                tag = f"{mb:g}MB"
                if label == "big":
                    big_dir = root / f"size_{tag}"
                res = part_b_size(tag, mb, bpr, mr, cr, args, seeknal, env, root)
                doc["part_b"].append(res)
                if label == "big":
                    shutil.rmtree(big_dir, ignore_errors=True)
                    log(f"  (deleted {big_dir})")
    except CommandFailed as e:
        print(str(e), file=sys.stderr)
        if big_dir is not None and big_dir.exists():
            shutil.rmtree(big_dir, ignore_errors=True)
            print(f"(deleted the big project {big_dir})", file=sys.stderr)
        print(f"(other projects left in {root})", file=sys.stderr)
        return 1
    finish_bench(doc, t_start, seeknal, root, args.keep, args.out)

    rows: list[tuple[str, str]] = []
    a = doc.get("part_a")
    if a:
        rows += [
            (f"[A] N={a['n']}: production seeknal run (s)", f"{a['prod_run_s']:.2f}"),
            (
                "[A] changed node (downstream count)",
                f"{a['changed_node']} ({a['changed_node_downstream']})",
            ),
            ("[A] seeknal plan dev, median (ms)", f"{a['plan_env_s'] * 1000:.0f}"),
            ("[A] plan nodes_to_execute", str(a["plan_nodes_to_execute"])),
            ("[A] = changed node + its downstream", str(a["plan_matches_downstream"])),
            ("[A] seeknal run --env dev (ms)", f"{a['run_env_s'] * 1000:.0f}"),
            ("[A] run --env nodes executed", str(a["run_env_executed"])),
            (
                "[A] production files byte-identical",
                f"{a['prod_digest_run_env']['identical']} ({a['prod_files_digested']} files)",
            ),
            (
                f"[A] seeknal promote dev, median of {len(a['promote_s_all'])} (ms)",
                f"{a['promote_s'] * 1000:.0f}",
            ),
            (
                "[A] promote internal (ms, as printed)",
                ",".join(str(x) for x in a["promote_internal_ms_all"]),
            ),
            ("[A] production to_run after promote", str(len(a["prod_plan_after_promote_to_run"]))),
        ]
    for b in doc.get("part_b", []):
        t = b["label"]
        rows.append((f"[B] {t}: env cache size (MB)", f"{b['env_cache_bytes'] / 1e6:.1f}"))
        rows.append((f"[B] {t}: production run (s)", f"{b['prod_run_s']:.2f}"))
        rows.append(
            (
                f"[B] {t}: plan dev / run --env dev (s)",
                f"{b['plan_env_s']:.2f} / {b['run_env_s']:.2f}",
            )
        )
        if "promote_move_s" in b:
            rows.append(
                (
                    f"[B] {t}: promote dev, median of {len(b['promote_move_s_all'])} (ms)",
                    f"{b['promote_move_s'] * 1000:.0f}",
                )
            )
        if "promote_copy_s" in b:
            rows.append(
                (
                    f"[B] {t}: promote dev --copy-data, median of {len(b['promote_copy_s_all'])} (ms)",
                    f"{b['promote_copy_s'] * 1000:.0f}",
                )
            )
    log(
        f"\nseeknal: {seeknal}   cpus: {doc['cpus']}   duckdb: {doc['duckdb']}   "
        f"total bench time: {doc['bench_total_s']:.0f}s"
    )
    log(print_table(rows))
    log(f"\nJSON written to {args.out}" + (f"; projects kept in {root}" if args.keep else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
