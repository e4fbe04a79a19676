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

import os
import signal
import sys
from collections.abc import Callable
from typing import Any

import seeknal
from seeknal.state.failpoints import hit

__all__ = ["Answer", "can_fork", "cores", "fork_quietly"]


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


class Answer:
    """`fn(*args)` computed by a forked copy and sent back pickled; `take()` waits for it."""

    def __init__(self, pid: int, fd: int) -> None:
        self.pid, self.fd = pid, fd

    @classmethod
    def start(cls, fn: Callable[..., Any], *args: Any) -> Answer | None:
        """The copy computing it, or None when forking is not for here (`can_fork`)."""
        if not can_fork():
            return None
        read, write = os.pipe()
        pid = fork_quietly((write,), lambda: _answer(write, fn, args))
        os.close(write)
        if pid < 0:
            os.close(read)
            return None
        return cls(pid, read)

    def take(self) -> tuple[bool, Any]:
        """(True, the value), or (False, None) when the copy gave none (the caller computes
        it). The copy is reaped either way; Ctrl-C while waiting kills it."""
        import pickle

        chunks: list[bytes] = []
        try:
            while chunk := os.read(self.fd, 1 << 16):
                chunks.append(chunk)
            return True, pickle.loads(b"".join(chunks))
        except (KeyboardInterrupt, SystemExit):
            os.kill(self.pid, signal.SIGKILL)
            raise
        except Exception:  # noqa: BLE001 - it died or sent half an answer: computed here
            return False, None
        finally:
            os.close(self.fd)
            try:
                os.waitpid(self.pid, 0)
            except OSError:
                pass


def _answer(fd: int, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
    import pickle

    hit("forked.answer")  # tests: the copy dies before it answers
    data = memoryview(pickle.dumps(fn(*args), pickle.HIGHEST_PROTOCOL))
    while data:
        data = data[os.write(fd, data) :]
