#!/usr/bin/env python3
"""What refusing duplicate YAML keys costs the project loader's parse.

Usage:
    python bench/bench_yaml_keys.py [--nodes 1000] [--reps 15]

Generates a project of --nodes nodes (bench/gen_project.py), reads every node file once, then
parses all of them --reps times with PyYAML's C safe loader as is and with seeknal's
`parse_yaml` (the same loader with the duplicate-key check), interleaved, and prints the median
time of one full pass of each and the difference. A plan of a never-run project parses every
file once; a later plan parses only files whose text changed (the tool cache keeps the rest).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import gen_project  # noqa: E402
import yaml  # noqa: E402

from seeknal.project.files import parse_yaml  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--nodes", type=int, default=1000)
    ap.add_argument("--reps", type=int, default=15)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        gen_project.generate(args.nodes, Path(folder))
        texts = [p.read_text() for p in sorted(Path(folder, "seeknal").rglob("*.yml"))]
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    def plain() -> None:
        for text in texts:
            yaml.load(text, Loader=loader)  # noqa: S506 - safe loader

    def checked() -> None:
        for text in texts:
            parse_yaml(text)

    times: dict[str, list[float]] = {"plain": [], "checked": []}
    checked()  # first use builds the loader class
    for rep in range(args.reps):
        order = [("plain", plain), ("checked", checked)]
        for name, fn in order if rep % 2 == 0 else reversed(order):
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    a, b = (statistics.median(times[k]) * 1000 for k in ("plain", "checked"))
    print(f"{len(texts)} node files, median of {args.reps} passes:")
    print(f"  PyYAML C safe loader          {a:8.1f} ms")
    print(f"  seeknal parse_yaml (checked)  {b:8.1f} ms  ({b - a:+.1f} ms, {(b - a) / a:+.1%})")


if __name__ == "__main__":
    main()
