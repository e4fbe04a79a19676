"""Small git operations on a working tree."""

from __future__ import annotations

from pathlib import Path

import pygit2


def init_and_commit(path: Path, message: str, branch: str = "main") -> str:
    """Create a repository at `path` on `branch` and commit every file; returns the commit id."""
    repo = pygit2.init_repository(str(path), initial_head=branch)
    repo.index.add_all()
    repo.index.write()
    tree = repo.index.write_tree()
    signature = pygit2.Signature("seeknal demo", "demo@seeknal.invalid")
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
    signature = pygit2.Signature("seeknal demo", "demo@seeknal.invalid")
    commit = repo.create_commit(ref.name, signature, signature, message, tree, [head.id])
    return str(commit)
