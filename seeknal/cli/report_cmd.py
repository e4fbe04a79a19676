"""`seeknal report`: an environment's saved plan, with its run results once applied."""

from __future__ import annotations

from pathlib import Path

import typer

from seeknal.cli.complete import env_names
from seeknal.cli.main import handled
from seeknal.cli.options import EnvOption, ProjectPath, one_env
from seeknal.cli.plan_view import check_format, emit
from seeknal.cli.scope import context, named_env

FormatOption = typer.Option(
    None, "--format", "-f", help="text, markdown (PR comment), html (standalone page) or json."
)
OutputOption = typer.Option(None, "--output", "-o", help="Write the report to this file.")
TemplateDirOption = typer.Option(
    None, "--template-dir", help="Folder whose plan.*.j2 files override the shipped templates."
)


def register(app: typer.Typer) -> None:
    app.command("report")(report)


@handled
def report(
    env: str | None = typer.Argument(
        None,
        autocompletion=env_names,
        help="Environment to report on (same as --env; default: the active env).",
    ),
    fmt: str | None = FormatOption,
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON (--format json)."),
    env_option: str | None = EnvOption,
    output: Path | None = OutputOption,
    template_dir: Path | None = TemplateDirOption,
    project_path: Path | None = ProjectPath,
) -> None:
    """Render an environment's saved plan, with run results once it was applied."""
    from seeknal.report.build import env_report
    from seeknal.report.render import render, secret_values

    if as_json and fmt not in (None, "json"):
        raise typer.BadParameter(f"--json and --format {fmt} ask for different formats; give one.")
    fmt = "json" if as_json else fmt
    check_format(fmt)
    env = named_env(project_path, one_env(env, env_option), "report")
    ctx = context(project_path)
    model, profile_path = env_report(ctx, env)
    fmt = fmt or "text"
    secrets = secret_values(profile_path, ctx.root)
    emit(render(model, fmt, template_dir, secrets), output, f"{fmt} report")
