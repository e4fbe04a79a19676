"""Which `seeknal run` command lines cli/quick.py answers itself, and that it reads their flags
as click reads them for the typer command."""

from __future__ import annotations

import click
import typer

from seeknal.cli.main import get_app
from seeknal.cli.quick import run_flags
from seeknal.cli.run_flow import RunRequest

ANSWERED = (
    [],
    ["-q"],
    ["--quiet"],
    ["--full", "-q"],
    ["--json"],
    ["--parallel", "--max-workers", "2"],
    ["--max-workers=3", "--parallel", "--json", "--full", "--quiet"],
    ["--max-workers", "012"],
)
LEFT_TO_TYPER = (
    ["dev"],
    ["--env", "dev"],
    ["-e", "dev"],
    ["-q", "-q"],
    ["-q", "--quiet"],
    ["--max-workers", "0"],
    ["--max-workers", "-1"],
    ["--max-workers", "two"],
    ["--max-workers", "²"],
    ["--max-workers", " 2"],
    ["--max-workers="],
    ["--max-workers"],
    ["--max-workers", "2", "--max-workers=3"],
    ["--nodes", "a"],
    ["--dry-run"],
    ["--force"],
    ["--profile", "p.yml"],
    ["--engine", "duckdb"],
    ["--params", "{}"],
    ["--project-path", "."],
    ["--help"],
    ["-qn", "a"],
    ["--"],
    ["--verbose"],
)


def _run_command() -> click.Command:
    group = typer.main.get_command(get_app("run"))
    assert isinstance(group, click.Group)
    return group.commands["run"]


def test_plain_flags_are_read_as_click_reads_them() -> None:
    command = _run_command()
    for args in ANSWERED:
        flags = run_flags(list(args))
        assert flags is not None, args
        params = command.make_context("run", list(args)).params
        request = RunRequest(**flags)  # with its defaults for the flags not given
        for name in ("full", "quiet", "parallel", "as_json", "max_workers"):
            assert getattr(request, name) == params[name], (args, name)


def test_anything_else_is_left_to_typer() -> None:
    for args in LEFT_TO_TYPER:
        assert run_flags(list(args)) is None, args
