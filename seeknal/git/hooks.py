"""Installing, removing and explaining seeknal's git hook shims (the files in hooks/, see
hooks/README.md and docs/git.md).

The hooks folder is the one git itself uses (`git rev-parse --git-path hooks`: core.hooksPath and
worktrees included). A hook seeknal did not write is never overwritten: it is kept beside ours as
`<hook>.seeknal-user`, still runs first (its exit status is kept), and comes back on uninstall.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from seeknal.errors import SeeknalError
from seeknal.git import dotgit, gitfiles

HOOKS = ("pre-push", "post-merge", "post-checkout", "post-commit")
MARKER = "seeknal-hook-shim"
USER_SUFFIX = ".seeknal-user"
REGISTRY = gitfiles.REGISTRY

RECORDED = re.compile(r"^(seeknal_bin|seeknal_python|seeknal_home)=.*$", re.MULTILINE)


def shim_folder() -> Path:
    """The shims git runs: seeknal/_hooks in an installed wheel, the repository's hooks/ in a
    source checkout or an editable install."""
    package = Path(__file__).resolve().parent.parent
    for folder in (package / "_hooks", package.parent / "hooks"):
        if all((folder / hook).is_file() for hook in HOOKS):
            return folder
    raise SeeknalError(
        f"seeknal's hook shims are missing from its installation ({package}).",
        "Reinstall seeknal (pip install --force-reinstall seeknal), then install the hooks again.",
    )


def shim_text(hook: str, binary: str, folder: Path | None = None) -> str:
    """The shipped shim for `hook`, recording `binary` as the seeknal it runs (and, in the
    post-checkout shim, the Python running this seeknal and the folder holding its package)."""
    text = ((folder or shim_folder()) / hook).read_text(encoding="utf-8")
    recorded = {
        "seeknal_bin": binary,
        "seeknal_python": sys.executable,  # not resolved: a venv's python finds its venv
        "seeknal_home": str(Path(__file__).resolve().parent.parent.parent),
    }

    def record(match: re.Match[str]) -> str:
        value = recorded[match.group(1)]
        return f"{match.group(1)}='" + value.replace("'", "'\\''") + "'"

    return RECORDED.sub(record, text)


def seeknal_binary() -> str:
    argv0 = Path(sys.argv[0])
    if argv0.name == "seeknal" and argv0.exists():
        return str(argv0.resolve())
    found = shutil.which("seeknal")
    if found:
        return str(Path(found).resolve())
    candidate = Path(sys.executable).parent / "seeknal"
    return str(candidate)


def _git(dirs: dotgit.GitDirs, *args: str) -> str:
    try:
        done = subprocess.run(
            ["git", *args], cwd=dirs.worktree, capture_output=True, text=True, check=True
        )
    except FileNotFoundError:
        raise SeeknalError("git is not installed.", "Install git, then try again.") from None
    except subprocess.CalledProcessError as exc:
        raise SeeknalError(f"git {' '.join(args)} failed: {exc.stderr.strip()}") from None
    return done.stdout.strip()


def hooks_dir(dirs: dotgit.GitDirs) -> Path:
    path = Path(_git(dirs, "rev-parse", "--git-path", "hooks"))
    return path if path.is_absolute() else (dirs.worktree / path).resolve()


def _repo(root: Path) -> dotgit.GitDirs:
    dirs = dotgit.find_git(root)
    if dirs is None:
        raise SeeknalError(
            f"{root} is not inside a git repository.", "Run 'git init' first, then install hooks."
        )
    return dirs


def _is_ours(path: Path) -> bool:
    try:
        return MARKER in path.read_text(encoding="utf-8", errors="replace")[:300]
    except OSError:
        return False


@dataclass
class Conflict:
    tool: str
    detail: str
    advice: str


def conflicts(dirs: dotgit.GitDirs, folder: Path) -> list[Conflict]:
    found: list[Conflict] = []
    hooks_path = ""
    try:
        hooks_path = _git(dirs, "config", "--get", "core.hooksPath")
    except SeeknalError:
        pass
    line = 'seeknal hook <name> "$@"'
    if ".husky" in hooks_path or (dirs.worktree / ".husky").is_dir() and ".husky" in str(folder):
        found.append(
            Conflict(
                "husky",
                f"core.hooksPath is {hooks_path} (husky manages these hooks)",
                f"add `{line}` to .husky/pre-push, .husky/post-merge, .husky/post-checkout and .husky/post-commit "
                "(for pre-push husky passes the refs on stdin, which seeknal reads)",
            )
        )
    for name in ("lefthook.yml", ".lefthook.yml", "lefthook.yaml"):
        if (dirs.worktree / name).is_file():
            found.append(
                Conflict(
                    "lefthook",
                    f"{name} manages the hooks",
                    "add a command `seeknal hook pre-push {0}` etc. under pre-push, post-merge, "
                    f"post-checkout and post-commit in {name}, with `use_stdin: true` for pre-push",
                )
            )
    for hook in HOOKS:
        path = folder / hook
        user = folder / (hook + USER_SUFFIX)
        for candidate in (path, user):
            try:
                text = candidate.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            if "pre-commit" in text and "pre-commit" not in {c.tool for c in found}:
                found.append(
                    Conflict(
                        "pre-commit",
                        f"{candidate.name} was written by pre-commit",
                        "it keeps working (seeknal chains it); or list seeknal's hooks in "
                        ".pre-commit-config.yaml (see docs/git.md) instead of installing shims",
                    )
                )
    return found


def _registry(dirs: dotgit.GitDirs) -> Path:
    return dirs.common / REGISTRY


def _projects(dirs: dotgit.GitDirs) -> list[str]:
    try:
        data = json.loads(_registry(dirs).read_text(encoding="utf-8"))
        return [str(p) for p in data.get("projects", [])]
    except (OSError, ValueError, AttributeError):
        return []


def _save_projects(dirs: dotgit.GitDirs, projects: list[str]) -> None:
    path = _registry(dirs)
    if not projects:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"projects": sorted(set(projects))}, indent=2) + "\n")


def _project_rel(root: Path, dirs: dotgit.GitDirs) -> str:
    return os.path.relpath(root.resolve(), dirs.worktree.resolve()).replace(os.sep, "/")


@dataclass
class HookReport:
    folder: Path
    actions: list[str] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)


def install(root: Path) -> HookReport:
    dirs = _repo(root)
    folder = hooks_dir(dirs)
    report = HookReport(folder, conflicts=conflicts(dirs, folder))
    blocking = [c for c in report.conflicts if c.tool in ("husky", "lefthook")]
    if blocking:
        first = blocking[0]
        raise SeeknalError(
            f"{first.tool} manages this repository's git hooks ({first.detail}); "
            "seeknal will not overwrite them.",
            f"Instead, {first.advice}. 'seeknal hooks status' explains more.",
        )
    shims = shim_folder()
    folder.mkdir(parents=True, exist_ok=True)
    binary = seeknal_binary()
    for hook in HOOKS:
        path = folder / hook
        user = folder / (hook + USER_SUFFIX)
        if path.exists() and not _is_ours(path):
            if user.exists():
                raise SeeknalError(
                    f"Both {path} and {user} exist and neither is seeknal's.",
                    f"Merge them into one hook ({path}), then run 'seeknal hooks install'.",
                )
            os.replace(path, user)
            report.actions.append(f"kept your {hook} hook as {user.name}; it still runs first")
        path.write_text(shim_text(hook, binary, shims), encoding="utf-8")
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        report.actions.append(f"installed {hook}")
    projects = _projects(dirs)
    rel = _project_rel(root, dirs)
    if rel not in projects:
        _save_projects(dirs, [*projects, rel])
    return report


def uninstall(root: Path) -> HookReport:
    dirs = _repo(root)
    folder = hooks_dir(dirs)
    report = HookReport(folder)
    projects = [p for p in _projects(dirs) if p != _project_rel(root, dirs)]
    if projects:
        _save_projects(dirs, projects)
        report.actions.append(
            f"hooks kept for the other seeknal project(s) in this repository: {', '.join(projects)}"
        )
        return report
    _save_projects(dirs, [])
    for hook in HOOKS:
        path = folder / hook
        user = folder / (hook + USER_SUFFIX)
        if path.exists() and _is_ours(path):
            path.unlink()
            report.actions.append(f"removed {hook}")
            if user.exists():
                os.replace(user, path)
                report.actions.append(f"restored your {hook} hook")
        elif user.exists() and not path.exists():
            os.replace(user, path)
            report.actions.append(f"restored your {hook} hook")
    if not report.actions:
        report.actions.append("no seeknal hooks were installed")
    return report


@dataclass
class HookState:
    hook: str
    state: str  # seeknal | seeknal+user | foreign | missing
    detail: str


def status(root: Path) -> tuple[HookReport, list[HookState], list[str]]:
    dirs = _repo(root)
    folder = hooks_dir(dirs)
    report = HookReport(folder, conflicts=conflicts(dirs, folder))
    states: list[HookState] = []
    for hook in HOOKS:
        path = folder / hook
        user = folder / (hook + USER_SUFFIX)
        if path.exists() and _is_ours(path):
            state = "seeknal+user" if user.exists() else "seeknal"
            detail = (f"your {user.name} runs first, then " if user.exists() else "") + (
                "seeknal shim"
            )
            executable = os.access(path, os.X_OK)
            if not executable:
                detail += " (NOT executable: git will skip it; run 'seeknal hooks install')"
        elif path.exists():
            state, detail = (
                "foreign",
                "a hook seeknal did not write ('seeknal hooks install' keeps it)",
            )
        else:
            state, detail = "missing", "not installed"
        states.append(HookState(hook, state, detail))
    return report, states, _projects(dirs)
