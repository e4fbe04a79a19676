#!/usr/bin/env python3
"""Plans, parallel runs and the DuckDB floor, against their targets (see bench/README.md).

Usage:
    python bench/bench_plan.py [--seeknal PATH] [--base PATH] [--sizes 1000,10000] [--reps 5]
                               [--parallel-n 1000] [--run-reps 3] [--record] [--keep]

For every size N a generated project (bench/gen_project.py, a fresh git repo) per seeknal
measured, then, each command a whole process timed by `measure()`:

  * plan of the never-run project: the first one (nothing cached anywhere) and the median of
    --reps more (no target/ exists: the tool cache is kept outside the project)
  * production `seeknal run`, then the median of --reps no-change `seeknal plan`
  * per rep: one transform of the middle layer changed again (gen_project.mutate), then
    `seeknal plan dev` twice: the first plan of that change and the same plan again
  * at --parallel-n: per rep `run --full` and `run --full --parallel --max-workers 2`, with
    the outputs' digests (row counts, ids, sums) compared, and bench/floor.py on the same project

With --base, a second seeknal (e.g. main's) is measured on its own copy of every project,
interleaved command by command with the order swapped every rep, so both see the same load.
--record stores the figures of --seeknal in bench/figures.json (the "last" column).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import gen_project  # noqa: E402
from _measure import (  # noqa: E402
    CommandFailed,
    bench_env,
    figure_row,
    find_seeknal,
    git_init,
    meta,
    print_figures,
    record_figures,
    run_ok,
)

# figure name -> (target upper bound, unit); ratios are "x"
TARGETS = {
    "plan dev, first after a change @1000": (0.25, "ms"),
    "plan dev, same change again @1000": (0.25, "ms"),
    "plan dev, first after a change @10000": (1.0, "s"),
    "plan dev, same change again @10000": (1.0, "s"),
    "plan no-change @1000": (0.15, "ms"),
    "run --parallel 2 / sequential @1000": (1 / 1.6, "x"),
    "run / floor @1000": (1.1, "x"),
}


def log(text: str) -> None:
    print(text, flush=True)


class Side:
    """One seeknal executable and its own copies of the projects."""

    def __init__(self, name: str, seeknal: str, root: Path) -> None:
        self.name, self.seeknal = name, seeknal
        self.root = root / name
        self.env = bench_env(seeknal)
        # the tool cache of a project without target/ goes to the user's cache folder
        self.env["XDG_CACHE_HOME"] = str(root / f"{name}-xdg-cache")
        self.times: dict[str, list[float]] = {}
        self.cpu: dict[str, list[float]] = {}  # user + system seconds of the same commands

    def time(self, figure: str, args: list[str], repo: Path, timeout: float) -> dict:
        res = run_ok([self.seeknal, *args], repo, self.env, timeout)
        self.times.setdefault(figure, []).append(res["wall_s"])
        self.cpu.setdefault(figure, []).append(res["user_s"] + res["sys_s"])
        return res

    def median(self, figure: str) -> float | None:
        values = self.times.get(figure)
        return statistics.median(values) if values else None

    def cpu_median(self, figure: str) -> float | None:
        values = self.cpu.get(figure)
        return statistics.median(values) if values else None


def interleaved(sides: list[Side], rep: int) -> list[Side]:
    return sides if rep % 2 == 0 else sides[::-1]


def bench_size(n: int, sides: list[Side], args: argparse.Namespace) -> None:
    repos = {}
    for side in sides:
        repo = side.root / f"p{n}"
        repo.mkdir(parents=True)
        info = gen_project.generate(n, repo, seed=args.seed)
        git_init(repo, side.env)
        repos[side.name] = repo
    log(f"\n== N={n}: {info['layers']} layers, {info['edges']} edges")
    to = args.timeout
    for side in sides:
        side.time(f"plan never run, first @{n}", ["plan"], repos[side.name], to)
    for rep in range(args.reps):
        for side in interleaved(sides, rep):
            side.time(f"plan never run @{n}", ["plan"], repos[side.name], to)
    for side in sides:
        side.time(f"production run @{n}", ["run", "-q"], repos[side.name], to)
    for rep in range(args.reps):
        for side in interleaved(sides, rep):
            side.time(f"plan no-change @{n}", ["plan"], repos[side.name], to)
    node = f"t_{n // 2}"
    for rep in range(args.reps):
        for side in interleaved(sides, rep):
            repo = repos[side.name]
            gen_project.mutate(repo, node)
            side.time(f"plan dev, first after a change @{n}", ["plan", "dev"], repo, to)
            side.time(f"plan dev, same change again @{n}", ["plan", "dev"], repo, to)
    if n == args.parallel_n:
        bench_parallel(n, sides, repos, args)
    for side in sides:
        shown = ", ".join(
            f"{k.split(' @')[0]} {statistics.median(v):.3f}s"
            for k, v in side.times.items()
            if k.endswith(f"@{n}")
        )
        log(f"  {side.name}: {shown}")


def output_rows(repo: Path) -> dict[str, tuple]:
    """Per output: row count, sum of ids, count of distinct ids, and the sum of `val`. Not the
    files' bytes: DuckDB writes rows in another order from one run to the
    next and sums doubles (window averages) in another order, so the last bits of `val` - and
    with them which of two tied rows a QUALIFY keeps - vary even between sequential runs."""
    import duckdb

    nodes = json.loads((repo / "target" / "run_state.json").read_text())["nodes"]
    con = duckdb.connect()
    found = {}
    for node_id, entry in sorted(nodes.items()):
        path = str(repo / entry["output_path"]).replace("'", "''")
        found[node_id] = con.execute(
            f"SELECT count(*), sum(id), count(DISTINCT id), sum(val) FROM read_parquet('{path}')"
        ).fetchone()
    con.close()
    return found


def different(one: dict[str, tuple], other: dict[str, tuple]) -> list[str]:
    """Outputs whose rows differ: other ids or counts, or a `val` sum off by more than 1e-4 of
    it (a QUALIFY between rows whose `val` differ in the last bits keeps either of them)."""
    found = []
    for node_id in sorted(one.keys() | other.keys()):
        a, b = one.get(node_id), other.get(node_id)
        if a is None or b is None or a[:3] != b[:3]:
            found.append(node_id)
        elif abs((a[3] or 0) - (b[3] or 0)) > 1e-4 * max(1.0, abs(a[3] or 0)):
            found.append(node_id)
    return found


def bench_parallel(n: int, sides: list[Side], repos: dict[str, Path], args: argparse.Namespace):
    to = args.timeout
    parallel = ["run", "-q", "--full", "--parallel", "--max-workers", "2"]
    for rep in range(args.run_reps):
        for side in interleaved(sides, rep):
            repo = repos[side.name]
            side.time(f"run --full @{n}", ["run", "-q", "--full"], repo, to)
            sequential = output_rows(repo)
            side.time(f"run --full --parallel 2 @{n}", parallel, repo, to)
            differ = different(sequential, output_rows(repo))
            if differ:
                raise CommandFailed(f"{side.name}: parallel outputs differ: {differ[:5]}")
    for side in sides:
        seq = side.median(f"run --full @{n}") or 0.0
        par = side.median(f"run --full --parallel 2 @{n}") or 0.0
        side.times[f"run --parallel 2 / sequential @{n}"] = [par / seq]
        floor = run_ok(
            [
                sys.executable,
                str(HERE / "floor.py"),
                str(repos[side.name]),
                "--json",
                "--repeat",
                str(args.run_reps),
            ],
            repos[side.name],
            side.env,
            to,
        )
        floor_s = json.loads(floor["stdout"].strip().splitlines()[-1])["total_s"]
        side.times[f"floor @{n}"] = [floor_s]
        side.times[f"run / floor @{n}"] = [seq / floor_s]


def report(sides: list[Side], record: bool) -> dict[str, float]:
    main = sides[0]
    figures = {k: v for k in main.times if (v := main.median(k)) is not None}
    rows = []
    for name, value in figures.items():
        target, unit = TARGETS.get(name, (None, "x" if " / " in name else "s"))
        rows.append(figure_row(name, value, target, unit))
    print_figures(rows, f"\n{main.name}: {main.seeknal}")
    if len(sides) > 1:
        base = sides[1]
        log(f"\ninterleaved A/B: {base.name} = {base.seeknal}; wall s (CPU s: user + system)")
        for name, value in figures.items():
            other = base.median(name)
            if other:
                change = f"{(value - other) / other * 100:+.0f}%"
                cpu = [side.cpu_median(name) for side in (base, main)]
                shown = [f" ({c:.3f})" if c is not None else "" for c in cpu]
                log(
                    f"  {name:45s} {base.name} {other:8.3f}{shown[0]}  "
                    f"{main.name} {value:8.3f}{shown[1]}  {change}"
                )
    log(f"load average at the end (1, 5, 15 min): {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if record:
        ratios = {k: v for k, v in figures.items() if " / " in k}
        record_figures({k: v for k, v in figures.items() if k not in ratios}, "s")
        record_figures(ratios, "x")
    return figures


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--seeknal", default=None, help="seeknal executable (default: on PATH)")
    ap.add_argument("--base", default=None, help="a second seeknal, measured interleaved")
    ap.add_argument("--sizes", default="1000,10000")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--run-reps", type=int, default=3)
    ap.add_argument("--parallel-n", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--record", action="store_true", help="store the figures in figures.json")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--out", default=str(HERE / "out" / "plan.json"))
    args = ap.parse_args(argv)
    seeknal = find_seeknal(args.seeknal)
    if seeknal is None:
        print("seeknal executable not found", file=sys.stderr)
        return 2
    root = Path(tempfile.mkdtemp(prefix="seeknal-bench-plan-"))
    sides = [Side("new", seeknal, root)]
    if args.base:
        base = find_seeknal(args.base)
        if base is None:
            print(f"--base {args.base} not found", file=sys.stderr)
            return 2
        sides.append(Side("base", base, root))
    started = time.perf_counter()
    try:
        for n in (int(s) for s in args.sizes.split(",") if s.strip()):
            bench_size(n, sides, args)
    except CommandFailed as exc:
        print(str(exc), file=sys.stderr)
        print(f"(projects left in {root})", file=sys.stderr)
        return 1
    figures = report(sides, args.record)
    doc = {
        **meta(seeknal),
        "bench_total_s": time.perf_counter() - started,
        "figures": figures,
        "times": {s.name: s.times for s in sides},
        "cpu": {s.name: s.cpu for s in sides},
        "load_average": os.getloadavg(),
        "base": sides[1].seeknal if len(sides) > 1 else None,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=2) + "\n")
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    log(f"\nJSON written to {out}" + (f"; projects kept in {root}" if args.keep else ""))
    return 0


if __name__ == "__main__":
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # measured code runs from its .pyc files
    sys.exit(main())
