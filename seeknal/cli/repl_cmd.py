"""`seeknal repl`: an SQL shell over an environment's outputs, every node a view.

Reads statements from the terminal, or from piped input the same way. A statement ends with
`;` at the end of a line (or at the end of the input); lines starting with `.` are commands.
An error is printed and the shell goes on; the exit code is then 1 when the shell ends. Read-only,
like `seeknal query`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from seeknal.cli.console import out, report_error
from seeknal.cli.main import handled
from seeknal.cli.options import ProjectPath
from seeknal.cli.query_cmd import QueryEnv
from seeknal.cli.result_view import TABLE_ROWS, footer, render
from seeknal.cli.scope import read_env
from seeknal.errors import SeeknalError

if TYPE_CHECKING:
    from seeknal.envs.read import DataSession

HELP = """\
.tables   the views: every node with an output, by id ("transform.orders") and by name
.help     this list
.quit     leave (.exit and end of input too)
A statement ends with ';' at the end of a line. Only SELECT (and EXPLAIN) statements run."""
HELP_LINE = ".tables lists the views, .help the commands, .quit leaves."


def register(app: typer.Typer) -> None:
    app.command("repl")(repl)


@handled
def repl(
    env: str | None = QueryEnv,
    execute: str | None = typer.Option(
        None, "--execute", "-e", help="Run this statement (or .command) and exit."
    ),
    project_path: Path | None = ProjectPath,
) -> None:
    """An SQL shell over an environment's outputs, every node a view. Read-only.

    Each node with an output is a view named by its id ("transform.orders", quoted) and by its
    name when no other node has it. Without --env: the active env, else production.
    """
    from seeknal.envs.read import open_session

    ctx, chosen = read_env(project_path, env)
    session = open_session(ctx, chosen)
    try:
        shell = Shell(session)
        if execute is not None:
            shell.run(execute)  # an error exits 1 through `handled`
            return
        where = "production" if chosen is None else f"env {chosen}"
        out(f"seeknal repl: {where}, {len(session.views)} node(s). {HELP_LINE}", err=True)
        shell.loop(sys.stdin.isatty())
    finally:
        session.close()
    if shell.failed:  # like -e, a session in which something failed does not exit 0
        out(f"{shell.failed} statement(s) or command(s) failed.", err=True)
        raise typer.Exit(1)


class Shell:
    """Statements and dot commands, one line at a time, over a `DataSession`."""

    def __init__(self, session: DataSession) -> None:
        self.session = session
        self.buffer: list[str] = []
        self.failed = 0  # statements and commands that failed

    def loop(self, interactive: bool) -> None:
        if interactive:
            try:
                import readline  # noqa: F401 - line editing and history for input()
            except ImportError:  # not on every platform
                pass
        while True:
            try:
                line = self._read(interactive)
            except KeyboardInterrupt:  # Ctrl-C drops the statement being typed
                out("")
                self.buffer = []
                continue
            if line is None or not self.feed(line):
                break
        if "".join(self.buffer).strip():
            self._safely(self.run, "\n".join(self.buffer))

    def _read(self, interactive: bool) -> str | None:
        if interactive:
            try:
                return input("    ...> " if self.buffer else "seeknal> ")
            except EOFError:
                out("")
                return None
        line = sys.stdin.readline()
        return line.rstrip("\n") if line else None

    def feed(self, line: str) -> bool:
        """Take one line; False once the user asked to leave."""
        text = line.strip()
        if not self.buffer and text.startswith("."):
            if text in (".quit", ".exit"):
                return False
            self._safely(self.run, text)
            return True
        if text or self.buffer:
            self.buffer.append(line)
        if text.endswith(";"):
            statement, self.buffer = "\n".join(self.buffer), []
            self._safely(self.run, statement)
        return True

    def _safely(self, action: Callable[[str], None], text: str) -> None:
        try:
            action(text)
        except SeeknalError as exc:  # printed; the shell goes on
            self.failed += 1
            report_error(exc)
        except KeyboardInterrupt:  # Ctrl-C stops the statement, not the shell
            self.failed += 1
            report_error(SeeknalError("Interrupted (Ctrl-C): the statement was stopped."))

    def run(self, text: str) -> None:
        """Run one statement or dot command, printing its result."""
        text = text.strip()
        if text.startswith("."):
            self.command(text)
            return
        result = self.session.sql(text, limit=TABLE_ROWS)
        out(render(result.columns, result.rows, "table", result.more))
        out(footer(len(result.rows), result.more, "add LIMIT/OFFSET to see others"))

    def command(self, text: str) -> None:
        if text == ".tables":
            for node_id in self.session.views:
                alias = self.session.aliases.get(node_id)
                out(f'"{node_id}"' + (f"  (also {alias})" if alias else ""))
            for node_id, exc in sorted(self.session.unavailable.items()):
                out(f"no view for {node_id}: {exc.message}")
        elif text == ".help":
            out(HELP)
        elif text not in (".quit", ".exit"):
            raise SeeknalError(f"Unknown command {text}.", ".help lists the commands.")
