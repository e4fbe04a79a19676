"""A lock on target/ for mutating commands. The holder writes its pid and command beside it."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from seeknal import notices
from seeknal.errors import LockError

DEFAULT_WAIT_SECONDS = 10.0
LOCK, HOLDER = ".lock", ".lock.holder"
POLL_SECONDS = 0.05


class Timeout(Exception):
    """The lock was not free within the wait."""


class _Flock:
    """flock(2) on the lock file, as the `filelock` package takes it on POSIX (the two agree),
    without its import (tens of ms on every mutating command); `filelock` elsewhere."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.fd: int | None = None

    def acquire(self, timeout: float) -> None:
        import fcntl
        import time

        deadline = time.monotonic() + timeout
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                if time.monotonic() >= deadline:
                    raise Timeout(self.path) from None
                time.sleep(POLL_SECONDS)
                continue
            if _same_file(fd, self.path):
                self.fd = fd
                return
            os.close(fd)  # deleted or replaced while we waited: lock the file that is there now

    def release(self) -> None:
        if self.fd is not None:
            import fcntl

            # unlocked outright: a process forked while it was held (promote's background
            # deleter) has a copy of the descriptor, and closing only ours would leave it locked
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


def _same_file(fd: int, path: str) -> bool:
    try:
        return os.fstat(fd).st_ino == os.stat(path).st_ino
    except OSError:
        return False


def _file_lock(path: str) -> Any:
    if os.name == "posix":
        return _Flock(path)
    from filelock import FileLock

    return FileLock(path)


def _wait_seconds() -> float:
    """SEEKNAL_LOCK_TIMEOUT, refused (before anything is written) when it is not a number."""
    text = os.environ.get("SEEKNAL_LOCK_TIMEOUT", "")
    if not text.strip():
        return float(DEFAULT_WAIT_SECONDS)
    try:
        wait = float(text)
    except ValueError:
        wait = float("nan")
    if wait != wait or wait in (float("inf"), float("-inf")):  # NaN and infinities too
        raise LockError(
            f"SEEKNAL_LOCK_TIMEOUT={text!r} is not a number of seconds.",
            "Set it to the seconds to wait for another seeknal command (e.g. 30), or unset it.",
        )
    return wait


@contextmanager
def target_lock(target: Path, command: str, wait: float | None = None) -> Iterator[bool]:
    """Hold target/'s lock; yields whether a killed holder had left its holder file (a command
    that ends, even by an exception, removes it before letting go of the lock)."""
    if wait is None:
        wait = _wait_seconds()
    target.mkdir(parents=True, exist_ok=True)
    lock_path = target / LOCK
    info_path = target / HOLDER
    lock = _file_lock(str(lock_path))
    try:
        try:
            lock.acquire(timeout=0)
        except _TIMEOUTS:
            if wait <= 0:
                raise
            if notices.on_lock_wait is not None:
                notices.on_lock_wait(f"waiting up to {wait:g}s for {_holder(info_path)} to finish")
            lock.acquire(timeout=wait)
    except _TIMEOUTS:
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


def _timeouts() -> tuple[type[BaseException], ...]:
    if os.name == "posix":
        return (Timeout,)
    from filelock import Timeout as FileLockTimeout

    return (Timeout, FileLockTimeout)


_TIMEOUTS = _timeouts()


def holder_left(target: Path) -> bool:
    """A holder file exists: a command holds the lock, or one was killed while holding it."""
    return (target / HOLDER).exists()


def _holder(info_path: Path) -> str:
    try:
        info = json.loads(info_path.read_text())
        return f"pid {info.get('pid')}: {info.get('command')}"
    except (OSError, ValueError):
        return "holder unknown"
