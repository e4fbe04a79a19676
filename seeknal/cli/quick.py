"""Answers given before typer, click and rich are imported (about 0.1 s of start-up):
`seeknal --help` on a plain output, `seeknal env current`, `seeknal plan` / `seeknal plan ENV`
without options, `seeknal promote ENV [--copy-data]`, and `seeknal run` on the active env with
only --full, -q/--quiet, --parallel, --json and --max-workers N (see `run_flags`). They print
exactly what the typer commands print and exit with their codes; anything else, or any doubt
(an option the active env refuses, a stream click would adapt), goes the usual way
(docs/architecture.md)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

# settings rich or typer read that change how help is rendered (width, colour, layout)
RENDER_SETTINGS = (
    "COLUMNS",
    "TERMINAL_WIDTH",
    "FORCE_COLOR",
    "PY_COLORS",
    "GITHUB_ACTIONS",
    "TTY_COMPATIBLE",
    "TTY_INTERACTIVE",
    "JUPYTER_COLUMNS",
    "DATABRICKS_RUNTIME_VERSION",
    "TYPER_USE_RICH",
    "_TYPER_FORCE_DISABLE_TERMINAL",
)


def answer(argv: list[str]) -> int | None:
    """The exit code after answering `argv` here, or None to leave it to the typer app."""
    if completing():
        return None
    if argv in ([], ["--help"], ["-h"]) and plain_output():
        from seeknal.cli.help_text import HELP

        # without arguments click shows the help as a usage error: no blank line after it, exit 2
        return _write(HELP if argv else HELP[:-1], 0 if argv else 2)
    if argv == ["env", "current"]:
        return _env_current()
    if argv[:1] == ["plan"] and len(argv) <= 2 and not any(a.startswith("-") for a in argv[1:]):
        return _plan(argv[1] if len(argv) == 2 else None)
    if argv[:1] == ["promote"]:
        return _promote(argv[1:])
    if argv[:1] == ["run"]:
        return _run(argv[1:])
    return None


def completing() -> bool:
    """A shell asks for completions (click's `_SEEKNAL_COMPLETE`): the typer app answers."""
    return any(name.endswith("_COMPLETE") for name in os.environ)


def plain_output() -> bool:
    """True when typer would render help without colour at rich's default 80 columns: no
    standard stream is a terminal, UTF-8 output, and none of the settings above."""
    if any(name in os.environ for name in RENDER_SETTINGS) or os.name != "posix":
        return False
    if (sys.stdout.encoding or "").lower().replace("-", "") != "utf8":
        return False
    for fd in (0, 1, 2):
        try:
            os.get_terminal_size(fd)
        except (OSError, ValueError):
            continue
        return False
    return True


def describe_current(root: Path) -> str:
    """`seeknal env current`'s line: the active env and the rule that chose it."""
    from seeknal.git.active import resolve
    from seeknal.git.hook_support import settings_of

    current = resolve(root, settings_of(root))
    branch = f", branch {current.branch}" if current.branch else ""
    return f"{current.env or 'production'}  ({current.rule}{branch})"


def _env_current() -> int | None:
    from seeknal.errors import SeeknalError
    from seeknal.project.files import find_root

    try:
        line = describe_current(find_root(Path.cwd()))
    except SeeknalError:
        return None  # the typer command words the error
    return _write(line + "\n", 0)


def utf8_streams() -> bool:
    """stdout and stderr encode UTF-8: click.echo then writes to them as they are."""
    return all(
        (getattr(stream, "encoding", None) or "").lower().replace("-", "") == "utf8"
        for stream in (sys.stdout, sys.stderr)
    )


def _plan(env: str | None) -> int | None:
    """`seeknal plan` and `seeknal plan ENV` without options: the typer command's work
    (cli/plan_flow.py) with its defaults, its messages and exit codes (cli/console.outcome)."""
    if os.name != "posix" or not utf8_streams():
        return None  # click adapts Windows consoles and misconfigured streams: let it
    import shlex

    from seeknal import notices
    from seeknal.cli.console import outcome, warn
    from seeknal.cli.plan_flow import plan_plain

    notices.on_lock_wait = warn  # as cli/main.py sets them for every command
    notices.command_line = shlex.join(["seeknal", *sys.argv[1:]])
    return outcome(lambda: plan_plain(env)) or 0


def _promote(args: list[str]) -> int | None:
    """`seeknal promote ENV` and `seeknal promote ENV --copy-data`; any other option (or none
    named) goes to the typer command."""
    names = [a for a in args if a != "--copy-data"]
    if len(names) != 1 or names[0].startswith("-") or len(args) - len(names) > 1:
        return None
    if os.name != "posix" or not utf8_streams():
        return None  # click adapts Windows consoles and misconfigured streams: let it
    import shlex

    from seeknal.cli.promote_ahead import read_ahead

    read_ahead(Path.cwd(), names[0])  # on another core, while this process imports
    from seeknal import notices
    from seeknal.cli.console import outcome, warn
    from seeknal.cli.promoting import promote_and_report

    notices.on_lock_wait = warn  # as cli/main.py sets them for every command
    notices.command_line = shlex.join(["seeknal", *sys.argv[1:]])
    copy_data = len(names) < len(args)
    return outcome(lambda: promote_and_report(None, names[0], copy_data, False)) or 0


def run_flags(args: list[str]) -> dict[str, Any] | None:
    """The options of `seeknal run ARGS` when they are only --full, -q/--quiet, --parallel,
    --json and --max-workers N (N >= 1, written in decimal digits), each at most once; else
    None (anything more, or anything click might word or convert otherwise, goes to typer)."""
    flags = {"--full": "full", "-q": "quiet", "--quiet": "quiet", "--parallel": "parallel"}
    flags["--json"] = "as_json"
    found: dict[str, Any] = {}
    rest = list(args)
    while rest:
        arg = rest.pop(0)
        if arg.startswith("--max-workers="):
            rest.insert(0, arg.partition("=")[2])
            arg = "--max-workers"
        if arg == "--max-workers" and rest and rest[0].isascii() and rest[0].isdigit():
            name, value = "max_workers", int(rest.pop(0))
            if value < 1:
                return None
        elif arg in flags:
            name, value = flags[arg], True
        else:
            return None
        if name in found:
            return None
        found[name] = value
    return found


def _run(args: list[str]) -> int | None:
    """`seeknal run` with the flags `run_flags` takes: the typer command's work
    (cli/run_flow.py) on the active env; a usage error for that env goes to the typer command."""
    flags = run_flags(args)
    if flags is None or os.name != "posix" or not utf8_streams():
        return None  # click adapts Windows consoles and misconfigured streams: let it
    import shlex

    from seeknal import notices
    from seeknal.cli.console import outcome, warn
    from seeknal.cli.run_flow import RunRequest, run_chosen, usage_problem
    from seeknal.cli.scope import active_env
    from seeknal.planning.select import SelectArgs

    notices.on_lock_wait = warn  # as cli/main.py sets them for every command
    notices.command_line = shlex.join(["seeknal", *sys.argv[1:]])
    request = RunRequest(picked=SelectArgs.of(), **flags)
    found: list[Any] = []
    code = outcome(lambda: found.append(active_env(None, None)))
    if code is not None:
        return code
    if usage_problem(found[0], request) is not None:
        return None
    codes: list[int] = []
    code = outcome(lambda: codes.append(run_chosen(found[0], request)))
    return code if code is not None else codes[0]


def _write(text: str, code: int) -> int:
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        _quiet(sys.stdout)
    return code


def _quiet(stream: Any) -> None:
    # the reader went away (`seeknal --help | head -1`): nothing more to say, no traceback
    os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())
