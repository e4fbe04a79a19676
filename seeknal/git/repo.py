"""Git through pygit2: repositories, revisions, merge-bases and project files at a commit."""

from __future__ import annotations

import hashlib
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import pygit2

from seeknal.digest import expand, paths_digest
from seeknal.errors import SeeknalError

SIGNATURE = ("seeknal", "seeknal@localhost")
NOTES_REF = "refs/notes/seeknal"  # `git log --notes=seeknal` shows production receipts


def init_and_commit(path: Path, message: str, branch: str = "main") -> str:
    """Create a repository at `path` on `branch` and commit every file; returns the commit id."""
    repo = pygit2.init_repository(str(path), initial_head=branch)
    repo.index.add_all()
    repo.index.write()
    tree = repo.index.write_tree()
    signature = pygit2.Signature(*SIGNATURE)
    commit = repo.create_commit("HEAD", signature, signature, message, tree, [])
    return str(commit)


def commit_all(path: Path, message: str, branch: str) -> str:
    """Commit every change in the work tree on `branch` (created from HEAD), and check it out."""
    repo = pygit2.Repository(str(path))
    head = repo.head.peel(pygit2.Commit)
    if branch not in repo.branches.local:
        repo.branches.local.create(branch, head)
    ref = repo.lookup_reference(f"refs/heads/{branch}")
    repo.set_head(ref.name)
    repo.index.add_all()
    repo.index.write()
    tree = repo.index.write_tree()
    signature = pygit2.Signature(*SIGNATURE)
    commit = repo.create_commit(ref.name, signature, signature, message, tree, [head.id])
    return str(commit)


class GitRepo:
    def __init__(self, start: Path) -> None:
        found = pygit2.discover_repository(str(start))
        if not found:
            raise SeeknalError(
                f"{start} is not inside a git repository.",
                "Run 'git init' (or use the command without git options).",
            )
        self.repo = pygit2.Repository(found)
        if self.repo.workdir is None:
            raise SeeknalError(f"{found} is a bare repository; seeknal needs a work tree.")
        self.workdir = Path(self.repo.workdir).resolve()

    def commit(self, rev: str) -> Any:
        try:
            return self.repo.revparse_single(rev).peel(pygit2.Commit)
        except (KeyError, ValueError, pygit2.GitError, pygit2.InvalidSpecError):
            shallow = (Path(self.repo.path) / "shallow").exists()
            raise SeeknalError(
                f"git revision '{rev}' not found.",
                "This clone is shallow: fetch the branch and its history (git fetch --unshallow "
                "origin; in CI checkout with fetch-depth: 0)."
                if shallow
                else "Name a branch, tag or commit that exists (git log --oneline shows them).",
            ) from None

    def merge_base(self, a: str, b: str) -> Any:
        ca, cb = self.commit(a), self.commit(b)
        base = self.repo.merge_base(ca.id, cb.id)
        if base is None:
            hint = "Fetch the full history (git fetch --unshallow; in CI checkout with fetch-depth: 0)."
            if not (self.workdir / ".git" / "shallow").exists():
                hint = "Plan against a revision that shares history with the branch."
            raise SeeknalError(f"'{a}' and '{b}' have no common ancestor.", hint)
        return self.repo[base]

    def current_branch(self) -> str | None:
        return None if self.repo.head_is_detached else self.repo.head.shorthand

    def branch_exists(self, name: str) -> bool:
        return name in self.repo.branches.local

    def production_branch(self, candidates: list[str], remote: str | None = None) -> str | None:
        """The branch to plan against: the pushed-to remote's copy of a production branch when
        known (the local one may be behind what was merged there), else the local branch."""
        if remote:
            for name in candidates:
                if f"{remote}/{name}" in self.repo.branches.remote:
                    return f"{remote}/{name}"
        for name in candidates:
            if name in self.repo.branches.local:
                return name
        for name in candidates:
            for remote in self.repo.branches.remote:
                if remote.split("/", 1)[-1] == name:
                    return remote
        return None

    def production_tip(self, candidates: list[str]) -> str | None:
        """The production branch (local or remote-tracking) whose tip HEAD is: CI jobs check
        out the merged commit on a detached HEAD, which still counts as the production branch."""
        try:
            head = self.repo.head.peel(pygit2.Commit).id
        except (pygit2.GitError, KeyError, ValueError):
            return None
        for name in candidates:
            for refname in self.repo.references:
                if refname != f"refs/heads/{name}" and not (
                    refname.startswith("refs/remotes/") and refname.endswith(f"/{name}")
                ):
                    continue
                try:
                    tip = self.repo.references[refname].peel(pygit2.Commit).id
                except (pygit2.GitError, KeyError, ValueError):
                    continue
                if tip == head:
                    return name
        return None

    def add_note(self, commit: str, text: str, ref: str = NOTES_REF) -> None:
        """Append `text` to the commit's note under `ref` (a commit production was built from
        twice keeps both receipts)."""
        try:
            oid = self.commit(commit).id
            try:
                old = self.repo.lookup_note(str(oid), ref).message
            except KeyError:
                old = ""
            try:
                who = self.repo.default_signature
            except (KeyError, pygit2.GitError):
                who = pygit2.Signature(*SIGNATURE)
            message = f"{old.rstrip()}\n\n{text}" if old.strip() else text
            self.repo.create_note(message, who, who, str(oid), ref, True)
        except (pygit2.GitError, ValueError, OSError) as exc:
            raise SeeknalError(f"cannot write a git note on {commit[:12]}: {exc}") from None

    def files_at(self, commit: Any, project_root: Path) -> GitTreeFiles:
        rel = project_root.resolve().relative_to(self.workdir).as_posix()
        return GitTreeFiles(self, commit, "" if rel == "." else rel, project_root)


