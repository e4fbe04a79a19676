"""`seeknal` entry point: the typer app, global options and error handling."""

from __future__ import annotations

import functools
import os
import shlex
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click
import typer

from seeknal import __version__
from seeknal.cli.console import outcome

app = typer.Typer(
    name="seeknal",
    help="YAML/SQL data pipelines on DuckDB, with a virtual environment for every git branch.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    # click already says "Did you mean" for a mistyped command; typer would say it again
    suggest_commands=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

F = TypeVar("F", bound=Callable[..., Any])


def handled(func: F) -> F:
    """Turn SeeknalError into a clear message and exit 1; anything else too, unless --debug."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        returned: list[Any] = [None]

        def call() -> None:
            returned[0] = func(*args, **kwargs)

        code = outcome(call, (typer.Exit, typer.Abort, click.UsageError))
        if code is not None:
            raise typer.Exit(code)
        return returned[0]

    return wrapper  # type: ignore[return-value]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"seeknal {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    debug: bool = typer.Option(
        False, "--debug", help="Show full tracebacks on errors (also after the command name)."
    ),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    if debug:
        os.environ["SEEKNAL_DEBUG"] = "1"


# every command name and the module that registers it, in the order `seeknal --help` lists them
COMMANDS = {
    "run": "run_cmd",
    "plan": "plan_cmd",
    "promote": "promote_cmd",
    "log": "history_cmd",
    "rollback": "history_cmd",
    "report": "report_cmd",
    "diff": "diff_cmd",
    "ls": "browse_cmd",
    "show": "browse_cmd",
    "lineage": "browse_cmd",
    "query": "query_cmd",
    "repl": "repl_cmd",
    "env": "env_cmd",
    "hooks": "git_cmd",
    "sync": "git_cmd",
    "init": "project_cmd",
    "demo": "project_cmd",
    "clean": "clean_cmd",
}
_registered: set[str] = set()


def get_app(command: str | None = None) -> typer.Typer:
    """The app with every command registered; with `command`, only the module that registers
    it (each command module costs its imports and typer's signature parsing at start-up)."""
    import importlib

    _keep_argument_help()
    wanted = [COMMANDS[command]] if command in COMMANDS else list(dict.fromkeys(COMMANDS.values()))
    for name in wanted:
        if name not in _registered:
            importlib.import_module(f"seeknal.cli.{name}").register(app)
            _registered.add(name)
    # modules registered one by one (a test process calls main() again and again) keep the
    # --help order
    order = {name: index for index, name in enumerate(COMMANDS)}
    app.registered_commands.sort(key=lambda c: order.get(c.name or "", len(order)))
    app.registered_groups.sort(key=lambda g: order.get(g.name or "", len(order)))
    return app


def _keep_argument_help() -> None:
    """typer sets an argument's help before calling click's Parameter.__init__, which newer
    click versions then reset to None: `--help` would list ENV or DIRECTORY without a word."""
    from typer.core import TyperArgument

    original = TyperArgument.__init__
    if getattr(original, "keeps_help", False):
        return

    def init(self: Any, *args: Any, help: str | None = None, **kwargs: Any) -> None:  # noqa: A002
        original(self, *args, help=help, **kwargs)
        self.help = help

    init.keeps_help = True  # type: ignore[attr-defined]
    TyperArgument.__init__ = init  # type: ignore[method-assign]


def debug_anywhere(argv: list[str]) -> list[str]:
    """`seeknal run --debug` as well as `seeknal --debug run`: a --debug anywhere before a `--`
    is taken out of the arguments and turns debugging on."""
    end = argv.index("--") if "--" in argv else len(argv)
    if "--debug" not in argv[:end]:
        return argv
    os.environ["SEEKNAL_DEBUG"] = "1"
    return [a for a in argv[:end] if a != "--debug"] + argv[end:]


# commands users of other tools type first, and what does that job here
OTHER_TOOLS = {
    "build": "'seeknal run' runs what changed (rules included)",
    "compile": "'seeknal show NODE' prints its compiled SQL; 'seeknal plan' what would run",
    "test": "data tests are pytest tests over an env ('pytest tests/ --env ENV', see "
    "docs/testing-data.md); rules run with 'seeknal run'",
    "docs": "'seeknal lineage -f svg -o graph.svg' draws the graph; 'seeknal ls' lists nodes",
    "seed": "a source reads data files directly ('kind: source', 'source: csv')",
    "debug": "'seeknal env current' and 'seeknal hooks status' show the setup",
    "apply": "'seeknal run --env ENV' applies an env's plan",
}
_FOLLOWS_GIT = (
    "the active env follows the checked-out git branch; name one for a command with --env ENV "
    "or SEEKNAL_ENV=ENV ('seeknal env current' shows which is active)"
)
# `seeknal env WORD` for words of other tools
OTHER_ENV_WORDS = {
    "create": "'seeknal plan ENV' creates an env, planned against production",
    "new": "'seeknal plan ENV' creates an env, planned against production",
    **{word: _FOLLOWS_GIT for word in ("switch", "use", "checkout", "activate")},
    "run": "'seeknal run --env ENV' applies an env's plan",
    "diff": "'seeknal diff ENV' compares an env's outputs with production's",
    "rm": "'seeknal env delete ENV' deletes an env",
    "ls": "'seeknal env list' lists the envs",
}


def other_tool_command(argv: list[str]) -> str | None:
    """The message for a command seeknal does not have but another tool does, else None."""
    word = argv[0] if argv else ""
    if word == "env" and len(argv) > 1 and argv[1] in OTHER_ENV_WORDS:
        return (
            f"Error: No such command 'env {argv[1]}': {OTHER_ENV_WORDS[argv[1]]}.\n"
            "Next: 'seeknal env --help' lists the env commands.\n"
        )
    if word not in OTHER_TOOLS or word in COMMANDS:
        return None
    return (
        f"Error: No such command '{word}': {OTHER_TOOLS[word]}.\n"
        "Next: 'seeknal --help' lists the commands.\n"
    )


def main() -> None:
    from seeknal import notices
    from seeknal.cli.console import warn

    notices.on_lock_wait = warn  # a command queued behind another one says so
    notices.command_line = shlex.join(["seeknal", *sys.argv[1:]])
    sys.argv[1:] = debug_anywhere(sys.argv[1:])
    other = other_tool_command(sys.argv[1:])
    if other is not None:
        sys.stderr.write(other)
        sys.exit(2)
    from seeknal.cli.quick import completing

    get_app(None if completing() or len(sys.argv) < 2 else sys.argv[1])
    try:
        app()
    except SystemExit as exc:
        # click uses exit code 2 for usage errors already; keep codes as they are
        sys.exit(exc.code)
