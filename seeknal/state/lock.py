"""A lock on target/ for mutating commands. The holder writes its pid and command beside it."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from seeknal import notices
from seeknal.errors import LockError

DEFAULT_WAIT_SECONDS = 10.0
LOCK, HOLDER = ".lock", ".lock.holder"


@contextmanager
def target_lock(target: Path, command: str, wait: float | None = None) -> Iterator[bool]:
    """Hold target/'s lock; yields whether a killed holder had left its holder file (a command
    that ends, even by an exception, removes it before letting go of the lock)."""
    target.mkdir(parents=True, exist_ok=True)
    lock_path = target / LOCK
    info_path = target / HOLDER
    if wait is None:
        wait = float(os.environ.get("SEEKNAL_LOCK_TIMEOUT", DEFAULT_WAIT_SECONDS))
    lock = FileLock(str(lock_path))
    try:
        try:
            lock.acquire(timeout=0)
        except Timeout:
            if wait <= 0:
                raise
            if notices.on_lock_wait is not None:
                notices.on_lock_wait(f"waiting up to {wait:g}s for {_holder(info_path)} to finish")
            lock.acquire(timeout=wait)
    except Timeout:
        holder = _holder(info_path)
        raise LockError(
            f"Another seeknal command is changing {target} ({holder}); waited {wait:g}s.",
            "Wait for it to finish and run the command again. If no seeknal process is "
            f"running, delete {lock_path}.",
        ) from None
    except OSError as exc:  # e.g. .lock replaced by a folder, or target/ not writable
        what = "a folder" if lock_path.is_dir() else "not usable"
        raise LockError(
            f"Cannot take the lock {lock_path}: it is {what} ({exc.strerror or exc}).",
            f"Remove {lock_path} if no seeknal command is running (seeknal creates it again), "
            f"and check that {target} is writable.",
        ) from None
    try:
        left = info_path.exists()
        holder = notices.command_line or command or " ".join(sys.argv)
        try:
            info_path.write_text(json.dumps({"pid": os.getpid(), "command": holder}))
        except OSError:
            pass  # the lock holds without it; only naming the holder to others is lost
        yield left
    finally:
        try:
            info_path.unlink()
        except OSError:
            pass
        lock.release()


def holder_left(target: Path) -> bool:
    """A holder file exists: a command holds the lock, or one was killed while holding it."""
    return (target / HOLDER).exists()


def _holder(info_path: Path) -> str:
    try:
        info = json.loads(info_path.read_text())
        return f"pid {info.get('pid')}: {info.get('command')}"
    except (OSError, ValueError):
        return "holder unknown"
