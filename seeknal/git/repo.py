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
