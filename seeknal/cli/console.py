"""Terminal output helpers: colours only on a terminal, errors to stderr."""

from __future__ import annotations

import sys

import typer

from seeknal.errors import SeeknalError

STATUS_STYLE = {
    "success": ("ok", typer.colors.GREEN),
    "cached": ("cached", typer.colors.BRIGHT_BLACK),
    "failed": ("FAILED", typer.colors.RED),
    "skipped": ("skipped", typer.colors.YELLOW),
    "run": ("run", typer.colors.CYAN),
    "unsupported": ("unsupported", typer.colors.MAGENTA),
}


def out(text: str = "", err: bool = False) -> None:
    try:
        typer.echo(text, err=err)
    except BrokenPipeError:
        # the reader went away (`seeknal run | head`): keep working, print nowhere
        import os

        stream = sys.stderr if err else sys.stdout
        os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())


def styled(text: str, color: str | None = None, bold: bool = False) -> str:
    stream = sys.stdout
    if not stream.isatty():
        return text
    return typer.style(text, fg=color, bold=bold)


def status_label(status: str, width: int = 8) -> str:
    label, color = STATUS_STYLE.get(status, (status, None))
    return styled(label.ljust(width), color, bold=status == "failed")


def warn(text: str) -> None:
    typer.echo(styled("warning: ", typer.colors.YELLOW) + text, err=True)


def report_error(exc: SeeknalError) -> None:
    typer.echo(styled("Error: ", typer.colors.RED, bold=True) + exc.message, err=True)
    if exc.hint:
        typer.echo(f"Next: {exc.hint}", err=True)
