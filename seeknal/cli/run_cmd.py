"""`seeknal run`: its options and usage errors; the work is in cli/run_flow.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from seeknal.cli.complete import env_names, selectors
from seeknal.cli.main import handled
from seeknal.cli.options import (
    Exclude,
    MaxWorkers,
    Parallel,
    Params,
    ProjectPath,
    Quiet,
    Select,
    one_env,
)
from seeknal.cli.run_flow import RunRequest, run_chosen, usage_problem
from seeknal.cli.scope import active_env

Nodes = typer.Option(
    None,
    "--nodes",
    "-n",
    autocompletion=selectors,
    help="Run only these nodes (ids, names or selectors) and their downstream; in an env, "
    "among the planned nodes.",
)
Env = typer.Option(
    None,
    "--env",
    "-e",
    autocompletion=env_names,
    help="Apply this environment's plan instead of running production.",
)
EnvArgument = typer.Argument(
    None,
    autocompletion=env_names,
    help="Environment whose plan to apply (same as --env; default: the branch's env on a "
    "branch, else production).",
)


def register(app: typer.Typer) -> None:
    app.command("run")(run)


@handled
def run(
    env_name: str | None = EnvArgument,
    full: bool = typer.Option(False, "--full", help="Run every node, changed or not."),
    nodes: list[str] | None = Nodes,
    select: list[str] | None = Select,
    exclude: list[str] | None = Exclude,
    dry_run: bool = typer.Option(False, "--dry-run", help="Print what would run; write nothing."),
    parallel: bool = Parallel,
    max_workers: int | None = MaxWorkers,
    quiet: bool = Quiet,
    as_json: bool = typer.Option(False, "--json", help="Print a JSON summary to stdout."),
    env: str | None = Env,
    force: bool = typer.Option(False, "--force", help="With --env: apply even a stale plan."),
    project_path: Path | None = ProjectPath,
    params: str | None = Params,
    profile: Path | None = typer.Option(
        None, "--profile", help="Profiles file (connections, catalogs) for this run."
    ),
    engine: str | None = typer.Option(
        None,
        "--engine",
        help="Run the nodes on duckdb or spark (default: the profile's engine:, else duckdb).",
    ),
) -> None:
    """Execute the project: production, or on a branch the branch's env.

    On the production branch (or outside git): new and changed nodes and their downstream.
    On another branch, the branch's env: its plan (planned first when missing or stale), only
    what changed. ENV or --env ENV applies that environment's plan.
    """
    if engine is not None and engine not in ("duckdb", "spark"):
        raise typer.BadParameter(f"--engine must be duckdb or spark, not {engine!r}")
    chosen = active_env(project_path, one_env(env_name, env))
    request = RunRequest(
        full,
        _selection(nodes, select, exclude),
        dry_run,
        parallel,
        max_workers,
        quiet,
        as_json,
        force,
        project_path,
        params,
        profile,
        engine,
    )
    problem = usage_problem(chosen, request)
    if problem is not None:
        raise typer.BadParameter(problem)
    code = run_chosen(chosen, request)
    if code:
        raise typer.Exit(code)


def _selection(nodes: list[str] | None, select: list[str] | None, exclude: list[str] | None) -> Any:
    from seeknal.planning.select import SelectArgs

    return SelectArgs.of(nodes, select, exclude)