_LINK = 0o120000  # git's file mode of a symbolic link


class GitTreeFiles:
    """Project files as they are in a commit (no checkout). Data files not committed to git are
    read from the work tree, so a plan from git objects sees the same data as a local run."""

    def __init__(self, repo: GitRepo, commit: Any, subdir: str, disk_root: Path) -> None:
        self.repo = repo
        self.commit = commit
        self.subdir = subdir
        self.disk_root = disk_root

    def _entry(self, path: str) -> Any:
        full = f"{self.subdir}/{path}" if self.subdir else path
        try:
            return self.commit.tree[full]
        except KeyError:
            return None

    def list_files(self, folder: str) -> list[str]:
        return [rel for rel, item in self._walk(folder) if item.filemode != _LINK]

    def links(self, folder: str) -> list[tuple[str, str]]:
        found = []
        for rel, item in self._walk(folder):
            if item.filemode == _LINK:
                blob: Any = self.repo.repo[item.id]
                found.append((rel, bytes(blob.data).decode("utf-8", errors="replace")))
        return found

    def _walk(self, folder: str) -> list[tuple[str, Any]]:
        """(path, tree entry) of every blob below `folder`: files, and links (git keeps a
        link's target as its content)."""
        entry = self._entry(folder)
        if entry is None or entry.type_str != "tree":
            return []
        found: list[tuple[str, Any]] = []

        def walk(tree: Any, prefix: str) -> None:
            for item in tree:
                rel = f"{prefix}/{item.name}"
                if item.type_str == "tree":
                    walk(self.repo.repo[item.id], rel)
                elif item.type_str == "blob":
                    found.append((rel, item))

        walk(self.repo.repo[entry.id], folder.rstrip("/"))
        return sorted(found, key=lambda pair: pair[0])

    def read(self, path: str) -> bytes | None:
        entry = self._entry(path)
        if entry is None or entry.type_str != "blob":
            return None
        blob: Any = self.repo.repo[entry.id]
        return bytes(blob.data)

    def data_digest(self, table: str, memo: MutableMapping[str, Any]) -> str | None:
        entry = self._entry(table) if not any(c in table for c in "*?[") else None
        if entry is not None and entry.type_str == "blob":
            key = f"g:{entry.id}"
            if key not in memo:
                blob: Any = self.repo.repo[entry.id]
                memo[key] = hashlib.sha256(blob.data).hexdigest()
            return str(memo[key])
        paths = expand(self.disk_root, table)
        return paths_digest(paths, memo) if paths else None


def fast_forward(path: Path, branch: str, to_branch: str) -> str:
    """Move `branch` to the tip of `to_branch` (a fast-forward merge) and check it out."""
    repo = pygit2.Repository(str(path))
    tip = repo.branches.local[to_branch].peel(pygit2.Commit)
    ref = repo.lookup_reference(f"refs/heads/{branch}")
    ref.set_target(tip.id)
    repo.checkout(ref.name)
    return str(tip.id)
