"""`seeknal promote`: an applied environment becomes production."""

from __future__ import annotations

from pathlib import Path

import typer

from seeknal.cli.complete import env_names
from seeknal.cli.console import out
from seeknal.cli.main import handled
from seeknal.cli.options import EnvOption, ProjectPath, one_env
from seeknal.cli.scope import context, named_env


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
    from seeknal.envs.promote import promote_env

    env = named_env(project_path, one_env(env, env_option), "promote")
    ctx = context(project_path)
    outcome = promote_env(ctx, env, copy_data, rematerialize=rematerialize)
    how = "copied" if copy_data else "moved"
    out(
        f"Promoted env '{env}' to production in {outcome.seconds * 1000:.0f} ms: "
        f"{len(outcome.moved)} output(s) {how}, {len(outcome.removed)} removed."
    )
    for table in outcome.tables:
        out(f"Materialized {table}")
