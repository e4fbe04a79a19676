"""What a command prints while it works: the project's warnings and one line per finished node."""

from __future__ import annotations

from typing import Any

from seeknal.cli.console import out, status_label, styled, warn


class node_printer:  # noqa: N801 - used like a function
    """Prints each node as it finishes: status, id, rows, seconds, then errors and warnings.
    `silent` leaves out the progress (-q, --json); `warnings` keeps a node's warnings on stderr
    even so (-q hides progress, never a warning; --json has them in its document)."""

    def __init__(self, silent: bool, warnings: bool = False) -> None:
        self.silent = silent
        self.warnings = warnings
        self.width = 10

    def __call__(self, result: Any) -> None:
        if self.silent:
            if self.warnings:
                for text in result.warnings:
                    warn(f"{result.node_id}: {text}")
            return
        rows = (
            ""
            if result.row_count is None
            else f"{result.row_count:>9,} row{'' if result.row_count == 1 else 's'}"
        )
        secs = f"{result.duration_ms / 1000:6.2f}s"
        label = status_label(result.status.value)
        out(f"  {label} {result.node_id.ljust(self.width)} {rows} {secs}")
        for text in result.warnings:
            warn(f"{result.node_id}: {text}")
        if result.error:
            out(f"      {styled(result.error, 'red')}")
            if result.hint:
                out(f"      next: {result.hint}")


def print_warnings(project: Any, quiet: bool) -> None:
    if not quiet:
        for text in project.warnings:
            warn(text)
