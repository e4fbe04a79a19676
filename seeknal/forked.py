"""Work done by a forked copy of the command, on another core, while the command goes on.

Only where forking is plain and cheap (`can_fork`): Linux, two or more usable cores, a command
line run (`seeknal.command_line`, set by the console entry point but not for git hooks or a
program importing seeknal), and a process with one thread (a fork copies only the calling
thread, and a lock another thread holds would stay locked in the copy). The copy ignores
Ctrl-C, writes to /dev/null, holds none of the command's files but its own pipes, and ends with
`os._exit`. Whatever goes wrong with it, the caller computes the value itself: a copy changes
when an answer is ready, never what it is.

Standard library only: `seeknal.sql.ahead` (sqlglot imported ahead) and the staleness check's
file signature (seeknal/project/files.py) use it.
"""

from __future__ import annotations

import atexit
import os
import signal
import struct
import sys
from collections.abc import Callable
from typing import Any

import seeknal
from seeknal.state.failpoints import hit

__all__ = ["Answers", "can_fork", "cores", "expect", "fork_quietly", "taken"]


def can_fork() -> bool:
    return seeknal.command_line and single_threaded() and cores() >= 2


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return 1


def single_threaded() -> bool:
    """One thread in this process, counted by the kernel (DuckDB's own threads included)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return False


def fork_quietly(keep: tuple[int, ...], body: Callable[[], None]) -> int:
    """Fork; the copy runs `body()` holding only the descriptors `keep` and exits. The copy's
    pid, or -1 when the fork failed."""
    # a Ctrl-C meant for the command must not reach the copy before it ignores it
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        pid = os.fork()
    except OSError:
        pid = -1
    if pid == 0:
        try:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
            signal.set_wakeup_fd(-1)
            quiet = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(quiet, fd)
            low = 3
            for fd in sorted(keep):
                os.closerange(low, fd)
                low = fd + 1
            os.closerange(low, 1 << 16)
            body()
        finally:
            os._exit(0)
    signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
    return pid


class Answers:
    """`fn(*args)` of each call computed by a forked copy, in order, and sent back pickled one
    after another; `take(i)` waits for the i-th. The copy is killed and reaped at exit (it may
    wait to write what nobody read)."""

    def __init__(self, pid: int, fd: int) -> None:
        self.pid, self.fd = pid, fd
        self.values: list[tuple[bool, Any]] = []
        self.ended = False

    @classmethod
    def start(cls, calls: list[tuple[Callable[..., Any], tuple[Any, ...]]]) -> Answers | None:
        """The copy computing them, or None when forking is not for here (`can_fork`)."""
        if not can_fork():
            return None
        read, write = os.pipe()
        pid = fork_quietly((write,), lambda: _answer(write, calls))
        os.close(write)
        if pid < 0:
            os.close(read)
            return None
        answers = cls(pid, read)
        atexit.register(answers.end)
        return answers

    def take(self, index: int) -> tuple[bool, Any]:
        """(True, the value), or (False, None) when the copy gave none (the caller computes
        it: the copy died, or the call raised). Ctrl-C while waiting ends the copy."""
        try:
            while len(self.values) <= index and not self.ended:
                self.values.append(self._next())
        except (KeyboardInterrupt, SystemExit):
            self.end()
            raise
        if len(self.values) > index:
            return self.values[index]
        return False, None

    def _next(self) -> tuple[bool, Any]:
        import pickle

        try:
            body = receive(self.fd)
            if body is not None:
                return pickle.loads(body)
        except Exception:  # noqa: BLE001 - half an answer: the rest is computed here
            pass
        self.end()
        return False, None

    def end(self) -> None:
        if self.ended:
            return
        self.ended = True
        os.close(self.fd)
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except OSError:
            pass


_expected: dict[str, tuple[Answers, int]] = {}


def expect(key: str, answers: Answers, index: int) -> None:
    """`taken(key)` is the `index`-th value of `answers`."""
    _expected[key] = (answers, index)


def taken(key: str) -> tuple[bool, Any]:
    """The value a copy computed for `key` (once), or (False, None): compute it here."""
    found = _expected.pop(key, None)
    if found is None:
        return False, None
    answers, index = found
    return answers.take(index)


_HEADER = struct.Struct("!I")


def send(fd: int, data: bytes) -> None:
    """One message: its length, then its bytes."""
    view = memoryview(_HEADER.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view) :]


def receive(fd: int, timeout: float | None = None) -> bytes | None:
    """One message, or None at the end of the pipe or after `timeout` seconds."""
    head = _read(fd, _HEADER.size, timeout)
    if head is None:
        return None
    return _read(fd, _HEADER.unpack(head)[0], timeout)


def _read(fd: int, size: int, timeout: float | None) -> bytes | None:
    import select

    parts: list[bytes] = []
    waiting = select.poll()  # poll, not select: any descriptor number
    waiting.register(fd, select.POLLIN)
    while size:
        if timeout is not None and not waiting.poll(timeout * 1000):
            return None
        chunk = os.read(fd, size)
        if not chunk:
            return None
        parts.append(chunk)
        size -= len(chunk)
    return b"".join(parts)


def _answer(fd: int, calls: list[tuple[Callable[..., Any], tuple[Any, ...]]]) -> None:
    import pickle

    for fn, args in calls:
        hit("forked.answer")  # tests: the copy dies before it answers
        try:
            reply = pickle.dumps((True, fn(*args)), pickle.HIGHEST_PROTOCOL)
        except Exception:  # noqa: BLE001 - the caller computes it and meets the error itself
            reply = pickle.dumps((False, None))
        send(fd, reply)
