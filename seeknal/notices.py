"""Hooks through which the core tells the CLI about something a user should see while it works.

The core never prints; the CLI sets these at start-up. Standard library only, imported anywhere.
"""

from __future__ import annotations

from collections.abc import Callable

# called with a description of the holder when a command has to wait for target/'s lock
on_lock_wait: Callable[[str], None] | None = None

# the command line this process runs, as typed (set by the CLI's entry point); a command that
# finds target/'s lock held shows the holder's whole command line, options included
command_line: str | None = None
