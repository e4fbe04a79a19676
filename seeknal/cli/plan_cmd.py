"""`seeknal plan`: production, an environment (ENV), or the changes between two revisions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from seeknal.cli.complete import env_names, selectors
from seeknal.cli.console import out, styled
from seeknal.cli.main import handled
from seeknal.cli.options import EnvOption, Exclude, Params, ProjectPath, Select, one_env
from seeknal.cli.plan_flow import plan_chosen
from seeknal.cli.plan_view import check_format, emit, render_plan
from seeknal.cli.scope import active_env, context

EnvArgument = typer.Argument(
    None,
    autocompletion=env_names,
    help="Environment to plan (same as --env; default: the branch's env on a branch, "
    "else production).",
)
Nodes = typer.Option(
    None,
    "--nodes",
    "-n",
    autocompletion=selectors,
    help="Plan only these nodes (ids, names or selectors) and their downstream.",
)
Breaking = typer.Option(None, "--breaking", help="With ENV: treat this changed node as breaking.")
NonBreaking = typer.Option(
    None, "--non-breaking", help="With ENV: treat this changed node as non-breaking."
)
Profile = typer.Option(None, "--profile", help="With ENV: profiles file.")
Base = typer.Option(
    None, "--base", help="Plan the changes since this git revision (from git objects)."
)
Head = typer.Option(None, "--head", help="With --base: the revision to plan.")
Format = typer.Option(None, "--format", "-f", help="Report format: text, markdown, html or json.")
Output = typer.Option(None, "--output", "-o", help="Write the report here.")
TemplateDir = typer.Option(
    None, "--template-dir", help="Folder whose plan.*.j2 files override the shipped ones."
)


def register(app: typer.Typer) -> None:
    app.command("plan")(plan)


@handled
def plan(
    env: str | None = EnvArgument,
    full: bool = typer.Option(False, "--full", help="Plan a run of every node."),
    nodes: list[str] | None = Nodes,
    select: list[str] | None = Select,
    exclude: list[str] | None = Exclude,
    breaking: list[str] | None = Breaking,
    non_breaking: list[str] | None = NonBreaking,
    profile: Path | None = Profile,
    base: str | None = Base,
    head: str | None = Head,
    fmt: str | None = Format,
    output: Path | None = Output,
    template_dir: Path | None = TemplateDir,
    as_json: bool = typer.Option(False, "--json", help="Print the plan as JSON."),
    env_option: str | None = EnvOption,
    project_path: Path | None = ProjectPath,
    params: str | None = Params,
) -> None:
    """Show what would run and why.

    With ENV (or on a branch bound to an env), plan that environment against production.
    With --base REV [--head REV], plan the changes between two git revisions.
    """
    env = one_env(env, env_option)
    if as_json and fmt not in (None, "json"):
        raise typer.BadParameter(f"--json and --format {fmt} ask for different formats; give one.")
    if base is not None:
        plan_revisions_command(
            base, head, env, as_json, project_path, params, fmt, output, template_dir
        )
        return
    if head is not None:
        raise typer.BadParameter("--head goes with --base")
    chosen = active_env(project_path, env)
    chooses = full or bool(nodes or select or exclude)
    _refuse_other_scope(chosen, chooses, bool(breaking or non_breaking or profile))
    plan_chosen(
        chosen,
        project_path,
        params,
        full,
        (nodes, select, exclude),
        (breaking, non_breaking, profile),
        as_json,
        (fmt, output, template_dir),
    )


def _refuse_other_scope(chosen: Any, production_only: bool, env_only: bool) -> None:
    """Options of a production plan given for an env plan, or the other way round."""
    if chosen.env is None and env_only:
        raise typer.BadParameter(
            "--breaking, --non-breaking and --profile go with an environment: seeknal plan dev ..."
        )
    if chosen.env is not None and production_only:
        raise typer.BadParameter(
            f"--full, --nodes, --select and --exclude plan production runs; the active env is "
            f"{chosen.env} ({chosen.rule}). An env plan always covers the whole change; choose "
            f"what runs with seeknal run {chosen.env} --select ..."
        )


def plan_revisions_command(
    base: str,
    head: str | None,
    env: str | None,
    as_json: bool,
    project_path: Path | None,
    params: str | None,
    fmt: str | None = None,
    output: Path | None = None,
    template_dir: Path | None = None,
) -> None:
    from seeknal.envs.git_events import plan_revisions

    check_format(fmt)
    ctx = context(project_path, params)
    planned = plan_revisions(ctx, base, head)
    plan = planned.as_plan(env)
    if as_json:
        out(json.dumps(plan.to_json(), indent=2, sort_keys=True))
        return
    if fmt is None:
        out(
            styled(f"Changes of {planned.head} since {base}", bold=True)
            + f" (merge-base {planned.merge_base[:10]}, head {planned.head_commit[:10]})"
        )
    text = render_plan(plan, planned.head_loaded.manifest(), fmt or "text", template_dir, ctx.root)
    emit(text, output, f"{fmt or 'text'} report")
