#!/usr/bin/env python3
"""Core seeknal CLI benchmarks on synthetic projects (see bench/README.md).

Usage:
    python bench/bench_core.py [--sizes 100,1000,10000] [--seeknal PATH] [--seed S] [--keep]

For every size N: generate a project (bench/gen_project.py) as the root of a fresh git repo in a
temp dir (one initial commit), then measure with child processes of the seeknal executable:

  * ``seeknal --help``             wall time, median of --help-reps (5)
  * ``seeknal run``                full run of a never-run project (only N <= --run-max-n, 1000):
                                   wall time + peak RSS
  * cold ``seeknal plan``          first plan after deleting target/.seeknal-cache (if any); this
                                   is also the warm-up run for ...
  * warm ``seeknal plan``          no-change plan, median of --plan-reps (5) (wall; peak RSS =
                                   max over the reps)
  * floor (bench/floor.py)         the same SQL in one plain DuckDB connection (N <= --run-max-n),
                                   median of --floor-repeat (3); per-node overhead
                                   = (run_s - floor_s) / N, and run_s / floor_s

Wall time via time.perf_counter around spawn .. os.wait4; peak RSS = ru_maxrss of that
command's own rusage from os.wait4 (includes its reaped descendants), taken by a tiny launcher
process so that this benchmark's own RSS does not leak into the figure (see measure()).
Any non-zero exit of a seeknal command aborts the benchmark (exit 1) after printing its
stdout tail and stderr.

Results: a table on stdout and JSON in bench/out/core.json (override with --out).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import gen_project  # noqa: E402

CACHE_DIR = Path("target") / ".seeknal-cache"


class CommandFailed(RuntimeError):
    pass


# Peak RSS caveat: on Linux a child's ru_maxrss starts at the high-water RSS of the process it
# was forked/vforked from (exec records the old mm's hiwater), so a direct child of this
# (possibly big) benchmark process would inherit our peak.  Each command is therefore started
# by a tiny stdlib-only launcher (python -I -S) that spawns it, os.wait4()s for it and reports
# the wall time and that grandchild's rusage; the inherited floor is then only the launcher's
# own ~10 MB, below any Python CLI's footprint.
_LAUNCHER = r"""
import json, os, sys, time
res_path, cmd = sys.argv[1], sys.argv[2:]
t0 = time.perf_counter()
pid = os.posix_spawnp(cmd[0], cmd, os.environ)
_, status, ru = os.wait4(pid, 0)
wall = time.perf_counter() - t0
rc = os.waitstatus_to_exitcode(status)
with open(res_path, "w") as fh:
    json.dump({"wall_s": wall, "rc": rc, "maxrss_kb": ru.ru_maxrss,
               "user_s": ru.ru_utime, "sys_s": ru.ru_stime}, fh)
