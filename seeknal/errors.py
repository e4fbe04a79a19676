"""The handful of errors the core raises. Only `cli` turns them into exit codes."""

from __future__ import annotations

from typing import NamedTuple


class SeeknalError(Exception):
    """A handled failure: what failed, where, and the next step (`hint`)."""

    exit_code = 1

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class Problem(NamedTuple):
    """One load problem, located in a file (and line, when YAML gives it)."""

    file: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}"


class ProjectError(SeeknalError):
    """The project cannot be loaded. Carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem], hint: str = "") -> None:
        self.problems = problems
        count = len(problems)
        head = f"Project has {count} error{'s' if count != 1 else ''}:"
        body = "\n".join(f"  - {p}" for p in problems)
        super().__init__(
            f"{head}\n{body}",
            hint or "Fix the files named above, then run the command again. Nothing was executed.",
        )


class StateError(SeeknalError):
    """A file under target/ is missing, corrupt or from an incompatible version."""


class LockError(SeeknalError):
    """Another mutating seeknal command holds target/."""


class EnvError(SeeknalError):
    """An environment is missing, invalid, stale or not in the state a command needs."""


class ExecutionError(SeeknalError):
    """A node failed to execute."""


class Interrupted(SeeknalError):
    """The user stopped a run (Ctrl-C); says what was recorded. Exits 130 like any program
    ended by SIGINT."""

    exit_code = 130
