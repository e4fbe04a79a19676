"""Helpers shared by bench_envs.py and bench_hooks.py.

The process measurement itself (a tiny launcher around posix_spawn .. wait4) is bench_core's
`measure()`, re-exported here unchanged; this module adds the seeknal lookup, an isolated git
environment, tree digests and a small table printer.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import statistics
import subprocess
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import gen_project  # noqa: E402,F401
from bench_core import GIT_IDENT, CommandFailed, _tail, check, measure  # noqa: E402,F401


def find_seeknal(explicit: str | None) -> str | None:
    """Absolute path of the seeknal executable (--seeknal, else on PATH, else next to the
    running interpreter)."""
    found = shutil.which(explicit or "seeknal")
    if found is None and explicit and Path(explicit).exists():
        found = explicit
    if found is None and not explicit:
        beside = Path(sys.executable).parent / "seeknal"
        found = str(beside) if beside.exists() else None
    return str(Path(found).absolute()) if found else None


def bench_env(seeknal: str) -> dict[str, str]:
    """os.environ with seeknal's bin dir first on PATH and no system/global git config (so a
    user's core.hooksPath, templates or signing settings cannot interfere)."""
    env = dict(os.environ)
    env["PATH"] = str(Path(seeknal).parent) + os.pathsep + env.get("PATH", "")
    env["GIT_CONFIG_NOSYSTEM"] = "1"
    env["GIT_CONFIG_GLOBAL"] = os.devnull
    env.pop("SEEKNAL_SKIP_HOOKS", None)
    env.pop("SEEKNAL_ENV", None)
    env.pop("GIT_DIR", None)
    env.pop("GIT_WORK_TREE", None)
    return env


def git(repo: Path, *args: str, env: dict[str, str], capture: bool = True) -> str:
    """Run git (untimed helper); raise CommandFailed with its output on failure."""
    done = subprocess.run(
        ["git", *GIT_IDENT, *args],
        cwd=repo,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=capture,
        text=True,
    )
    if done.returncode != 0:
        raise CommandFailed(
            f"git {' '.join(args)} failed (exit {done.returncode}) in {repo}:\n"
            f"{done.stdout or ''}{done.stderr or ''}"
        )
    return (done.stdout or "").strip()


def git_init(repo: Path, env: dict[str, str], message: str = "bench project") -> None:
    git(repo, "init", "-q", "-b", "main", ".", env=env)
    git(repo, "add", "-A", env=env)
    git(repo, "commit", "-q", "--no-verify", "-m", message, env=env)


def run_ok(cmd: list[str], cwd: Path, env: dict[str, str], timeout: float = 1800) -> dict:
    """measure() + check(): abort (CommandFailed with the command's output) on non-zero exit."""
    return check(measure(cmd, cwd, timeout, env=env), cwd)


