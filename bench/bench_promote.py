#!/usr/bin/env python3
"""Promote cost against project size, and start-up (see bench/README.md).

Usage:
    python bench/bench_promote.py [--seeknal PATH] [--compare PATH] [--sizes 300,1000,10000]
                                  [--moving 20] [--reps 5] [--startup-reps 21] [--record]
                                  [--workdir DIR] [--keep] [--out bench/out/promote.json]

For each size N: the generated project (bench/gen_project.py) as a fresh git repo on main,
production built with ``seeknal run``; the transform whose downstream count is closest to
--moving - 1 is the one changed (so about --moving outputs move). Each rep: gen_project.mutate,
``seeknal plan dev``, ``seeknal run --env dev`` (untimed), then the timed ``seeknal promote dev``
(whole process, bench_core's measure()). Figure: the median.

Start-up, in the smallest project: ``seeknal --help`` and ``seeknal env current`` (and
``python -c pass`` for the floor), medians of --startup-reps.

With --compare PATH a second seeknal (e.g. main before a change) is measured on its own copy of
each project, interleaved rep by rep with the order swapped every rep, so both see the same
machine load. --record stores the figures as the last recorded ones (bench/figures.json).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _measure import (  # noqa: E402
    bench_env,
    figure_row,
    find_seeknal,
    finish_bench,
    gen_project,
    git_init,
    med,
    meta,
    print_figures,
    record_figures,
    run_ok,
)
from bench_envs import downstream_counts, parse_promote  # noqa: E402

PROMOTE_TARGET = 0.15  # seconds, whole process, at every size
STARTUP_TARGET = 0.08


def log(msg: str) -> None:
    print(msg, flush=True)


def pick_node(repo: Path, moving: int) -> tuple[str, int]:
    """The transform whose downstream count is closest to moving - 1 (lowest index on ties)."""
    down = downstream_counts(repo)
    best = min(down, key=lambda n: (abs(len(down[n]) + 1 - moving), int(n.split("_")[-1])))
    return best.split(".", 1)[1], len(down[best]) + 1


def build(n: int, repo: Path, seeknal: str, env: dict) -> None:
    gen_project.generate(n, repo, seed=0)
    git_init(repo, env)
    run_ok([seeknal, "run"], repo, env)


def promote_once(repo: Path, node: str, seeknal: str, env: dict) -> dict:
    gen_project.mutate(repo, node)
    run_ok([seeknal, "plan", "dev"], repo, env)
    run_ok([seeknal, "run", "--env", "dev"], repo, env)
    res = run_ok([seeknal, "promote", "dev"], repo, env)
    cpu = res["user_s"] + res["sys_s"]
    return {"wall_s": res["wall_s"], "cpu_s": cpu, **parse_promote(res["stdout"])}


def sides(args: argparse.Namespace, seeknal: str) -> dict[str, str]:
    found = {"new": seeknal}
    if args.compare:
        other = find_seeknal(args.compare)
        if other is None:
            raise SystemExit(f"--compare: no seeknal at {args.compare}")
        found["base"] = other
    return found


def size_figures(args: argparse.Namespace, n: int, root: Path, tools: dict[str, str]) -> dict:
    env = {name: bench_env(exe) for name, exe in tools.items()}
    repos = {name: root / f"proj_{n}_{name}" for name in tools}
    first = next(iter(tools))
    log(f"[{n}] generating and running production ...")
    build(n, repos[first], tools[first], env[first])
    for name in list(tools)[1:]:
        shutil.copytree(repos[first], repos[name], symlinks=True)
    node, moving = pick_node(repos[first], args.moving)
    log(f"[{n}] changing t_{node.split('_')[-1]}: {moving} outputs move per promote")
    runs: dict[str, list[dict]] = {name: [] for name in tools}
    for rep in range(args.reps):
        order = list(tools) if rep % 2 == 0 else list(reversed(tools))
        for name in order:
            runs[name].append(promote_once(repos[name], node, tools[name], env[name]))
    for name in tools:
        walls = [r["wall_s"] for r in runs[name]]
        log(f"[{n}] {name}: promote median {med(walls) * 1000:.0f} ms ({len(walls)} reps)")
    if not args.keep:
        for repo in repos.values():
            shutil.rmtree(repo, ignore_errors=True)
    return {"node": node, "moving": moving, "runs": runs}


def startup_figures(args: argparse.Namespace, root: Path, tools: dict[str, str]) -> dict:
    repo = root / "startup"
    first = next(iter(tools))
    build(30, repo, tools[first], bench_env(tools[first]))
    commands = {"--help": ["--help"], "env current": ["env", "current"]}
    times: dict[str, dict[str, list[float]]] = {name: {} for name in [*tools, "python"]}
    for rep in range(args.startup_reps):
        order = list(tools) if rep % 2 == 0 else list(reversed(tools))
        floor = run_ok([sys.executable, "-c", "pass"], repo, bench_env(tools[first]))
        times["python"].setdefault("pass", []).append(floor["wall_s"])
        for name in order:
            for label, argv in commands.items():
                res = run_ok([tools[name], *argv], repo, bench_env(tools[name]))
                times[name].setdefault(label, []).append(res["wall_s"])
    shutil.rmtree(repo, ignore_errors=True)
    return times


def report(args: argparse.Namespace, doc: dict, tools: dict[str, str]) -> None:
    rows, values = [], {}
    for n, fig in doc["sizes"].items():
        name = f"promote {args.moving} outputs @{n}"
        values[name] = med(r["wall_s"] for r in fig["runs"]["new"])
        rows.append(figure_row(name, values[name], PROMOTE_TARGET))
    for label in ("--help", "env current"):
        values[label] = med(doc["startup"]["new"][label])
        rows.append(figure_row(label, values[label], STARTUP_TARGET))
    print_figures(rows, "\nseeknal " + tools["new"])
    log(f"python -c pass: {med(doc['startup']['python']['pass']) * 1000:.0f} ms")
    if "base" in tools:
        log(f"\ninterleaved with {tools['base']} (base), medians:")
        for n, fig in doc["sizes"].items():
            b, v = (med(r["wall_s"] for r in fig["runs"][s]) for s in ("base", "new"))
            cb, cv = (med(r["cpu_s"] for r in fig["runs"][s]) for s in ("base", "new"))
            log(f"  promote @{n}: base {b * 1000:.0f} ms, new {v * 1000:.0f} ms (wall)")
            log(f"  promote @{n}: base {cb * 1000:.0f} ms, new {cv * 1000:.0f} ms (cpu)")
        for label in ("--help", "env current"):
            b, v = (med(doc["startup"][s][label]) for s in ("base", "new"))
            log(f"  {label}: base {b * 1000:.0f} ms, new {v * 1000:.0f} ms")
    if args.record:
        record_figures(values)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--seeknal")
    ap.add_argument("--compare", metavar="PATH", help="a second seeknal, measured interleaved")
    ap.add_argument("--sizes", default="300,1000,10000")
    ap.add_argument("--moving", type=int, default=20)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--startup-reps", type=int, default=21)
    ap.add_argument("--record", action="store_true", help="store the figures in figures.json")
    ap.add_argument("--workdir")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--out", default=str(HERE / "out" / "promote.json"))
    args = ap.parse_args(argv)
    seeknal = find_seeknal(args.seeknal)
    if seeknal is None:
        print("seeknal not found (use --seeknal)", file=sys.stderr)
        return 1
    tools = sides(args, seeknal)
    started = time.perf_counter()
    if args.workdir:
        Path(args.workdir).mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="seeknal-bench-promote-", dir=args.workdir))
    doc = {"meta": meta(seeknal), "seeknal_source": {}, "sizes": {}}
    doc["seeknal_source"] = doc["meta"]["seeknal_source"]
    doc["startup"] = startup_figures(args, root, tools)
    for n in (int(s) for s in args.sizes.split(",")):
        doc["sizes"][str(n)] = size_figures(args, n, root, tools)
    report(args, doc, tools)
    finish_bench(doc, started, seeknal, root, args.keep, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
