"""Git facts read straight from the repository's files, for the hook path and env resolution.

pygit2 costs ~50 ms to import; the post-checkout hook has 100 ms in all, so what it needs (the
git dir, HEAD, a rebase in progress) is read here from files, the way git lays them out.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, NamedTuple


class GitDirs(NamedTuple):
    worktree: Path  # top of the working tree
    gitdir: Path  # this worktree's git dir (.git, or .git/worktrees/<name>)
    common: Path  # the shared git dir (refs, config, hooks)


def find_git(start: Path) -> GitDirs | None:
    for folder in (start, *start.parents):
        dotgit = folder / ".git"
        if dotgit.is_dir():
            return GitDirs(folder, dotgit, dotgit)
        if dotgit.is_file():
            text = dotgit.read_text(encoding="utf-8", errors="replace").strip()
            if not text.startswith("gitdir:"):
                return None
            gitdir = Path(text[len("gitdir:") :].strip())
            gitdir = gitdir if gitdir.is_absolute() else (folder / gitdir).resolve()
            return GitDirs(folder, gitdir, _common(gitdir))
    return None


def _common(gitdir: Path) -> Path:
    marker = gitdir / "commondir"
    if marker.is_file():
        rel = Path(marker.read_text().strip())
        return rel if rel.is_absolute() else (gitdir / rel).resolve()
    return gitdir


def current_branch(dirs: GitDirs) -> str | None:
    """The checked-out branch, or None on a detached HEAD."""
    try:
        head = (dirs.gitdir / "HEAD").read_text(encoding="utf-8").strip()
    except OSError:
        return None
    prefix = "ref: refs/heads/"
    return head[len(prefix) :] if head.startswith(prefix) else None


def rebasing_branch(dirs: GitDirs) -> str | None:
    """The branch a rebase in progress is rewriting (HEAD is detached meanwhile)."""
    for folder in ("rebase-merge", "rebase-apply"):
        try:
            head = (dirs.gitdir / folder / "head-name").read_text(encoding="utf-8").strip()
        except OSError:
            continue
        if head.startswith("refs/heads/"):
            return head[len("refs/heads/") :]
    return None


def rebase_in_progress(dirs: GitDirs) -> bool:
    if any((dirs.gitdir / name).exists() for name in ("rebase-merge", "rebase-apply")):
        return True
    return "rebase" in os.environ.get("GIT_REFLOG_ACTION", "")


def committed_merge(dirs: GitDirs) -> bool:
    """Whether the commit just made completes a merge by hand (`git commit` or `git merge
    --continue` after conflicts): HEAD's last reflog entry says `commit (merge)`. git runs no
    post-merge hook for those, only post-commit."""
    path = dirs.gitdir / "logs" / "HEAD"
    try:
        with path.open("rb") as handle:
            handle.seek(max(0, path.stat().st_size - 4096))
            tail = handle.read()
    except OSError:
        return False
    last = tail.rstrip(b"\n").rsplit(b"\n", 1)[-1]
    return b"\tcommit (merge): " in last


def branch_exists(dirs: GitDirs, branch: str) -> bool:
    """A local branch of that name, or a remote-tracking one (the branch lives on elsewhere)."""
    if (dirs.common / "refs" / "heads" / branch).is_file():
        return True
    remotes = dirs.common / "refs" / "remotes"
    if remotes.is_dir() and any((r / branch).is_file() for r in remotes.iterdir()):
        return True
    packed = dirs.common / "packed-refs"
    if packed.is_file():
        for line in packed.read_text().splitlines():
            ref = line.partition(" ")[2]
            if ref == f"refs/heads/{branch}" or (
                ref.startswith("refs/remotes/") and ref.split("/", 3)[-1] == branch
            ):
                return True
    return False


# -- the env chosen by the last checkout in this worktree ----------------------------------------
def _switch_file(dirs: GitDirs) -> Path:
    return dirs.gitdir / "seeknal" / "active-env.json"


def read_switch(dirs: GitDirs, project_key: str) -> dict[str, Any] | None:
    try:
        data = json.loads(_switch_file(dirs).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    entry = data.get(project_key) if isinstance(data, dict) else None
    return entry if isinstance(entry, dict) else None


def write_switch(dirs: GitDirs, project_key: str, entry: dict[str, Any]) -> None:
    path = _switch_file(dirs)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            data = {}
    except (OSError, ValueError):
        data = {}
    data[project_key] = entry
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(json.dumps(data, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)
