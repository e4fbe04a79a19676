"""Environment commands: `seeknal plan ENV`, `seeknal promote ENV` and the `seeknal env` group."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import typer

from seeknal.cli.console import out, status_label, styled, warn
from seeknal.cli.main import handled

env_app = typer.Typer(
    help="Manage virtual environments.", no_args_is_help=True, add_completion=False
)

ProjectPath = typer.Option(
    None, "--project-path", "-p", help="Project folder (default: found from the current one)."
)

CATEGORY_COLOR = {
    "breaking": typer.colors.RED,
    "non_breaking": typer.colors.YELLOW,
    "metadata": typer.colors.BLUE,
    "added": typer.colors.GREEN,
    "removed": typer.colors.MAGENTA,
    "indirect_breaking": typer.colors.RED,
    "indirect_non_breaking": typer.colors.YELLOW,
}


def register(app: typer.Typer) -> None:
    app.command("promote")(promote)
    app.command("report")(report)
    env_app.command("plan")(env_plan)
    env_app.command("apply")(env_apply)
    env_app.command("promote")(env_promote)
    env_app.command("list")(env_list)
    env_app.command("delete")(env_delete)
    env_app.command("gc")(env_gc)
    app.add_typer(env_app, name="env")


def context(project_path: Path | None, params: str | None = None) -> Any:
    """A Context for the project, after finishing or undoing any interrupted promotion."""
    from seeknal.context import Context, parse_params
    from seeknal.envs.access import recover

    ctx = Context(project_path, parse_params(params))
    for message in recover(ctx):
        warn(f"recovered: {message}")
    return ctx


def branch_binding(ctx: Any, env: str) -> dict[str, str] | None:
    """`{"branch": name}` when `env` is the env of the checked-out branch, so that planning it
    (explicitly, or implicitly by `seeknal run` on the branch) binds it to that branch: `env list`
    shows it, `env gc` removes it once the branch is deleted, and no other branch takes it."""
    from seeknal.git import active, dotgit
    from seeknal.git.hook_support import settings_of

    dirs = dotgit.find_git(ctx.root)
    branch = dotgit.current_branch(dirs) if dirs is not None else None
    if branch is None:
        return None
    settings = settings_of(ctx.root)
    if not settings.bind_branches or active.env_for_branch(ctx.root, branch, settings) != env:
        return None
    return {"branch": branch}


def named_env(project_path: Path | None, env: str | None, verb: str) -> str:
    """The env a command acts on: the one named, else the active one; never production."""
    from seeknal.cli.run_cmd import active_env
    from seeknal.errors import EnvError

    chosen = active_env(project_path, env)
    if chosen.env is None:
        raise EnvError(
            f"No environment to {verb}: the active env is production ({chosen.rule}).",
            f"Name one: seeknal {verb} dev",
        )
    return str(chosen.env)


def print_env_plan(
    result: Any, rel_root: Path, template_dir: Path | None = None, next_step: bool = True
) -> None:
    """The terminal view of a fresh plan: the text template, then where it was saved."""
    out(render_plan(result.plan, result.loaded.manifest(), "text", template_dir).rstrip("\n"))
    try:
        shown = result.path.relative_to(rel_root)
    except ValueError:
        shown = result.path
    out(f"Plan saved to {shown}")
    total = result.plan["total_nodes_to_execute"]
    if not next_step:
        return
    if total:
        out(f"Next: seeknal run --env {result.env}")
    elif result.plan["categorized_changes"]:
        out(f"Next: seeknal run --env {result.env} (nothing to compute), then seeknal promote")


def check_format(fmt: str | None) -> None:
    from seeknal.report.render import FORMATS

    if fmt is not None and fmt not in FORMATS:
        raise typer.BadParameter(f"--format {fmt}: use one of {', '.join(FORMATS)}")


def render_plan(
    plan: dict[str, Any], manifest: dict[str, Any], fmt: str, template_dir: Path | None
) -> str:
    """A plan rendered in `fmt`, with the plan's profile secrets and sensitive env vars hidden."""
    from seeknal.report.model import build_report
    from seeknal.report.render import render, secret_values

    report = build_report(plan, manifest)
    return render(report, fmt, template_dir, secret_values(plan.get("profile_path")))


def emit(text: str, output: Path | None, what: str) -> None:
    """Write a rendered report to --output (atomically) or stdout."""
    if output is None:
        out(text.rstrip("\n"))
        return
    from seeknal.state.atomic import write_bytes

    write_bytes(output, text.encode("utf-8"))
    out(f"{what} written to {output}", err=True)


