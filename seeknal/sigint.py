"""Ctrl-C while the main thread waits in C code (a DuckDB query): Python runs its SIGINT handler
only once that code returns, which for a query may be minutes later. `on_sigint(stop)` calls
`stop` the moment SIGINT arrives, from a thread of its own: Python's C-level handler writes
each signal's number to a wake-up pipe (`signal.set_wakeup_fd`) that the thread waits on. The
usual KeyboardInterrupt follows as ever once the main thread is back in Python.

The blocks nest (a query reads inside a query), and the KeyboardInterrupt may be raised at any
point of Python code, also the first line of a block's exit. So:

- one pipe and one watcher thread serve the whole process: they are made by the first block and
  kept (an exit that never ran can leave no closed descriptor behind to restore, and there is
  nothing to close);
- each block registers its `stop`; SIGINT calls every registered one, outermost first;
- while a block is open, SIGINT goes through a handler of ours that hands it to the handler it
  replaced, except while a block is being entered or left: then the KeyboardInterrupt waits
  until the block's registration is undone and is raised from there. A block is left exactly
  once, whatever the interruption hits.

`held()` is the other way round: SIGINT is only recorded while its block runs."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any

_PASSIVE = (signal.SIG_IGN, signal.SIG_DFL, None)


class _Process:
    """What every block of this process shares (all changed from the main thread only)."""

    def __init__(self) -> None:
        self.pid = -1  # the pipe and the watcher belong to this process (not to a forked child)
        self.write_end = -1
        self.stops: list[Callable[[], None]] = []
        self.earlier_fd = -1  # the wake-up fd before the outermost block
        self.earlier_handler: Any = None  # the SIGINT handler before the outermost block
        self.pending = False  # SIGINT arrived while a block was entered or left

    def ensure_watcher(self) -> None:
        if self.pid == os.getpid():
            return
        read_end, write_end = os.pipe()
        os.set_blocking(write_end, False)  # the C handler must never block
        threading.Thread(
            target=self._watch, args=(read_end,), name="seeknal-ctrl-c", daemon=True
        ).start()
        self.pid, self.write_end = os.getpid(), write_end

    def _watch(self, read_end: int) -> None:
        while True:
            if signal.SIGINT in os.read(read_end, 64):
                for stop in list(self.stops):
                    try:
                        stop()
                    except Exception:  # e.g. a connection closed since: the others still stop
                        continue


_process = _Process()


def _handler(signum: int, frame: FrameType | None) -> Any:
    """SIGINT while blocks are open: wait while one is entered or left, else as before."""
    if frame is not None and frame.f_code in _GUARDED:
        _process.pending = True
        return None
    earlier = _process.earlier_handler
    if callable(earlier):
        return earlier(signum, frame)
    raise KeyboardInterrupt


class on_sigint:  # lower case: used like a function, `with on_sigint(stop):`
    """Call `stop` as SIGINT arrives while the block runs. Only the main thread can do this,
    and only while SIGINT is handled at all: elsewhere the block simply runs."""

    def __init__(self, stop: Callable[[], None]) -> None:
        self._stop = stop
        self._open = False

    def __enter__(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        if signal.getsignal(signal.SIGINT) in _PASSIVE:
            return
        state = _process
        state.ensure_watcher()
        if not state.stops:
            # our handler first: from here on a SIGINT waits until the block is entered or left
            state.earlier_handler = signal.signal(signal.SIGINT, _handler)
            try:
                state.earlier_fd = signal.set_wakeup_fd(state.write_end, warn_on_full_buffer=False)
            except (ValueError, OSError):  # no wake-up: the block simply runs
                signal.signal(signal.SIGINT, state.earlier_handler)
                self.__exit__(None, None, None)
                return
        state.stops.append(self._stop)
        self._open = True
        if state.pending:  # SIGINT while entering: leave at once and raise it
            self.__exit__(None, None, None)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        state = _process
        if self._open:
            self._open = False
            for at in range(len(state.stops) - 1, -1, -1):
                if state.stops[at] is self._stop:
                    del state.stops[at]
                    break
            if not state.stops:
                _restore_fd(state.earlier_fd)
                if signal.getsignal(signal.SIGINT) is _handler:
                    signal.signal(signal.SIGINT, state.earlier_handler)
        if state.pending:  # SIGINT while entering or leaving: handled now, as it would have been
            state.pending = False
            earlier = signal.getsignal(signal.SIGINT)
            if earlier is _handler:
                earlier = state.earlier_handler
            if not callable(earlier) or earlier is _handler:
                raise KeyboardInterrupt
            earlier(signal.SIGINT, None)


class held:  # lower case: used like a function, `with held() as hold:`
    """SIGINT is only recorded (`hit`) while the block runs, for the block to act on at a step
    of its choosing: work that must not stop half way (a promotion past its commit point).
    Main thread only, and only while SIGINT is handled at all: elsewhere the block simply runs."""

    def __init__(self) -> None:
        self.hit = False
        self._earlier: Any = None
        self._on = False

    def _record(self, signum: int, frame: FrameType | None) -> None:
        self.hit = True

    def __enter__(self) -> held:
        if threading.current_thread() is not threading.main_thread():
            return self
        if signal.getsignal(signal.SIGINT) in _PASSIVE:
            return self
        self._earlier = signal.signal(signal.SIGINT, self._record)
        self._on = True
        _holds.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._on:
            self._on = False
            _holds.remove(self)
            if signal.getsignal(signal.SIGINT) == self._record:
                signal.signal(signal.SIGINT, self._earlier)


_holds: list[held] = []


def imported(name: str, failpoint: str | None = None) -> Any:
    """`import name` (a top-level module), with a Ctrl-C meanwhile acted on once the import is
    done: compiled modules do not all survive being interrupted while they set themselves up
    (DuckDB's aborts the process, orjson's crashes it)."""
    import sys

    module = sys.modules.get(name)
    if module is not None:
        return module
    with held() as hold:
        if failpoint:
            from seeknal.state.failpoints import hit

            hit(failpoint)  # tests: Ctrl-C pressed while the import runs
        module = __import__(name)
    if hold.hit:
        raise KeyboardInterrupt
    return module


def requested() -> bool:
    """Whether SIGINT arrived while a `held` block runs (a test's pause ends on it)."""
    return any(hold.hit for hold in _holds)


def _restore_fd(earlier: int) -> None:
    """Give the wake-up fd back; one closed since (or not ours to set) becomes none at all."""
    try:
        signal.set_wakeup_fd(earlier)
    except (ValueError, OSError):
        try:
            signal.set_wakeup_fd(-1)
        except (ValueError, OSError):
            pass


_GUARDED = frozenset(
    {on_sigint.__enter__.__code__, on_sigint.__exit__.__code__, _restore_fd.__code__}
)