"""


def measure(cmd: list[str], cwd: Path, timeout: float, env: dict | None = None) -> dict:
    """Run cmd; return wall seconds, its peak RSS (MB), cpu, rc, stdout, stderr.

    Wall time is taken by the launcher around posix_spawn .. wait4 (excludes the launcher's
    own start-up); the outer wall time (incl. launcher start-up) is kept as outer_wall_s."""
    with (
        tempfile.TemporaryDirectory() as td,
        open(Path(td) / "out", "w+b") as out,
        open(Path(td) / "err", "w+b") as err,
    ):
        res_path = Path(td) / "res.json"
        t0 = time.perf_counter()
        p = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", _LAUNCHER, str(res_path), *cmd],
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            env=env,
            start_new_session=True,
        )
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, 9)
            p.wait()
            raise CommandFailed(f"timeout after {timeout}s: {' '.join(cmd)} (cwd {cwd})") from None
        outer = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
        if p.returncode != 0 or not res_path.exists():
            raise CommandFailed(f"launcher failed (exit {p.returncode}) for {cmd}:\n{stderr}")
        res = json.loads(res_path.read_text())
    return {
        "cmd": cmd,
        "wall_s": res["wall_s"],
        "outer_wall_s": outer,
        "maxrss_mb": res["maxrss_kb"] / 1024.0,  # Linux: KiB
        "user_s": res["user_s"],
        "sys_s": res["sys_s"],
        "rc": res["rc"],
        "stdout": stdout,
        "stderr": stderr,
    }


def _tail(s: str, n: int = 40) -> str:
    lines = s.rstrip().splitlines()
    return "\n".join(lines[-n:])


def check(res: dict, cwd: Path) -> dict:
    if res["rc"] != 0:
        msg = (
            f"\n*** command failed (exit {res['rc']}): {' '.join(res['cmd'])}\n"
            f"*** cwd: {cwd}\n*** stdout (tail):\n{_tail(res['stdout'])}\n"
            f"*** stderr:\n{res['stderr']}"
        )
        raise CommandFailed(msg)
    return res


GIT_IDENT = [
    "-c",
    "user.name=bench",
    "-c",
    "user.email=bench@example.invalid",
    "-c",
    "commit.gpgsign=false",
    "-c",
    "init.defaultBranch=main",
]


def git_init(repo: Path) -> None:
    env = dict(os.environ, GIT_CONFIG_NOSYSTEM="1")
    g = ["git", *GIT_IDENT]
    subprocess.run(g + ["init", "-q", str(repo)], check=True, env=env)
    subprocess.run(g + ["add", "-A"], cwd=repo, check=True, env=env)
    subprocess.run(
        g + ["commit", "-q", "--no-verify", "-m", "bench project"], cwd=repo, check=True, env=env
    )


def bench_size(n: int, args: argparse.Namespace, seeknal: str, root: Path) -> dict:
    repo = root / f"proj_{n}"
    repo.mkdir(parents=True)
    t0 = time.perf_counter()
    info = gen_project.generate(n, repo, seed=args.seed)
    gen_s = time.perf_counter() - t0
    git_init(repo)
    print(
        f"\n== N={n}: {info['sources']} sources, {info['transforms']} transforms, "
        f"{info['layers']} layers, {info['edges']} edges ({gen_s:.1f}s to generate) in {repo}",
        flush=True,
    )
    r: dict = {"n": n, "project": info, "project_dir": str(repo), "gen_s": gen_s}
    to = args.timeout

    helps = [check(measure([seeknal, "--help"], repo, to), repo) for _ in range(args.help_reps)]
    r["help_s"] = statistics.median(h["wall_s"] for h in helps)
    r["help_s_all"] = [h["wall_s"] for h in helps]
    r["help_maxrss_mb"] = max(h["maxrss_mb"] for h in helps)
    print(f"  --help        median {r['help_s'] * 1000:.0f} ms", flush=True)

    if n <= args.run_max_n:
        run = check(measure([seeknal, "run"], repo, to), repo)
        r["run_s"] = run["wall_s"]
        r["run_maxrss_mb"] = run["maxrss_mb"]
        r["run_cpu_s"] = run["user_s"] + run["sys_s"]
        r["run_stdout_tail"] = _tail(run["stdout"], 15)
        print(f"  run           {run['wall_s']:.2f} s, {run['maxrss_mb']:.0f} MB", flush=True)

    cache = repo / CACHE_DIR
    r["cache_existed"] = cache.exists()
    if cache.exists():
        shutil.rmtree(cache)
    cold = check(measure([seeknal, "plan"], repo, to), repo)  # doubles as the warm-up run
    r["plan_cold_s"] = cold["wall_s"]
    r["plan_cold_maxrss_mb"] = cold["maxrss_mb"]
    print(
        f"  plan (cold)   {cold['wall_s']:.2f} s, {cold['maxrss_mb']:.0f} MB"
        f"{'' if r['cache_existed'] else '  (no ' + str(CACHE_DIR) + ' to delete)'}",
        flush=True,
    )
    plans = [check(measure([seeknal, "plan"], repo, to), repo) for _ in range(args.plan_reps)]
    r["plan_s"] = statistics.median(p["wall_s"] for p in plans)
    r["plan_s_all"] = [p["wall_s"] for p in plans]
    r["plan_maxrss_mb"] = max(p["maxrss_mb"] for p in plans)
    r["plan_maxrss_mb_median"] = statistics.median(p["maxrss_mb"] for p in plans)
    r["plan_cpu_s"] = statistics.median(p["user_s"] + p["sys_s"] for p in plans)
    r["plan_stdout_tail"] = _tail(plans[-1]["stdout"], 15)
    print(
        f"  plan (warm)   median {r['plan_s']:.2f} s, peak {r['plan_maxrss_mb']:.0f} MB", flush=True
    )

    if n <= args.run_max_n:
        fl = measure(
            [
                sys.executable,
                str(HERE / "floor.py"),
                str(repo),
                "--json",
                "--repeat",
                str(args.floor_repeat),
            ],
            repo,
            to,
        )
        if fl["rc"] != 0:
            raise CommandFailed(f"floor.py failed:\n{fl['stderr']}\n{_tail(fl['stdout'])}")
        fj = json.loads(fl["stdout"].strip().splitlines()[-1])
        r["floor_s"] = fj["total_s"]
        r["floor_sql_s"] = fj["sql_s"]
        r["floor_s_all"] = [x["total_s"] for x in fj["runs"]]
        r["floor_process_s"] = fl["wall_s"]  # incl. interpreter start, imports, all repeats
        r["floor_maxrss_mb"] = fl["maxrss_mb"]
        r["duckdb_version_floor"] = fj["duckdb_version"]
        r["run_floor_ratio"] = r["run_s"] / r["floor_s"]
        r["overhead_ms_per_node"] = (r["run_s"] - r["floor_s"]) / n * 1000
        # same, but not charging the fixed CLI start-up cost (measured by --help) to the nodes
        r["overhead_ms_per_node_ex_startup"] = (r["run_s"] - r["help_s"] - r["floor_s"]) / n * 1000
        print(
            f"  floor         {r['floor_s']:.2f} s  -> run/floor {r['run_floor_ratio']:.1f}x, "
            f"overhead {r['overhead_ms_per_node']:.2f} ms/node",
            flush=True,
        )
    return r


ROWS = [
    ("nodes", "n", "{:d}"),
    ("edges", None, "{:d}"),
    ("--help median (ms)", "help_s", "ms"),
    ("run wall (s)", "run_s", "{:.2f}"),
    ("run peak RSS (MB)", "run_maxrss_mb", "{:.0f}"),
    ("floor (s)", "floor_s", "{:.3f}"),
    ("run / floor", "run_floor_ratio", "{:.1f}x"),
    ("overhead (ms/node)", "overhead_ms_per_node", "{:.2f}"),
    ("  ex. --help startup", "overhead_ms_per_node_ex_startup", "{:.2f}"),
    ("plan cold (s)", "plan_cold_s", "{:.2f}"),
    ("plan cold peak RSS (MB)", "plan_cold_maxrss_mb", "{:.0f}"),
    ("plan no-change median (s)", "plan_s", "{:.3f}"),
    ("plan no-change peak RSS (MB)", "plan_maxrss_mb", "{:.0f}"),
]


def table(results: list[dict]) -> str:
    head = ["metric"] + [f"N={r['n']}" for r in results]
    body = []
    for label, key, fmt in ROWS:
        row = [label]
        for r in results:
            v = r["project"]["edges"] if key is None else r.get(key)
            if v is None:
                row.append("-")
            elif fmt == "ms":
                row.append(f"{v * 1000:.0f}")
            else:
                row.append(fmt.format(v))
        body.append(row)
    widths = [max(len(x[i]) for x in [head] + body) for i in range(len(head))]
    line = lambda cells: "  ".join(  # noqa: E731
        c.ljust(w) if i == 0 else c.rjust(w)
        for i, (c, w) in enumerate(zip(cells, widths, strict=True))
    )
    sep = "  ".join("-" * w for w in widths)
    return "\n".join([line(head), sep] + [line(b) for b in body])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sizes", default="100,1000,10000", help="comma-separated node counts")
    ap.add_argument("--seeknal", default=None, help="seeknal executable (default: on PATH)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--help-reps", type=int, default=5)
    ap.add_argument("--plan-reps", type=int, default=5)
    ap.add_argument("--floor-repeat", type=int, default=3)
    ap.add_argument(
        "--run-max-n", type=int, default=1000, help="only run/floor for N <= this (default 1000)"
    )
    ap.add_argument("--timeout", type=float, default=1800, help="per command, seconds")
    ap.add_argument("--out", default=str(HERE / "out" / "core.json"))
    ap.add_argument("--keep", action="store_true", help="keep the generated projects")
    args = ap.parse_args(argv)

    seeknal = args.seeknal or shutil.which("seeknal")
    if not seeknal or not (Path(seeknal).exists() or shutil.which(seeknal)):
        wanted = args.seeknal or "seeknal on PATH"
        print(f"seeknal executable not found ({wanted})", file=sys.stderr)
        return 2
    seeknal = str(Path(shutil.which(seeknal) or seeknal).absolute())
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]

    root = Path(tempfile.mkdtemp(prefix="seeknal-bench-"))
    results: list[dict] = []
    t_start = time.perf_counter()
    try:
        for n in sizes:
            results.append(bench_size(n, args, seeknal, root))
    except CommandFailed as e:
        print(str(e), file=sys.stderr)
        print(f"(projects left in {root})", file=sys.stderr)
        return 1
    total = time.perf_counter() - t_start
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)

    try:
        import duckdb  # only for the record

        duckdb_version = duckdb.__version__
    except ImportError:
        duckdb_version = None
    doc = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "seeknal": seeknal,
        "python": sys.version.split()[0],
        "duckdb": duckdb_version,
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "seed": args.seed,
        "bench_total_s": total,
        "results": results,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=2) + "\n")

    print(
        f"\nseeknal: {seeknal}   cpus: {os.cpu_count()}   duckdb: {duckdb_version}   "
        f"total bench time: {total:.0f}s"
    )
    print(table(results))
    print(f"\nJSON written to {out}" + (f"; projects kept in {root}" if args.keep else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
