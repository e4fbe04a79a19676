"""Git facts read straight from the repository's files, for the hooks and env resolution.

pygit2 costs ~50 ms to import, so what these need (the git dir, HEAD, a rebase in progress) is
read from files, the way git lays them out: by `gitfiles` with str paths (the post-checkout
hook's own process imports nothing more), given here as `Path`s.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import seeknal.git.gitfiles as gitfiles


class GitDirs(NamedTuple):
    worktree: Path  # top of the working tree
    gitdir: Path  # this worktree's git dir (.git, or .git/worktrees/<name>)
    common: Path  # the shared git dir (refs, config, hooks)


def find_git(start: Path) -> GitDirs | None:
    found = gitfiles.find_dirs(str(start))
    return None if found is None else GitDirs(*(Path(folder) for folder in found))


def current_branch(dirs: GitDirs) -> str | None:
    """The checked-out branch, or None on a detached HEAD."""
    return gitfiles.head_branch(str(dirs.gitdir))


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
    return gitfiles.rebase_in_progress(str(dirs.gitdir))


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
    return branch_where(dirs, branch) is not None


def branch_where(dirs: GitDirs, branch: str) -> str | None:
    """Where `branch` still exists: "" for a local branch, else the first remote-tracking branch
    of that name ("origin/feature/x"), None when neither exists."""
    if (dirs.common / "refs" / "heads" / branch).is_file():
        return ""
    remotes = dirs.common / "refs" / "remotes"
    if remotes.is_dir():
        for remote in sorted(remotes.iterdir()):
            if (remote / branch).is_file():
                return f"{remote.name}/{branch}"
    packed = dirs.common / "packed-refs"
    found: str | None = None
    if packed.is_file():
        for line in packed.read_text().splitlines():
            ref = line.partition(" ")[2]
            if ref == f"refs/heads/{branch}":
                return ""
            if found is None and ref.startswith("refs/remotes/"):
                origin, _, name = ref.removeprefix("refs/remotes/").partition("/")
                found = f"{origin}/{branch}" if name == branch else None
    return found


# -- the env chosen by the last checkout in this worktree ----------------------------------------
def read_switch(dirs: GitDirs, project_key: str) -> dict[str, Any] | None:
    return gitfiles.read_switch(str(dirs.gitdir), project_key)
