"""What a run shows while nodes execute: a heartbeat line for a node that runs long and, when
stdout is a terminal, a progress bar with the elapsed time and the nodes running now.

The finished-node lines themselves stay those of `progress.node_printer`: piped output and logs
read exactly as before, plus the heartbeat lines.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from seeknal.cli.console import out

HEARTBEAT_SECONDS = 10.0


def heartbeat_seconds() -> float:
    """Seconds a node runs before the first heartbeat line (SEEKNAL_HEARTBEAT_SECONDS)."""
    try:
        value = float(os.environ.get("SEEKNAL_HEARTBEAT_SECONDS", HEARTBEAT_SECONDS))
    except ValueError:
        return HEARTBEAT_SECONDS
    return value if value > 0 else HEARTBEAT_SECONDS


class RunWatch:
    """Tracks running nodes (the scheduler's threads call `started` and `finished`) and, from a
    thread of its own, says which ones still run every `every` seconds."""

    def __init__(self, printer: Callable[[Any], None], show: bool, terminal: bool) -> None:
        self.printer = printer
        self.show = show
        self.terminal = terminal and show
        self.every = heartbeat_seconds()
        self.running: dict[str, float] = {}
        self.beats: dict[str, int] = {}
        self.done = 0
        self.lock = threading.RLock()
        self.stop = threading.Event()
        self.stack = ExitStack()
        self.bar: Any = None  # the rich progress bar on a terminal, once the run is planned
        self.task: Any = None

    def begin(self, total: int) -> None:
        """The run is planned: `total` nodes will execute (the bar appears on a terminal)."""
        if self.terminal and total:
            bar = self.stack.enter_context(_bar())
            task = bar.add_task("run", total=total, running="-")
            with self.lock:  # the heartbeat thread refreshes a bar only with its task
                self.bar, self.task = bar, task

    def started(self, node_id: str) -> None:
        with self.lock:
            self.running[node_id] = time.monotonic()
            self.beats[node_id] = 0
        self._refresh()

    def finished(self, result: Any) -> None:
        with self.lock:
            self.running.pop(result.node_id, None)
            self.beats.pop(result.node_id, None)
            self.done += 1
            self.printer(result)
        self._refresh()

    def tick(self) -> None:
        """One look at the running nodes: a line for each that passed its next heartbeat."""
        now = time.monotonic()
        with self.lock:
            for node_id, since in sorted(self.running.items()):
                seconds = now - since
                if seconds >= self.every * (self.beats[node_id] + 1):
                    self.beats[node_id] = int(seconds // self.every)
                    if self.show:
                        out(f"  ... {node_id} still running ({int(seconds)}s)")
        self._refresh()

    def _beat(self) -> None:
        step = min(1.0, self.every / 4)
        while not self.stop.wait(step):
            self.tick()

    def _refresh(self) -> None:
        with self.lock:
            if self.bar is None:
                return
            names = ", ".join(sorted(self.running)) or "-"
            self.bar.update(self.task, completed=self.done, running=names)

    @contextmanager
    def watching(self) -> Iterator[RunWatch]:
        beat = threading.Thread(target=self._beat, name="seeknal-heartbeat", daemon=True)
        beat.start()
        try:
            yield self
        finally:
            self.stop.set()
            beat.join()
            with self.lock:
                self.bar = None
            self.stack.close()


def _bar() -> Any:
    # imported here only: --help, hooks and piped runs never load rich
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    return Progress(
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("running: {task.fields[running]}"),
        transient=True,
        redirect_stdout=True,
        redirect_stderr=True,
    )


def on_terminal() -> bool:
    return sys.stdout.isatty() and os.environ.get("TERM") != "dumb"
