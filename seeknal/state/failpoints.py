"""Crash injection for tests: SEEKNAL_FAILPOINT makes the process die (SIGKILL) or pause at a step.

`SEEKNAL_FAILPOINT=promote:3` kills the process at the third promote step it reaches;
`SEEKNAL_FAILPOINT=promote.commit` at the step with that name. `SEEKNAL_FAILPOINT_MODE=pause`
sleeps there instead, so a test can kill the process itself, or press Ctrl-C: a pause in a
step that holds SIGINT (`sigint.held`) ends on it and the step goes on. `hang` sleeps for an
hour whatever happens (a thread that never comes back), then goes on. Unset, this costs one
dict lookup.
"""

from __future__ import annotations

import os
import signal
import sys
import time

_counts: dict[str, int] = {}


def hit(name: str) -> None:
    spec = os.environ.get("SEEKNAL_FAILPOINT")
    if not spec:
        return
    group = name.split(".", 1)[0]
    _counts[group] = _counts.get(group, 0) + 1
    if spec not in (name, f"{group}:{_counts[group]}"):
        return
    mode = os.environ.get("SEEKNAL_FAILPOINT_MODE")
    if mode == "hang":  # a thread stuck for good (in C code, say): Ctrl-C does not end it
        sys.stderr.write(f"failpoint {name}: hangs (pid {os.getpid()})\n")
        sys.stderr.flush()
        time.sleep(3600)
    if mode == "pause":
        sys.stderr.write(f"failpoint {name}: paused (pid {os.getpid()})\n")
        sys.stderr.flush()
        from seeknal import sigint

        deadline = time.monotonic() + 3600
        while time.monotonic() < deadline:
            if sigint.requested():
                return
            time.sleep(0.02)
    os.kill(os.getpid(), signal.SIGKILL)
