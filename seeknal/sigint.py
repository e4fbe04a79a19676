"""Ctrl-C while the main thread waits in C code (a DuckDB query): Python runs its SIGINT handler
only once that code returns, which for a query may be minutes later. `on_sigint(stop)` calls
`stop` the moment SIGINT arrives, from a thread of its own: Python's C-level handler writes
each signal's number to a wake-up pipe (`signal.set_wakeup_fd`) that the thread waits on. The
usual KeyboardInterrupt follows as ever once the main thread is back in Python."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def on_sigint(stop: Callable[[], None]) -> Iterator[None]:
    """Call `stop` as SIGINT arrives while the block runs. Only the main thread can do this,
    and only while SIGINT is handled at all: elsewhere the block simply runs."""
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(
        signal.SIGINT
    ) in (signal.SIG_IGN, signal.SIG_DFL, None):
        yield
        return
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)  # the C handler must never block
    try:
        earlier = signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
    except (ValueError, OSError):
        os.close(read_end)
        os.close(write_end)
        yield
        return

    def watch() -> None:
        while numbers := os.read(read_end, 64):  # empty once the write end is closed
            if signal.SIGINT in numbers:
                stop()

    watcher = threading.Thread(target=watch, name="seeknal-ctrl-c", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        signal.set_wakeup_fd(earlier)
        os.close(write_end)
        watcher.join()
        os.close(read_end)
