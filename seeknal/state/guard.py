"""The lock every mutating command holds, with recovery of an interrupted promotion under it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from seeknal.errors import LockError
from seeknal.state import atomic, journal
from seeknal.state.history import finish_promote
from seeknal.state.lock import target_lock


def _recover(base: Path, root: Path) -> list[str]:
    notes = []
    message = journal.recover(base, root, {"promote": lambda j: finish_promote(root, j)})
    if message:
        notes.append(message)
    journal.empty_trash(base, background=False)  # a deleter that died left it behind
    removed = atomic.remove_temp_files(base)
    if removed and not message:
        notes.append(f"removed {removed} temporary file(s) left by an interrupted command")
    return notes


@contextmanager
def mutating(base: Path, root: Path, command: str) -> Iterator[list[str]]:
    """Hold target/'s lock; first finish or undo whatever a killed command left behind."""
    with target_lock(base, command):
        yield _recover(base, root)


def recover_if_idle(base: Path, root: Path) -> list[str]:
    """For any command: repair a crashed promotion now, unless another command holds the lock
    (a live promotion finishes by itself; read-only commands never wait)."""
    if not journal.pending(base):
        return []
    try:
        with target_lock(base, "seeknal (recovering an interrupted promotion)", wait=0):
            return _recover(base, root)
    except LockError:
        return []
