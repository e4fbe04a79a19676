"""`seeknal promote`: an applied environment becomes production."""

from __future__ import annotations

from pathlib import Path

import typer

from seeknal.cli.complete import env_names
from seeknal.cli.main import handled
from seeknal.cli.options import EnvOption, ProjectPath, one_env
from seeknal.cli.promoting import promote_and_report


def register(app: typer.Typer) -> None:
    app.command("promote")(promote)


@handled
def promote(
    env: str | None = typer.Argument(
        None,
        autocompletion=env_names,
        help="Environment to make production (same as --env; default: the active env).",
    ),
    env_option: str | None = EnvOption,
    copy_data: bool = typer.Option(
        False, "--copy-data", help="Copy outputs instead of moving them; the env stays intact."
    ),
    rematerialize: bool = typer.Option(
        False,
        "--rematerialize",
        help="Also write the promoted nodes' materializations to their production tables.",
    ),
    project_path: Path | None = ProjectPath,
) -> None:
    """Make an applied environment production, atomically."""
    promote_and_report(project_path, one_env(env, env_option), copy_data, rematerialize)
