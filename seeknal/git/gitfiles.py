"""The git facts the post-checkout hook needs, read from the repository's files with `os` alone
(paths as str: `pathlib` costs the hook 3 ms). `dotgit` gives the same facts as `Path`s to the
rest of seeknal."""

from __future__ import annotations

import os

from seeknal import jsonfile

TYPE_CHECKING = False  # not `typing`'s: importing it costs the hook 2-3 ms
if TYPE_CHECKING:
    from typing import Any

SWITCH = os.path.join("seeknal", "active-env.json")  # in a worktree's own git dir
REGISTRY = os.path.join("seeknal", "hooks.json")  # in the common git dir


def find_dirs(start: str) -> tuple[str, str, str] | None:
    """(worktree, gitdir, common) of the repository holding folder `start`: the top of the
    working tree, this worktree's git dir (.git, or .git/worktrees/<name>) and the shared one."""
    folder = start
    while True:
        dotgit = os.path.join(folder, ".git")
        if os.path.isdir(dotgit):
            return folder, dotgit, dotgit
        if os.path.isfile(dotgit):
            with open(dotgit, encoding="utf-8", errors="replace") as handle:
                text = handle.read().strip()
            if not text.startswith("gitdir:"):
                return None
            gitdir = text[len("gitdir:") :].strip()
            if not os.path.isabs(gitdir):
                gitdir = os.path.realpath(os.path.join(folder, gitdir))
            return folder, gitdir, _common(gitdir)
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def _common(gitdir: str) -> str:
    marker = os.path.join(gitdir, "commondir")
    if not os.path.isfile(marker):
        return gitdir
    with open(marker, encoding="utf-8") as handle:
        rel = handle.read().strip()
    return rel if os.path.isabs(rel) else os.path.realpath(os.path.join(gitdir, rel))


def head_branch(gitdir: str) -> str | None:
    """The checked-out branch, or None on a detached HEAD."""
    try:
        with open(os.path.join(gitdir, "HEAD"), encoding="utf-8") as handle:
            head = handle.read().strip()
    except OSError:
        return None
    prefix = "ref: refs/heads/"
    return head[len(prefix) :] if head.startswith(prefix) else None


def rebase_in_progress(gitdir: str) -> bool:
    if any(os.path.exists(os.path.join(gitdir, name)) for name in ("rebase-merge", "rebase-apply")):
        return True
    return "rebase" in os.environ.get("GIT_REFLOG_ACTION", "")


def project_key(root: str, worktree: str) -> str:
    """How the switch file names a project: its folder relative to the worktree."""
    real, top = os.path.realpath(root), os.path.realpath(worktree)
    if real == top:
        return "."
    prefix = top if top.endswith(os.sep) else top + os.sep
    return real[len(prefix) :].replace(os.sep, "/") if real.startswith(prefix) else root


def registered_projects(worktree: str, common: str) -> list[str]:
    """The projects `seeknal hooks install` registered for this repository (absolute, resolved),
    else the worktree itself when it holds a project."""
    data = jsonfile.read(os.path.join(common, REGISTRY))
    listed = data.get("projects") if isinstance(data, dict) else None
    rels = [str(p) for p in listed] if isinstance(listed, list) else []
    roots = [os.path.realpath(os.path.join(worktree, rel)) for rel in rels]
    if not roots and os.path.isfile(os.path.join(worktree, "seeknal_project.yml")):
        roots = [worktree]
    return roots


def read_switch(gitdir: str, key: str) -> dict[str, Any] | None:
    """The env the last checkout in this worktree switched project `key` to."""
    data = jsonfile.read(os.path.join(gitdir, SWITCH))
    entry = data.get(key) if isinstance(data, dict) else None
    return entry if isinstance(entry, dict) else None


def write_switch(gitdir: str, key: str, entry: dict[str, Any]) -> None:
    path = os.path.join(gitdir, SWITCH)
    data = jsonfile.read(path)
    data = data if isinstance(data, dict) else {}
    data[key] = entry
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = os.path.join(os.path.dirname(path), f".active-env.json.{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(jsonfile.dumps(data) + "\n")
    os.replace(tmp, path)