def med(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def digest_tree(root: Path, exclude: Sequence[str] = ()) -> dict[str, str]:
    """{relative path: sha256} of every file under root, skipping the relative prefixes in
    `exclude` (e.g. "environments/")."""
    out: dict[str, str] = {}
    if not root.exists():
        return out
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            if any(rel == e.rstrip("/") or rel.startswith(e) for e in exclude):
                continue
            h = hashlib.sha256()
            with open(path, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
            out[rel] = h.hexdigest()
    return out


def diff_digests(before: dict[str, str], after: dict[str, str]) -> dict[str, list[str]]:
    return {
        "changed": sorted(k for k in before.keys() & after.keys() if before[k] != after[k]),
        "added": sorted(after.keys() - before.keys()),
        "removed": sorted(before.keys() - after.keys()),
    }


def du_bytes(path: Path) -> int:
    """Apparent size in bytes of all files under path."""
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += (Path(dirpath) / name).lstat().st_size
            except OSError:
                pass
    return total


def print_table(rows: list[tuple[str, str]], title: str | None = None) -> str:
    width = max(len(k) for k, _ in rows)
    vwidth = max(len(v) for _, v in rows)
    lines = [title] if title else []
    lines.append(f"{'figure'.ljust(width)}  {'value'.rjust(vwidth)}")
    lines.append(f"{'-' * width}  {'-' * vwidth}")
    lines += [f"{k.ljust(width)}  {v.rjust(vwidth)}" for k, v in rows]
    return "\n".join(lines)


def seeknal_source_state(seeknal: str) -> dict:
    """Identify the seeknal code that was measured (it may be an editable install that changes):
    its package folder, a sha256 over its files (path + bytes) and the newest mtime."""
    first = Path(seeknal).read_text(errors="replace").splitlines()[:1]
    py = first[0][2:].strip().split()[0] if first and first[0].startswith("#!") else sys.executable
    try:
        pkg = subprocess.run(
            [py, "-c", "import seeknal, os; print(os.path.dirname(seeknal.__file__))"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return {}
    h = hashlib.sha256()
    newest = 0.0
    root = Path(pkg)
    for path in sorted(root.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts or path.suffix == ".pyc":
            continue
        h.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
        newest = max(newest, path.stat().st_mtime)
    return {
        "package_dir": pkg,
        "source_sha256": h.hexdigest()[:16],
        "newest_file_mtime": datetime.fromtimestamp(newest, UTC).isoformat(timespec="seconds"),
    }


def meta(seeknal: str) -> dict:
    try:
        import duckdb  # only for the record

        duckdb_version = duckdb.__version__
    except ImportError:
        duckdb_version = None
    try:
        git_version = subprocess.run(
            ["git", "--version"], capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        git_version = None
    return {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "seeknal": seeknal,
        "python": sys.version.split()[0],
        "duckdb": duckdb_version,
        "git": git_version,
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "seeknal_source": seeknal_source_state(seeknal),
    }


def finish_bench(doc: dict, t_start: float, seeknal: str, root: Path, keep: bool, out: str) -> None:
    """Record the total time and whether the seeknal source moved, clean up, write the JSON."""
    import json
    import time

    doc["bench_total_s"] = time.perf_counter() - t_start
    end_state = seeknal_source_state(seeknal)
    doc["seeknal_source_changed_during_bench"] = end_state != doc["seeknal_source"]
    if doc["seeknal_source_changed_during_bench"]:
        doc["seeknal_source_end"] = end_state
        print("warning: the seeknal source changed while the benchmark ran", file=sys.stderr)
    if not keep:
        shutil.rmtree(root, ignore_errors=True)
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2) + "\n")


# -- figures against their targets and the last recorded value -----------------------------------
LAST_FILE = HERE / "figures.json"


def last_figures() -> dict[str, dict]:
    """{figure: {"value", "unit", "date"}} as last recorded with --record (empty when none)."""
    import json

    try:
        data = json.loads(LAST_FILE.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _amount(value: float, unit: str) -> str:
    if unit == "x":  # a ratio of two times
        return f"{value:.2f}x"
    return f"{value * 1000:.0f} ms" if unit == "ms" else f"{value:.3f} s"


def figure_row(
    name: str, value: float | None, target: float | None, unit: str = "s"
) -> tuple[str, str, str, str]:
    """One printed row: value and target (an upper bound) in seconds, shown in `unit` ("s" or
    "ms"; "x" for a ratio); " MISSED" follows a value over its target; last is the recorded value and date."""
    shown = "-" if value is None else _amount(value, unit)
    if value is not None and target is not None and value > target:
        shown += " MISSED"
    last = last_figures().get(name)
    last_text = "-"
    if isinstance(last, dict) and isinstance(last.get("value"), int | float):
        last_text = f"{_amount(float(last['value']), unit)} ({last.get('date', '?')})"
    return (name, shown, "-" if target is None else f"<= {_amount(target, unit)}", last_text)


def print_figures(rows: list[tuple[str, str, str, str]], title: str | None = None) -> str:
    """The rows of figure_row as a table: figure  value  target  last."""
    head = ("figure", "value", "target", "last")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(4)]
    lines = [title] if title else []
    for row in [head, tuple("-" * w for w in widths), *rows]:
        lines.append(
            "  ".join(
                c.ljust(w) if i in (0, 3) else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            ).rstrip()
        )
    text = "\n".join(lines)
    print(text, flush=True)
    return text


def record_figures(values: dict[str, float], unit: str = "s") -> None:
    """Store these figures (seconds) as the last recorded ones, dated today (UTC)."""
    import json

    data = last_figures()
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    for name, value in values.items():
        data[name] = {"value": round(value, 4), "unit": unit, "date": today}
    LAST_FILE.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
