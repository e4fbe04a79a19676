"""sqlglot imported ahead, in a process of its own, while the command goes on.

The first plan after an edit needs sqlglot for the changed SQL only (its fingerprint's
normal form, the change's category), and importing sqlglot with its DuckDB dialect costs more
CPU (~95 ms) than the rest of such a plan's own work after loading. When the loader meets a
node file it never built, `start()` forks this process: the copy imports sqlglot on another
core while the command reads, checks and plans, then answers the calls of the functions marked
`@offloaded` (pure functions of strings). Any trouble with it (it died, answered nothing in
time, or too many calls would cost more in round trips than an import) and the caller computes
the answer itself, as it always could: a worker changes when an answer is ready, never what it
is.

Only where forking is plain and cheap (seeknal/forked.py), before sqlglot was imported here.
"""

from __future__ import annotations

import atexit
import functools
import os
import signal
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from seeknal import forked
from seeknal.state.failpoints import hit

F = TypeVar("F", bound=Callable[..., Any])

MAX_CALLS = 64  # beyond this many round trips, importing sqlglot here costs less
WAIT_SECONDS = 20.0  # an answer later than this means the worker is stuck: answer here

_functions: dict[str, Callable[..., Any]] = {}
_worker: Worker | None = None


def offloaded(fn: F) -> F:
    """`fn` answered by the worker when one runs, else here (the same function either way)."""
    key = f"{fn.__module__}.{fn.__qualname__}"
    _functions[key] = fn

    @functools.wraps(fn)
    def answer(*args: Any) -> Any:
        worker = _worker
        if worker is not None:
            answered, value = worker.ask(key, args)
            if answered:
                return value
        return fn(*args)

    return answer  # type: ignore[return-value]


def running() -> bool:
    """Whether a worker answers (sqlglot then need not be imported here)."""
    return _worker is not None and _worker.alive


def start() -> bool:
    """Fork the worker, when it can help and nothing speaks against forking; whether one runs."""
    global _worker
    if _worker is not None:
        return _worker.alive
    if "sqlglot" in sys.modules or not forked.can_fork():
        return False
    _worker = Worker.fork()
    return _worker.alive


class Worker:
    """The forked process: requests go down one pipe, answers come up another."""

    def __init__(self, pid: int, requests: int, answers: int) -> None:
        self.pid, self.requests, self.answers = pid, requests, answers
        self.calls = 0

    @property
    def alive(self) -> bool:
        return self.pid > 0

    @classmethod
    def fork(cls) -> Worker:
        down_r, down_w = os.pipe()
        up_r, up_w = os.pipe()
        pid = forked.fork_quietly((down_r, up_w), lambda: _serve(down_r, up_w))
        os.close(down_r)
        os.close(up_w)
        if pid < 0:
            os.close(down_w)
            os.close(up_r)
            return cls(-1, -1, -1)
        atexit.register(_stop)
        return cls(pid, down_w, up_r)

    def ask(self, key: str, args: tuple[Any, ...]) -> tuple[bool, Any]:
        """(True, the answer), or (False, None) when this process must answer itself."""
        if not self.alive:
            return False, None
        self.calls += 1
        if self.calls > MAX_CALLS:
            self.stop()
            return False, None
        import pickle

        try:
            forked.send(self.requests, pickle.dumps((key, args), pickle.HIGHEST_PROTOCOL))
            data = forked.receive(self.answers, WAIT_SECONDS)
            answered, value = pickle.loads(data) if data is not None else (False, None)
        except (KeyboardInterrupt, SystemExit):
            self.stop()  # a half-read answer cannot be matched with its request again
            raise
        except Exception:  # noqa: BLE001 - a broken pipe, a worker gone: answered here
            self.stop()
            return False, None
        if not answered:
            self.stop()
        return bool(answered), value

    def stop(self) -> None:
        if not self.alive:
            return
        for fd in (self.requests, self.answers):
            try:
                os.close(fd)
            except OSError:
                pass
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except OSError:
            pass
        self.pid = -1


def _stop() -> None:
    if _worker is not None:
        _worker.stop()


def _serve(requests: int, answers: int) -> None:
    import importlib
    import pickle

    from seeknal.sql.compare import load_tokenizer

    load_tokenizer()
    import sqlglot.dialects.duckdb  # noqa: F401 - what parsing needs, imported before asked

    while True:
        data = forked.receive(requests, None)
        if data is None:
            return
        hit("ahead.answer")
        key, args = pickle.loads(data)
        try:
            if key not in _functions:  # a module the command imported after the fork
                importlib.import_module(key.rsplit(".", 1)[0])
            reply = pickle.dumps((True, _functions[key](*args)), pickle.HIGHEST_PROTOCOL)
        except Exception:  # noqa: BLE001 - the caller computes it and meets the error itself
            reply = pickle.dumps((False, None))
        forked.send(answers, reply)
