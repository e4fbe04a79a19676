#!/usr/bin/env python3
"""A run's fixed start-up: two seeknals timed on the same generated project, interleaved.

Usage:
    python bench/bench_run_start.py --seeknal PATH --base PATH [--size 1000] [--reps 7]

For each seeknal a copy of one generated project (bench/gen_project.py) in a fresh git repo,
run once; then per rep, the order of the two seeknals swapped every rep so both see the same
load, each command a whole process timed by bench_core's `measure()`:

  * `seeknal run -q` with nothing to do (start-up, project load, plan: no node executes)
  * `seeknal run --full -q` (every node executes)

Prints the medians of wall time and of CPU time (user + system; on a shared machine the less
noisy of the two), and which of typer, click and rich each seeknal imports for `run -q`
(from `python -X importtime`). Nothing is recorded.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import gen_project  # noqa: E402
from _measure import bench_env, find_seeknal, git_init, med, run_ok  # noqa: E402

COMMANDS = {"run -q (nothing to do)": ["run", "-q"], "run --full -q": ["run", "--full", "-q"]}
FRAMEWORK = ("typer", "click", "rich")


def framework_imports(seeknal: str, repo: Path, env: dict[str, str]) -> list[str]:
    """Which of typer, click and rich `seeknal run -q` imports (python -X importtime)."""
    python = Path(seeknal).parent / "python"
    done = subprocess.run(
        [str(python), "-X", "importtime", "-m", "seeknal", "run", "-q"],
        cwd=repo,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
    )
    names = {
        line.rpartition("|")[2].strip().split(".")[0]
        for line in done.stderr.splitlines()
        if line.startswith("import time:")
    }
    return [name for name in FRAMEWORK if name in names]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeknal", required=True)
    ap.add_argument("--base", required=True)
    ap.add_argument("--size", type=int, default=1000)
    ap.add_argument("--reps", type=int, default=7)
    args = ap.parse_args()
    sides = {"base": find_seeknal(args.base), "new": find_seeknal(args.seeknal)}
    if None in sides.values():
        sys.exit("seeknal executable not found")
    work = Path(tempfile.mkdtemp(prefix="bench-run-start-"))
    gen_project.generate(args.size, work / "project")
    repos, envs = {}, {}
    for name, seeknal in sides.items():
        envs[name] = bench_env(str(seeknal))
        repos[name] = work / name
        shutil.copytree(work / "project", repos[name])
        git_init(repos[name], envs[name])
        run_ok([str(seeknal), "run", "-q"], repos[name], envs[name])
    wall: dict[tuple[str, str], list[float]] = {}
    cpu: dict[tuple[str, str], list[float]] = {}
    for rep in range(args.reps):
        order = list(sides) if rep % 2 == 0 else list(reversed(sides))
        for figure, cmd in COMMANDS.items():
            for name in order:
                res = run_ok([str(sides[name]), *cmd], repos[name], envs[name])
                wall.setdefault((figure, name), []).append(res["wall_s"])
                cpu.setdefault((figure, name), []).append(res["user_s"] + res["sys_s"])
    print(f"{args.size} nodes, {args.reps} reps interleaved; median wall s (median CPU s)")
    for figure in COMMANDS:
        shown = [f"{n} {med(wall[figure, n]):.3f} ({med(cpu[figure, n]):.3f})" for n in sides]
        delta = med(wall[figure, "new"]) - med(wall[figure, "base"])
        delta_cpu = med(cpu[figure, "new"]) - med(cpu[figure, "base"])
        print(f"  {figure:<24} {shown[0]:<24} {shown[1]:<24} {delta * 1000:+.0f} ms "
              f"({delta_cpu * 1000:+.0f} ms CPU)")  # fmt: skip
    for name, seeknal in sides.items():
        found = framework_imports(str(seeknal), repos[name], envs[name])
        print(f"  {name} `run -q` imports: {', '.join(found) or 'none of typer, click, rich'}")
    shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
