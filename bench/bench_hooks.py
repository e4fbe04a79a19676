#!/usr/bin/env python3
"""Git hook speed: post-checkout and pre-push on the generated project (see bench/README.md).

Usage:
    python bench/bench_hooks.py [--seeknal PATH] [--n 1000] [--checkout-reps 21]
                                [--hook-reps 21] [--plan-reps 5] [--push-reps 5] [--keep]

Setup: the N-node project (bench/gen_project.py) as a fresh git repo on main, production built
with ``seeknal run``; branch feature-x = main + one mutated transform (one commit); env
feature-x planned (``seeknal plan`` on feature-x); ``seeknal hooks install`` done, with the
seeknal executable's folder first on PATH.  All git commands run with no system/global git
config.

post-checkout:
  * ``git -c core.hooksPath=H checkout -q feature-x`` / ``... main`` alternating, H = the
    repo's hooks folder (seeknal's shims) or an empty folder (no hooks); the two variants are
    interleaved rep by rep (order swapped every rep) so machine load hits both alike; median of
    --checkout-reps per direction and variant; added ms = median(hooks) - median(no hooks);
  * the installed shim alone, ``sh .git/hooks/post-checkout <main> <feature-x> 1`` (median of
    --hook-reps), on feature-x (env path: reads the env's small files) and on main (production
    path); it starts ``python -I -S`` on seeknal.git.checkout;
  * the modules that process imports (``-X importtime`` and its sys.modules): duckdb, networkx,
    jinja2 and pygit2 must not be among them.

pre-push:
  * ``seeknal plan --base main --head feature-x`` (from git objects), median of --plan-reps
    after one warm-up (reported separately);
  * ``git push -q origin feature-x`` to a local bare remote with the hooks vs with
    ``--no-verify``, interleaved, median of --push-reps each; before every push a new commit on
    feature-x edits one transform's description.

Results: a table on stdout and bench/out/hooks.json.  A failing command aborts (exit 1) with its
output.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _measure import (  # noqa: E402
    CommandFailed,
    _tail,
    bench_env,
    figure_row,
    find_seeknal,
    finish_bench,
    gen_project,
    git,
    git_init,
    med,
    meta,
    print_figures,
    print_table,
    record_figures,
    run_ok,
)

FORBIDDEN = ("duckdb", "networkx", "jinja2", "pygit2")
ADDED_TARGET = 0.030  # seconds a post-checkout may add to a git checkout
NOTABLE = ("typer", "click", "rich", "yaml", "sqlglot", "pyarrow", "pandas", "numpy")
IMPORT_RE = re.compile(r"^import time:\s*(\d+)\s*\|\s*(\d+)\s*\|( *)(\S+)\s*$")


def log(msg: str) -> None:
    print(msg, flush=True)


def python_of(seeknal: str) -> str:
    """The interpreter of the seeknal console script (its #! line)."""
    first = Path(seeknal).read_text(errors="replace").splitlines()[0]
    if first.startswith("#!"):
        cand = first[2:].strip().split()[0]
        if Path(cand).exists():
            return cand
    return sys.executable


def shim_program(shim: Path) -> tuple[str, str, str]:
    """(python, package folder, program) the installed post-checkout shim starts."""
    text = shim.read_text()
    recorded = dict(line.split("=", 1) for line in text.splitlines() if line.startswith("seeknal_"))
    program = text.split("-c '", 1)[1].split('\' "$seeknal_home"', 1)[0]
    return recorded["seeknal_python"].strip("'"), recorded["seeknal_home"].strip("'"), program


# the shim's program, also writing the names in sys.modules at exit (the authoritative list of
# what got loaded; -X importtime also lists failed probes)
_MODULES_LINE = "import atexit; atexit.register(lambda: open({out!r}, 'w').write(chr(10).join(sorted(sys.modules))))\n"


def import_report(loaded: list[str], importtime_stderr: str) -> dict:
    names = set(loaded)
    tops = sorted({n.split(".")[0] for n in names})
    stdlib = set(getattr(sys, "stdlib_module_names", ()))
    third = [t for t in tops if t not in stdlib and t != "seeknal" and not t.startswith("_")]
    timed: list[dict] = []
    for line in importtime_stderr.splitlines():
        m = IMPORT_RE.match(line)
        if m and m.group(4) in names:
            timed.append(
                {
                    "name": m.group(4),
                    "self_us": int(m.group(1)),
                    "cum_us": int(m.group(2)),
                    "level": (len(m.group(3)) - 1) // 2,
                }
            )
    top_level = sorted((x for x in timed if x["level"] == 0), key=lambda x: -x["cum_us"])
    return {
        "modules_loaded": len(names),
        "modules_loaded_non_builtin_stdlib": len([n for n in names if n.split(".")[0] in stdlib]),
        "seeknal_modules": sorted(n for n in names if n.split(".")[0] == "seeknal"),
        "non_stdlib_top_level": third,
        "forbidden_present": [f for f in FORBIDDEN if f in tops],
        "notable_present": [f for f in NOTABLE if f in tops],
        "slowest_top_level_importtime": [
            {"name": x["name"], "cum_ms": x["cum_us"] / 1000} for x in top_level[:10]
        ],
        "total_import_ms_importtime": sum(x["cum_us"] for x in top_level) / 1000,
        "all_modules": sorted(names),
    }


def commit_description(repo: Path, node: str, tag: str, env: dict) -> None:
    path = repo / "seeknal" / "transforms" / f"{node}.yml"
    text = path.read_text()
    new = re.sub(r"^description: .*$", f"description: bench push {tag}", text, count=1, flags=re.M)
    path.write_text(new)
    git(repo, "commit", "-q", "--no-verify", "-am", f"describe {node} ({tag})", env=env)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--seeknal", default=None, help="seeknal executable (default: on PATH)")
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--checkout-reps", type=int, default=21)
    ap.add_argument("--hook-reps", type=int, default=21)
    ap.add_argument("--plan-reps", type=int, default=5)
    ap.add_argument("--push-reps", type=int, default=5)
    ap.add_argument(
        "--change", default=None, help="transform changed on feature-x (default: middle)"
    )
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--out", default=str(HERE / "out" / "hooks.json"))
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--record", action="store_true", help="store the figure in figures.json")
    args = ap.parse_args(argv)

    seeknal = find_seeknal(args.seeknal)
    if not seeknal:
        print(f"seeknal executable not found ({args.seeknal or 'on PATH'})", file=sys.stderr)
        return 2
    env = bench_env(seeknal)
    root = Path(tempfile.mkdtemp(prefix="seeknal-bench-hooks-"))
    doc: dict = {**meta(seeknal)}
    t_start = time.perf_counter()
    try:
        doc.update(bench(args, seeknal, env, root))
    except CommandFailed as e:
        print(str(e), file=sys.stderr)
        print(f"(project left in {root})", file=sys.stderr)
        return 1
    finish_bench(doc, t_start, seeknal, root, args.keep, args.out)

    pc, pp = doc["post_checkout"], doc["pre_push"]
    rows = [
        (
            "python -c pass, median (ms)  [interpreter floor]",
            f"{doc['python_startup_s'] * 1000:.0f}",
        ),
        (
            f"git checkout, no hooks, median of {pc['reps']} x2 (ms)",
            f"{pc['nohooks_s'] * 1000:.0f}",
        ),
        (
            f"git checkout, seeknal hooks, median of {pc['reps']} x2 (ms)",
            f"{pc['hooks_s'] * 1000:.0f}",
        ),
        ("post-checkout added, median (ms)", f"{pc['added_ms']:.0f}"),
        (
            "  -> feature-x (env) / -> main (production) (ms)",
            f"{pc['added_ms_to_feature']:.0f} / {pc['added_ms_to_main']:.0f}",
        ),
        (
            "post-checkout shim alone, on feature-x (ms)",
            f"{pc['hook_alone_env_s'] * 1000:.0f}",
        ),
        ("post-checkout shim alone, on main (ms)", f"{pc['hook_alone_prod_s'] * 1000:.0f}"),
        ("post-checkout modules loaded (sys.modules)", str(pc["imports"]["modules_loaded"])),
        (
            "post-checkout non-stdlib packages",
            ",".join(pc["imports"]["non_stdlib_top_level"]) or "none",
        ),
        (
            "post-checkout imports duckdb/networkx/jinja2/pygit2",
            ",".join(pc["imports"]["forbidden_present"]) or "none",
        ),
        (
            "seeknal plan --base main --head feature-x, first (ms)",
            f"{pp['plan_first_s'] * 1000:.0f}",
        ),
        (
            f"seeknal plan --base main --head feature-x, median of {len(pp['plan_s_all'])} (ms)  [target < 1000]",
            f"{pp['plan_s'] * 1000:.0f}",
        ),
        (
            f"git push --no-verify, median of {len(pp['push_noverify_s_all'])} (ms)",
            f"{pp['push_noverify_s'] * 1000:.0f}",
        ),
        (
            f"git push with pre-push hook, median of {len(pp['push_hook_s_all'])} (ms)",
            f"{pp['push_hook_s'] * 1000:.0f}",
        ),
        ("pre-push added (ms)", f"{pp['added_ms']:.0f}"),
    ]
    log(
        f"\nseeknal: {seeknal}   cpus: {doc['cpus']}   {doc['git']}   "
        f"total bench time: {doc['bench_total_s']:.0f}s"
    )
    log(print_table(rows, title=f"N={args.n} nodes"))
    added = pc["added_ms"] / 1000
    print_figures([figure_row("post-checkout added", added, ADDED_TARGET, "ms")], "\ntargets")
    if args.record:
        record_figures({"post-checkout added": added}, "ms")
    log(f"\nJSON written to {args.out}" + (f"; project kept in {root}" if args.keep else ""))
    return 0


def bench(args: argparse.Namespace, seeknal: str, env: dict, root: Path) -> dict:
    to = args.timeout
    repo = root / f"proj_{args.n}"
    repo.mkdir()
    info = gen_project.generate(args.n, repo, seed=args.seed)
    git_init(repo, env)
    log(f"== N={args.n}: {info['edges']} edges, {info['layers']} layers, repo {repo}")
    r: dict = {"n": args.n, "project": info}
    run_ok([seeknal, "run", "-q"], repo, env, 1800)

    # feature-x: one mutated transform of the middle layer
    width = info["layer_width"]
    change = args.change or f"t_{(info['layers'] // 2 - 1) * width}"
    git(repo, "checkout", "-q", "-b", "feature-x", env=env)
    gen_project.mutate(repo, change)
    git(repo, "commit", "-q", "--no-verify", "-am", f"change {change}", env=env)
    git(repo, "checkout", "-q", "main", env=env)
    r["feature_change"] = change
    main_sha = git(repo, "rev-parse", "main", env=env)
    feat_sha = git(repo, "rev-parse", "feature-x", env=env)

    inst = run_ok([seeknal, "hooks", "install"], repo, env, to)
    r["hooks_install_stdout"] = inst["stdout"].strip()
    hooks_dir = Path(git(repo, "rev-parse", "--git-path", "hooks", env=env))
    hooks_dir = hooks_dir if hooks_dir.is_absolute() else (repo / hooks_dir).resolve()
    empty = root / "no-hooks"
    empty.mkdir()
    # plan the env of feature-x so post-checkout reports a real env status
    git(repo, "checkout", "-q", "feature-x", env=env)
    planned = run_ok([seeknal, "plan"], repo, env, to)
    r["feature_plan_tail"] = _tail(planned["stdout"], 6)
    git(repo, "checkout", "-q", "main", env=env)
    status = run_ok([seeknal, "hooks", "status"], repo, env, to)
    r["hooks_status"] = status["stdout"].strip()
    log(f"  hooks installed in {hooks_dir}; feature-x changes {change}")

    py = python_of(seeknal)
    starts = [run_ok([py, "-c", "pass"], repo, env, to) for _ in range(11)]
    r["python_startup_s"] = med(s["wall_s"] for s in starts)

    # -- post-checkout: interleaved checkouts with / without the hooks ----------------------------
    times: dict[tuple[str, str], list[float]] = {}
    samples: dict[str, str] = {}
    for rep in range(args.checkout_reps):
        order = ("hooks", "nohooks") if rep % 2 == 0 else ("nohooks", "hooks")
        for variant in order:
            hp = str(hooks_dir if variant == "hooks" else empty)
            for branch in ("feature-x", "main"):
                res = run_ok(
                    ["git", "-c", f"core.hooksPath={hp}", "checkout", "-q", branch], repo, env, to
                )
                times.setdefault((variant, branch), []).append(res["wall_s"])
                samples.setdefault(f"{variant}->{branch}", res["stderr"].strip())
    for key, text in samples.items():
        ran = "seeknal" in text
        if ran != key.startswith("hooks"):
            raise CommandFailed(
                f"post-checkout hook {'did not run' if not ran else 'ran'} "
                f"for {key}: stderr {text!r}"
            )
    pc: dict = {"reps": args.checkout_reps, "hook_output": samples}
    for (variant, branch), vals in times.items():
        pc[f"{variant}_to_{branch}_s_all"] = vals
        pc[f"{variant}_to_{branch}_s"] = med(vals)
    pc["hooks_s"] = med(times[("hooks", "feature-x")] + times[("hooks", "main")])
    pc["nohooks_s"] = med(times[("nohooks", "feature-x")] + times[("nohooks", "main")])
    pc["added_ms"] = (pc["hooks_s"] - pc["nohooks_s"]) * 1000
    pc["added_ms_to_feature"] = (pc["hooks_to_feature-x_s"] - pc["nohooks_to_feature-x_s"]) * 1000
    pc["added_ms_to_main"] = (pc["hooks_to_main_s"] - pc["nohooks_to_main_s"]) * 1000
    log(
        f"  git checkout: no hooks {pc['nohooks_s'] * 1000:.0f} ms, hooks "
        f"{pc['hooks_s'] * 1000:.0f} ms -> post-checkout adds {pc['added_ms']:.0f} ms "
        f"(to feature-x {pc['added_ms_to_feature']:.0f}, to main {pc['added_ms_to_main']:.0f})"
    )

    # the installed shim alone, on each branch (checkouts without hooks to get there)
    shim = repo / ".git" / "hooks" / "post-checkout"
    hook_cmd = ["/bin/sh", str(shim), main_sha, feat_sha, "1"]
    shim_py, shim_home, program = shim_program(shim)
    for branch, key in (("feature-x", "env"), ("main", "prod")):
        git(repo, "-c", f"core.hooksPath={empty}", "checkout", "-q", branch, env=env)
        runs = [run_ok(hook_cmd, repo, env, to) for _ in range(args.hook_reps)]
        pc[f"hook_alone_{key}_s"] = med(x["wall_s"] for x in runs)
        pc[f"hook_alone_{key}_s_all"] = [x["wall_s"] for x in runs]
        pc[f"hook_alone_{key}_maxrss_mb"] = max(x["maxrss_mb"] for x in runs)
        pc[f"hook_alone_{key}_stderr"] = runs[-1]["stderr"].strip()
        if key == "env":
            args3 = [shim_home, main_sha, feat_sha, "1"]
            direct = [shim_py, "-I", "-S", "-X", "importtime", "-c", program, *args3]
            imp = run_ok(direct, repo, env, to)
            mods_file = root / "modules.txt"
            dump = _MODULES_LINE.format(out=str(mods_file)) + program
            run_ok([shim_py, "-I", "-S", "-c", dump, *args3], repo, env, to)
            pc["imports"] = import_report(mods_file.read_text().split(), imp["stderr"])
    log(
        f"  post-checkout shim alone: on feature-x {pc['hook_alone_env_s'] * 1000:.0f} ms, "
        f"on main {pc['hook_alone_prod_s'] * 1000:.0f} ms; python -c pass "
        f"{r['python_startup_s'] * 1000:.0f} ms"
    )
    imps = pc["imports"]
    log(
        f"  imports: {imps['modules_loaded']} modules, non-stdlib {imps['non_stdlib_top_level']}, "
        f"forbidden present: {imps['forbidden_present'] or 'none'}"
    )
    r["post_checkout"] = pc

    # -- pre-push ----------------------------------------------------------------------------------
    pp: dict = {}
    plan_cmd = [seeknal, "plan", "--base", "main", "--head", "feature-x"]
    first = run_ok(plan_cmd, repo, env, to)
    pp["plan_first_s"] = first["wall_s"]
    plans = [run_ok(plan_cmd, repo, env, to) for _ in range(args.plan_reps)]
    pp["plan_s"] = med(x["wall_s"] for x in plans)
    pp["plan_s_all"] = [x["wall_s"] for x in plans]
    pp["plan_maxrss_mb"] = max(x["maxrss_mb"] for x in plans)
    pp["plan_stdout_tail"] = _tail(plans[-1]["stdout"], 12)
    log(
        f"  seeknal plan --base main --head feature-x: first {first['wall_s'] * 1000:.0f} ms, "
        f"median {pp['plan_s'] * 1000:.0f} ms"
    )

    remote = root / "remote.git"
    git(root, "init", "-q", "--bare", str(remote), env=env)
    git(repo, "remote", "add", "origin", str(remote), env=env)
    git(repo, "push", "-q", "--no-verify", "origin", "main", env=env)
    git(repo, "-c", f"core.hooksPath={empty}", "checkout", "-q", "feature-x", env=env)
    git(repo, "push", "-q", "--no-verify", "-u", "origin", "feature-x", env=env)
    push_times: dict[str, list[float]] = {"hook": [], "noverify": []}
    hook_out = None
    for rep in range(args.push_reps):
        order = ("hook", "noverify") if rep % 2 == 0 else ("noverify", "hook")
        for variant in order:
            commit_description(repo, "t_0", f"{rep}-{variant}", env)
            cmd = ["git", "push", "-q"] + (["--no-verify"] if variant == "noverify" else [])
            res = run_ok(cmd + ["origin", "feature-x"], repo, env, to)
            push_times[variant].append(res["wall_s"])
            if variant == "hook" and hook_out is None:
                hook_out = res["stderr"].strip()
                if "seeknal" not in hook_out:
                    raise CommandFailed(f"pre-push hook did not report anything: {hook_out!r}")
    pp["push_hook_s_all"] = push_times["hook"]
    pp["push_noverify_s_all"] = push_times["noverify"]
    pp["push_hook_s"] = med(push_times["hook"])
    pp["push_noverify_s"] = med(push_times["noverify"])
    pp["added_ms"] = (pp["push_hook_s"] - pp["push_noverify_s"]) * 1000
    pp["hook_output"] = hook_out
    log(
        f"  git push: --no-verify {pp['push_noverify_s'] * 1000:.0f} ms, with pre-push "
        f"{pp['push_hook_s'] * 1000:.0f} ms -> adds {pp['added_ms']:.0f} ms"
    )
    r["pre_push"] = pp
    git(repo, "-c", f"core.hooksPath={empty}", "checkout", "-q", "main", env=env)
    return r


if __name__ == "__main__":
    sys.exit(main())
