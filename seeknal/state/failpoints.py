"""Crash injection for tests: SEEKNAL_FAILPOINT makes the process die (SIGKILL) or pause at a step.

`SEEKNAL_FAILPOINT=promote:3` kills the process at the third promote step it reaches;
`SEEKNAL_FAILPOINT=promote.commit` at the step with that name. `SEEKNAL_FAILPOINT_MODE=pause`
sleeps there instead, so a test can kill the process itself. Unset, this costs one dict lookup.
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
    if os.environ.get("SEEKNAL_FAILPOINT_MODE") == "pause":
        sys.stderr.write(f"failpoint {name}: paused (pid {os.getpid()})\n")
        sys.stderr.flush()
        time.sleep(3600)
    os.kill(os.getpid(), signal.SIGKILL)
