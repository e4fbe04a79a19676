"""Terminal output helpers: colours only on a terminal, errors to stderr. typer is not imported
here: `cli/quick.py` prints through these before the CLI framework is loaded."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable

from seeknal.errors import Interrupted, SeeknalError

# the colour names typer.colors (click) uses, and their ANSI codes, as click.style writes them
COLOURS = {
    "black": 30,
    "red": 31,
    "green": 32,
    "yellow": 33,
    "blue": 34,
    "magenta": 35,
    "cyan": 36,
    "white": 37,
    "reset": 39,
    "bright_black": 90,
    "bright_red": 91,
    "bright_green": 92,
    "bright_yellow": 93,
    "bright_blue": 94,
    "bright_magenta": 95,
    "bright_cyan": 96,
    "bright_white": 97,
}
ANSI = re.compile(r"\033\[[0-?]*[ -/]*[@-~]")  # what click.echo strips off a non-terminal

STATUS_STYLE = {
    "success": ("ok", "green"),
    "cached": ("cached", "bright_black"),
    "failed": ("FAILED", "red"),
    "skipped": ("skipped", "yellow"),
    "run": ("run", "cyan"),
    "unsupported": ("unsupported", "magenta"),
}


def out(text: str = "", err: bool = False) -> None:
    try:
        echo(text, err)
    except BrokenPipeError:
        # the reader went away (`seeknal run | head`): keep working, print nowhere
        stream = sys.stderr if err else sys.stdout
        os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())


def echo(text: str, err: bool = False) -> None:
    """One line to stdout (or stderr), as typer.echo prints it: through click once the typer app
    runs; before that (the answers of cli/quick.py, which it gives only on UTF-8 streams, where
    click writes to the stream as it is) the same bytes: escape sequences removed unless the
    stream is a terminal, flushed."""
    click = sys.modules.get("click")
    if click is not None:
        click.echo(text, err=err)
        return
    stream = sys.stderr if err else sys.stdout
    if stream is None:
        return
    line = f"{text}\n"
    if "\033" in line and not _isatty(stream):
        line = ANSI.sub("", line)
    stream.write(line)
    stream.flush()


def _isatty(stream: object) -> bool:
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - as click: a stream that cannot say is no terminal
        return False


def style(text: str, color: str | None = None, bold: bool = False) -> str:
    """click.style(text, fg=color, bold=bold), as typer.style calls it."""
    colour = f"\033[{COLOURS[color]}m" if color is not None else ""
    return f"{colour}\033[{1 if bold else 22}m{text}\033[0m"


def styled(text: str, color: str | None = None, bold: bool = False) -> str:
    stream = sys.stdout
    if not stream.isatty():
        return text
    return style(text, color, bold)


def status_label(status: str, width: int = 8, *, word: bool = False) -> str:
    """A node status as a run or plan line shows it (`ok`, `FAILED`), coloured; with `word`,
    the status itself in its colour (`failed`), as an env's status is listed."""
    label, color = STATUS_STYLE.get(status, (status, None))
    return styled((status if word else label).ljust(width), color, bold=status == "failed")


def warn(text: str) -> None:
    # through out(): a reader gone from stderr (`seeknal run 2>&1 | head`) must not stop a run
    # between its outputs and its state
    out(styled("warning: ", "yellow") + text, err=True)


def report_error(exc: SeeknalError) -> None:
    out(styled("Error: ", "red", bold=True) + exc.message, err=True)
    if exc.hint:
        out(f"Next: {exc.hint}", err=True)


def outcome(call: Callable[[], object], passed: tuple[type[BaseException], ...] = ()) -> int | None:
    """Run a command: None when it finished, else the exit code after saying what went wrong
    (a SeeknalError as `Error:`/`Next:`; anything else as an internal error, never a
    traceback unless --debug). Exceptions of the `passed` types (the CLI framework's exits and
    usage errors) go through untouched."""
    journal = sys.modules.get("seeknal.state.journal")  # not imported for this alone
    before = journal.committed() if journal is not None else 0
    try:
        call()
        return None
    except SeeknalError as exc:
        if os.environ.get("SEEKNAL_DEBUG"):
            raise
        report_error(exc)
        return exc.exit_code
    except KeyboardInterrupt:
        return _interrupted(before)
    except passed:
        raise
    except BrokenPipeError:
        # the reader went away (e.g. `seeknal plan | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # noqa: BLE001 - a traceback never reaches a user
        if _duckdb_interrupt(exc):  # a statement Ctrl-C stopped, where nothing said so
            return _interrupted(before)
        if os.environ.get("SEEKNAL_DEBUG"):
            raise
        report_error(
            SeeknalError(
                f"internal error: {exc.__class__.__name__}: {exc}",
                "Run the same command with --debug for the full traceback and report it.",
            )
        )
        return 1


def _interrupted(before: int) -> int:
    """Say what a Ctrl-C left (a promotion committed since `before` included): exit 130."""
    from seeknal.state.journal import interrupted_since

    report_error(interrupted_since(before))
    return Interrupted.exit_code


def _duckdb_interrupt(exc: Exception) -> bool:
    if "_duckdb" not in sys.modules and "duckdb" not in sys.modules:
        return False  # DuckDB never ran
    from seeknal.engine.duckdb_core import is_interrupt

    return is_interrupt(exc)
