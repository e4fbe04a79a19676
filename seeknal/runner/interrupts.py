"""Ctrl-C while nodes run: stop starting nodes, abandon the queries under way, keep what finished.

Python turns SIGINT into KeyboardInterrupt, but a query DuckDB is running swallows it: the query
fails with an error of DuckDB's own ("Query interrupted", or a read cut short), or, blocked in a
read, finishes as if nothing happened. So while nodes run, SIGINT also leaves a mark (`Trap.hit`)
that tells the scheduler the user asked to stop, whatever the engine made of it.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from seeknal.errors import Interrupted
from seeknal.sigint import on_sigint
from seeknal.types import NodeStatus


@dataclass
class Trap:
    hit: bool = False


class Stopped(Exception):
    """Ctrl-C stopped a run; `finished` holds the node runs that ended before it (by id)."""

    def __init__(self, finished: dict[str, Any]) -> None:
        super().__init__("interrupted")
        self.finished = finished


@contextmanager
def trapped(on_signal: Callable[[], None] | None = None) -> Iterator[Trap]:
    """Mark SIGINT in the trap (and raise KeyboardInterrupt as usual) while the block runs,
    and call `on_signal` at once, from a thread of its own: Python runs its handler only when
    the main thread is back from C code, and a query DuckDB runs there may take minutes.

    Only the main thread can handle signals; elsewhere (or when SIGINT is ignored, as for a
    background job) nothing changes."""
    trap = Trap()
    previous = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is not threading.main_thread() or previous == signal.SIG_IGN:
        yield trap
        return

    def handler(signum: int, frame: Any) -> None:
        trap.hit = True
        raise KeyboardInterrupt

    def stop() -> None:
        trap.hit = True
        if on_signal is not None:
            on_signal()

    signal.signal(signal.SIGINT, handler)
    try:
        with on_sigint(stop):
            yield trap
    finally:
        signal.signal(signal.SIGINT, previous)


def interrupted(
    finished: Mapping[str, Any], to_run: list[str], state_file: str, command: str
) -> Interrupted:
    """What a run stopped by Ctrl-C tells its user, once what finished is recorded."""
    done = sum(1 for r in finished.values() if r.status is NodeStatus.SUCCESS)
    return Interrupted(
        f"Interrupted (Ctrl-C): {done} node(s) finished and are recorded in {state_file}; "
        f"{len(to_run) - len(finished)} did not run. Nothing was half-written.",
        f"Run '{command}' again to run what is left.",
    )
