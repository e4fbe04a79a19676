"""Helpers for the git integration tests (hooks fired by the real `git`, remotes, branches).

Importable as `from gitkit import ...` (tests/ is on sys.path, it holds conftest.py). Kept apart
from conftest.py, which other tests own.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from conftest import Result, _check_clean, git

# The folder of the installed `seeknal` executable: the hook shims need it on git's PATH.
BIN_DIR = Path(sys.executable).parent
ZERO = "0" * 40

ADULTS_WITH_COLUMN = """\
kind: transform
name: adults
description: People aged 18 or more.
inputs:
  - ref: source.people
transform: |
  SELECT id, name, age, city, age * 12 AS age_months
  FROM ref('source.people')
  WHERE age >= 18
"""

NAMES_BREAKING = """\
kind: transform
name: names
inputs:
  - ref: source.people
transform: |
  SELECT id FROM ref('source.people')
"""

NAMES_NON_BREAKING = """\
kind: transform
name: names
inputs:
  - ref: source.people
transform: |
  SELECT id, upper(name) AS name, lower(name) AS lower_name FROM ref('source.people')
"""

EXTRA_ON_MAIN = """\
kind: transform
name: extra
inputs:
  - ref: source.people
transform: |
  SELECT city FROM ref('source.people')
"""

BROKEN_NODE = "kind: transform\nname: [unclosed\n"


def git_env(extra: Mapping[str, str] | None = None, *, with_seeknal: bool = True) -> dict[str, str]:
    """The environment for a `git` subprocess whose hooks must find seeknal (or must not)."""
    env = {k: v for k, v in os.environ.items() if k not in ("SEEKNAL_ENV", "SEEKNAL_SKIP_HOOKS")}
    parts = [p for p in env.get("PATH", "").split(os.pathsep) if p]
    if with_seeknal:
        parts = [str(BIN_DIR), *parts]
    else:
        parts = [p for p in parts if not (Path(p) / "seeknal").exists()]
    env["PATH"] = os.pathsep.join(parts)
    env.update(extra or {})
    return env


def run_git(
    cwd: Path,
    *args: str,
    env: Mapping[str, str] | None = None,
    with_seeknal: bool = True,
    check: bool = True,
    stdin: str | None = None,
) -> Result:
    """`git ARGS` as a subprocess, hooks included; asserts success unless check=False."""
    proc = subprocess.run(
        ["git", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        input=stdin,
        env=git_env(env, with_seeknal=with_seeknal),
    )
    result = _check_clean(Result(proc.returncode, proc.stdout, proc.stderr))
    if check:
        assert result.exit_code == 0, f"git {' '.join(args)} failed:\n{result.output}"
    return result


def seeknal_lines(text: str) -> list[str]:
    """The lines seeknal's hooks printed."""
    return [line for line in text.splitlines() if line.startswith("seeknal")]


def commit_files(root: Path, files: Mapping[str, str], message: str) -> str:
    """Write files, commit them (hooks do not fire on commit); returns the new commit id."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)
    return rev(root, "HEAD")


def rev(root: Path, name: str) -> str:
    return git(root, "rev-parse", name).strip()


def install_hooks(root: Path) -> None:
    from conftest import cli

    res = cli(root, "hooks", "install")
    assert res.exit_code == 0, res.output


def bare_remote(root: Path) -> Path:
    remote = root.parent / "remote.git"
    git(root.parent, "init", "-q", "--bare", str(remote))
    git(root, "remote", "add", "origin", str(remote))
    return remote


def env_folder(root: Path, env: str) -> Path:
    return root / "target" / "environments" / env


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def switch_file(root: Path) -> Path:
    return root / ".git" / "seeknal" / "active-env.json"


def write_hook(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def history_lines(root: Path) -> list[dict[str, Any]]:
    """Every line of production's history: promotions, rollbacks, runs that changed outputs."""
    path = root / "target" / "promotions.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def promotions(root: Path) -> list[dict[str, Any]]:
    """The promotion lines of production's history (lines without a kind are promotions)."""
    return [line for line in history_lines(root) if line.get("kind", "promote") == "promote"]


def ignore_target(root: Path) -> Path:
    """Commit a .gitignore for target/ (as `seeknal init` writes), so `git add -A` skips it."""
    commit_files(root, {".gitignore": "target/\n"}, "ignore target/")
    return root