def plan_env_command(
    env: str,
    breaking: list[str] | None,
    non_breaking: list[str] | None,
    profile: Path | None,
    as_json: bool,
    project_path: Path | None,
    params: str | None,
    fmt: str | None = None,
    output: Path | None = None,
    template_dir: Path | None = None,
) -> None:
    from seeknal.envs.plan import plan_env

    check_format(fmt)
    ctx = context(project_path, params)
    result = plan_env(
        ctx, env, breaking or (), non_breaking or (), profile, git=branch_binding(ctx, env)
    )
    if as_json:
        out(json.dumps(result.plan, indent=2, sort_keys=True))
        return
    for text in result.loaded.project.warnings:
        warn(text)
    if fmt is None:
        print_env_plan(result, ctx.root, template_dir)
        return
    text = render_plan(result.plan, result.loaded.manifest(), fmt, template_dir)
    emit(text, output, f"{fmt} report")


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
        out(json.dumps(plan, indent=2, sort_keys=True))
        return
    if fmt is None:
        out(
            styled(f"Changes of {planned.head} since {base}", bold=True)
            + f" (merge-base {planned.merge_base[:10]}, head {planned.head_commit[:10]})"
        )
    text = render_plan(plan, planned.head_loaded.manifest(), fmt or "text", template_dir)
    emit(text, output, f"{fmt or 'text'} report")


def apply_env_command(
    env: str,
    force: bool,
    parallel: bool,
    max_workers: int,
    quiet: bool,
    as_json: bool,
    project_path: Path | None,
    auto_plan: bool = False,
    rule: str = "--env",
) -> None:
    import time

    from seeknal.cli.run_cmd import node_printer
    from seeknal.envs.access import plan_is_current
    from seeknal.envs.apply import apply_env
    from seeknal.envs.plan import plan_env

    ctx = context(project_path)
    started = time.perf_counter()
    if auto_plan and not plan_is_current(ctx, env):
        result = plan_env(ctx, env, git=branch_binding(ctx, env))
        if not (quiet or as_json):
            out(f"(env {env} from the {rule}: planning first)")
            print_env_plan(result, ctx.root, next_step=False)
            out("")
    printer = node_printer(quiet or as_json)

    def on_start(outcome: Any) -> None:
        printer.width = max((len(n) for n in outcome.to_run), default=10)
        if not (quiet or as_json):
            reused = f", {len(outcome.reused)} reused from an earlier run" if outcome.reused else ""
            out(f"Applying plan to env '{env}': {len(outcome.to_run)} node(s) to run{reused}")

    outcome = apply_env(ctx, env, force, parallel, max_workers, printer, on_start)
    elapsed = time.perf_counter() - started
    counts = {"success": 0, "failed": 0, "skipped": 0}
    for res in outcome.results.values():
        counts[res.status.value] = counts.get(res.status.value, 0) + 1
    if as_json:
        out(
            json.dumps(
                {
                    "env": env,
                    "ok": not outcome.failed,
                    "seconds": round(elapsed, 3),
                    "counts": counts,
                    "reused": outcome.reused,
                    "nodes": [
                        {
                            "id": r.node_id,
                            "status": r.status.value,
                            "rows": r.row_count,
                            "error": r.error,
                        }
                        for r in outcome.results.values()
                    ],
                },
                indent=2,
            )
        )
    else:
        summary = (
            f"Env '{env}' done in {elapsed:.2f}s: {counts['success']} succeeded, "
            f"{counts['failed']} failed, {counts['skipped']} skipped"
            + (f", {len(outcome.reused)} reused" if outcome.reused else "")
        )
        out(styled(summary, typer.colors.RED if outcome.failed else None, bold=True))
        if quiet:
            for failed in outcome.failed:
                out(f"{failed.node_id}: {failed.error}", err=True)
        if not outcome.failed:
            out(f"Next: seeknal promote {env} (or merge the branch, with hooks installed)")
    if outcome.failed:
        raise typer.Exit(1)


@handled
def promote(
    env: str | None = typer.Argument(
        None, help="Environment to make production (default: the active env)."
    ),
    copy_data: bool = typer.Option(
        False, "--copy-data", help="Copy outputs instead of moving them; the env stays intact."
    ),
    project_path: Path | None = ProjectPath,
) -> None:
    """Make an applied environment production, atomically."""
    from seeknal.envs.promote import promote_env

    env = named_env(project_path, env, "promote")
    ctx = context(project_path)
    outcome = promote_env(ctx, env, copy_data)
    how = "copied" if copy_data else "moved"
    out(
        f"Promoted env '{env}' to production in {outcome.seconds * 1000:.0f} ms: "
        f"{len(outcome.moved)} output(s) {how}, {len(outcome.removed)} removed."
    )


@handled
def env_plan(
    env: str = typer.Argument(..., help="Environment name."),
    breaking: list[str] | None = typer.Option(None, "--breaking", help="Treat NODE as breaking."),
    non_breaking: list[str] | None = typer.Option(
        None, "--non-breaking", help="Treat NODE as non-breaking."
    ),
    profile: Path | None = typer.Option(None, "--profile", help="Profiles file for this env."),
    as_json: bool = typer.Option(False, "--json", help="Print the plan as JSON."),
    project_path: Path | None = ProjectPath,
    params: str | None = typer.Option(None, "--params", help="JSON object of {{ }} values."),
) -> None:
    """Plan an environment (same as `seeknal plan ENV`)."""
    plan_env_command(env, breaking, non_breaking, profile, as_json, project_path, params)


