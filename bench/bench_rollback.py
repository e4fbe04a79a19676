#!/usr/bin/env python3
"""Rollback cost vs data size: `seeknal rollback` after `seeknal promote dev` (see bench/README.md).

Usage:
    python bench/bench_rollback.py [--seeknal PATH] [--sizes-mb 10,1000] [--reps 3]
                                   [--workdir DIR] [--keep]

For each size: the 4-node project of bench_envs.py part B (the changed transform outputs about
that many MB of parquet), a production run, then the transform is changed, planned and applied
in env dev. Each rep times, as whole fresh processes, `seeknal promote dev` and then
`seeknal rollback`; the rollback gives dev its outputs back, so the next rep promotes again
without recomputing. After every rollback every file of production (target/ without envs,
history, the tool cache, lock files and promotions.jsonl) is sha256-digested and compared with
production before the first promotion: the benchmark aborts if one byte differs.

Results: a table on stdout and bench/out/rollback.json.
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
import gen_project  # noqa: E402
from _measure import (  # noqa: E402
    bench_env,
    digest_tree,
    du_bytes,
    find_seeknal,
    finish_bench,
    med,
    meta,
    print_table,
    run_ok,
)
from bench_envs import calibrate_bytes_per_row, make_size_project  # noqa: E402

NOT_PRODUCTION = (
    "environments/",
    "history/",
    ".seeknal-cache/",
    ".trash/",
    ".lock",
    ".lock.holder",
    "promotions.jsonl",
)


def production(proj: Path) -> dict[str, str]:
    return digest_tree(proj / "target", NOT_PRODUCTION)


def one_size(mb: float, bpr: float, args: argparse.Namespace, seeknal: str, env: dict, root: Path):
    rows = max(1000, int(mb * 1e6 / bpr))
    proj = root / f"size_{int(mb)}mb"
    proj.mkdir(parents=True)
    make_size_project(proj, rows, env)
    run_ok([seeknal, "run", "-q"], proj, env, args.timeout)
    before = production(proj)
    gen_project.mutate(proj, "wide")
    run_ok([seeknal, "plan", "dev"], proj, env, args.timeout)
    run_ok([seeknal, "run", "--env", "dev"], proj, env, args.timeout)
    env_bytes = du_bytes(proj / "target" / "environments" / "dev" / "cache")
    prod_bytes = du_bytes(proj / "target" / "cache")
    reps = []
    for _ in range(args.reps):
        promote = run_ok([seeknal, "promote", "dev"], proj, env, args.timeout)
        kept = du_bytes(proj / "target" / "history")
        rollback = run_ok([seeknal, "rollback"], proj, env, args.timeout)
        if production(proj) != before:
            raise SystemExit(f"production after rollback differs from before ({proj})")
        reps.append(
            {
                "promote_s": promote["wall_s"],
                "rollback_s": rollback["wall_s"],
                "rollback_maxrss_mb": rollback["maxrss_mb"],
                "history_bytes": kept,
                "rollback_stdout": rollback["stdout"].strip(),
            }
        )
        print(
            f"  {mb:.0f} MB: promote {promote['wall_s'] * 1000:.0f} ms, rollback "
            f"{rollback['wall_s'] * 1000:.0f} ms (history held {kept / 1e6:.1f} MB); "
            "production byte-identical",
            file=sys.stderr,
        )
    if not args.keep:
        shutil.rmtree(proj, ignore_errors=True)
    return {
        "target_mb": mb,
        "rows": rows,
        "env_output_bytes": env_bytes,
        "production_bytes": prod_bytes,
        "reps": reps,
        "promote_s": med(r["promote_s"] for r in reps),
        "rollback_s": med(r["rollback_s"] for r in reps),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeknal")
    parser.add_argument("--sizes-mb", default="10,1000")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--workdir")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    seeknal = find_seeknal(args.seeknal)
    if seeknal is None:
        print("seeknal not found (--seeknal PATH)", file=sys.stderr)
        return 1
    env = bench_env(seeknal)
    started = time.perf_counter()
    doc = meta(seeknal)
    root = Path(tempfile.mkdtemp(prefix="bench-rollback-", dir=args.workdir))
    bpr = calibrate_bytes_per_row(root)
    sizes = [float(s) for s in args.sizes_mb.split(",") if s.strip()]
    results = [one_size(mb, bpr, args, seeknal, env, root) for mb in sizes]
    rows = [
        (
            f"{r['env_output_bytes'] / 1e6:.0f} MB moved",
            f"promote {r['promote_s'] * 1000:.0f} ms, rollback {r['rollback_s'] * 1000:.0f} ms "
            f"(median of {len(r['reps'])})",
        )
        for r in results
    ]
    print(print_table(rows, "rollback vs data size (whole process)"))
    doc["sizes"] = results
    finish_bench(doc, started, seeknal, root, args.keep, str(HERE / "out" / "rollback.json"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
