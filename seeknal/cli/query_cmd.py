"""`seeknal query`: one read-only SELECT over an environment's outputs (or production's)."""

from __future__ import annotations

from pathlib import Path

import typer

from seeknal.cli.console import out
from seeknal.cli.main import handled
from seeknal.cli.options import ProjectPath
from seeknal.cli.result_view import FORMATS, TABLE_ROWS, footer, render
from seeknal.cli.scope import read_env

QueryEnv = typer.Option(
    None, "--env", help="Read this environment (default: the active env, else production)."
)


def register(app: typer.Typer) -> None:
    app.command("query")(query)


@handled
def query(
    sql: str = typer.Argument(..., help="A SELECT; ref('kind.name') reads a node's output."),
    env: str | None = QueryEnv,
    fmt: str = typer.Option("table", "--format", "-f", help="table, csv or json."),
    limit: int | None = typer.Option(
        None, "--limit", min=0, help=f"At most N rows (a table shows {TABLE_ROWS} by default)."
    ),
    project_path: Path | None = ProjectPath,
) -> None:
    """Run a read-only SQL query over an environment's outputs (production's without one).

    Nodes the env did not change are read from production. Takes no lock, writes nothing.
    """
    from seeknal.envs.read import run_query

    if fmt not in FORMATS:
        raise typer.BadParameter(
            f"'{fmt}' is not one of {', '.join(FORMATS)}", param_hint="--format"
        )
    ctx, chosen = read_env(project_path, env)
    shown = limit if limit is not None or fmt != "table" else TABLE_ROWS
    result = run_query(ctx, chosen, sql, shown)
    out(render(result.columns, result.rows, fmt, result.more))
    if fmt == "table":
        hint = "raise --limit" if limit is not None else "--limit N shows N, --format csv all"
        out(footer(len(result.rows), result.more, hint))