@handled
def env_apply(
    env: str = typer.Argument(..., help="Environment name."),
    force: bool = typer.Option(False, "--force", help="Apply the planned snapshot even if stale."),
    parallel: bool = typer.Option(False, "--parallel", help="Run independent nodes at once."),
    max_workers: int = typer.Option(4, "--max-workers", min=1, help="Workers for --parallel."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only the summary and errors."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON summary."),
    project_path: Path | None = ProjectPath,
) -> None:
    """Execute an environment's plan (same as `seeknal run --env ENV`)."""
    apply_env_command(env, force, parallel, max_workers, quiet, as_json, project_path)


@handled
def env_promote(
    source: str = typer.Argument(..., help="Environment to copy from."),
    dest: str = typer.Argument(..., help="Environment to copy into (created or replaced)."),
    project_path: Path | None = ProjectPath,
) -> None:
    """Copy one environment's state and outputs into another."""
    from seeknal.envs.store import copy_env

    ctx = context(project_path)
    copy_env(ctx, source, dest)
    out(f"Environment '{dest}' is now a copy of '{source}' (promoted_from: {source}).")


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def _when(text: str | None) -> str:
    return (text or "-").replace("T", " ")[:16]


@handled
def env_list(
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    project_path: Path | None = ProjectPath,
) -> None:
    """List environments with status, branch, age, expiry and disk size."""
    from seeknal.envs.store import list_envs

    ctx = context(project_path)
    rows = list_envs(ctx)
    if as_json:
        out(json.dumps(rows, indent=2, sort_keys=True))
        return
    if not rows:
        out("No environments. Create one with: seeknal plan dev")
        return
    name_w = max(4, *(len(r["name"]) for r in rows))
    branch_w = max(6, *(len(r["branch"] or "-") for r in rows))
    header = f"{'NAME':<{name_w}} {'STATUS':<9} {'BRANCH':<{branch_w}} {'CREATED':<17} "
    out(header + f"{'LAST USED':<17} {'EXPIRES':<17} {'SIZE':>9}")
    for row in rows:
        expires = "EXPIRED" if row["expired"] else _when(row["expires_at"])
        out(
            f"{row['name']:<{name_w}} {status_label(row['status'], 9)} "
            f"{(row['branch'] or '-'):<{branch_w}} {_when(row['created_at']):<17} "
            f"{_when(row['last_accessed']):<17} {expires:<17} {_size(row['disk_bytes']):>9}"
        )


@handled
def env_delete(
    env: str = typer.Argument(..., help="Environment to delete."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    project_path: Path | None = ProjectPath,
) -> None:
    """Delete an environment and its outputs (production is never touched)."""
    from seeknal.envs.names import validate_env_name
    from seeknal.envs.store import delete_env

    validate_env_name(env)
    ctx = context(project_path)
    if not yes and not typer.confirm(f"Delete environment '{env}' and its outputs?"):
        out("Nothing deleted.")
        raise typer.Exit(1)
    folder = delete_env(ctx, env)
    out(f"Deleted environment '{env}' ({folder.relative_to(ctx.root)}).")


@handled
def env_gc(
    dry_run: bool = typer.Option(False, "--dry-run", help="List what would be deleted."),
    project_path: Path | None = ProjectPath,
) -> None:
    """Delete expired environments (and those whose git branch is gone)."""
    from seeknal.envs.store import gc_envs
    from seeknal.git import dotgit

    ctx = context(project_path)
    dirs = dotgit.find_git(ctx.root)
    exists = None if dirs is None else (lambda branch: dotgit.branch_exists(dirs, branch))
    doomed = gc_envs(ctx, dry_run, branch_exists=exists, now=dt.datetime.now(dt.UTC))
    if not doomed:
        out("Nothing to collect.")
        return
    verb = "Would delete" if dry_run else "Deleted"
    for name, why in doomed:
        out(f"{verb} {name}: {why}")


FormatOption = typer.Option(
    None, "--format", "-f", help="text, markdown (PR comment), html (standalone page) or json."
)
OutputOption = typer.Option(None, "--output", "-o", help="Write the report to this file.")
TemplateDirOption = typer.Option(
    None, "--template-dir", help="Folder whose plan.*.j2 files override the shipped templates."
)


@handled
def report(
    env: str | None = typer.Argument(None, help="Environment (default: the active env)."),
    fmt: str | None = FormatOption,
    output: Path | None = OutputOption,
    template_dir: Path | None = TemplateDirOption,
    project_path: Path | None = ProjectPath,
) -> None:
    """Render an environment's saved plan, with run results once it was applied."""
    from seeknal.report.build import env_report
    from seeknal.report.render import render, secret_values

    check_format(fmt)
    env = named_env(project_path, env, "report")
    ctx = context(project_path)
    model, profile_path = env_report(ctx, env)
    fmt = fmt or "text"
    emit(render(model, fmt, template_dir, secret_values(profile_path)), output, f"{fmt} report")
