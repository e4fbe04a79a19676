"""The lock every mutating command holds, with recovery of what a killed command left under it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from seeknal.errors import LockError
from seeknal.state import journal, temps
from seeknal.state.history import finish_promote, finish_rollback
from seeknal.state.lock import holder_left, target_lock


def _recover(base: Path, root: Path, killed: bool = True) -> list[str]:
    """Finish or undo a promotion, delete leftovers; the folders of outputs (thousands of files,
    written only under the lock) are searched for temp files only after a `killed` holder."""
    notes = []
    finishers = {
        "promote": lambda j: finish_promote(root, j),
        "rollback": lambda j: finish_rollback(root, j),
    }
    message = journal.recover(base, root, finishers)
    if message:
        notes.append(message)
    journal.empty_trash(base, background=False)  # a deleter that died left it behind
    removed = temps.remove_leftovers(base, root, outputs=killed or message is not None)
    removed += _remove_env_leftovers(base)
    if removed and not message:
        notes.append(f"removed {removed} temporary file(s) left by an interrupted command")
    return notes


def _remove_env_leftovers(base: Path) -> int:
    """Env folders half copied (`env promote`) or half deleted by a command that was killed."""
    folder = base / "environments"
    count = 0
    for pattern in (".copy-*", ".deleting-*"):
        for child in folder.glob(pattern):
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child, ignore_errors=True)
                count += 1
    return count


@contextmanager
def mutating(base: Path, root: Path, command: str) -> Iterator[list[str]]:
    """Hold target/'s lock; first finish or undo whatever a killed command left behind."""
    with target_lock(base, command) as killed:
        yield _recover(base, root, killed)


def recover_if_idle(base: Path, root: Path) -> list[str]:
    """For any command: repair what a killed command left (an interrupted promotion, temp files),
    unless another command holds the lock (a live command finishes by itself; read-only
    commands never wait). A killed command is known by its journal or by the holder file it
    had no chance to remove."""
    if not journal.pending(base) and not holder_left(base):
        return []
    try:
        with target_lock(base, "seeknal (recovering an interrupted command)", wait=0):
            return _recover(base, root)
    except LockError:
        return []
