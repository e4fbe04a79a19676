"""The `seeknal env` group: plan, apply, promote (env to env), list, delete, gc, current."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import typer

from seeknal.cli.complete import env_names
from seeknal.cli.console import out, status_label
from seeknal.cli.main import handled
from seeknal.cli.options import MaxWorkers, Parallel, Params, ProjectPath, Quiet
from seeknal.cli.plan_flow import plan_env_command
from seeknal.cli.run_flow import apply_env_command
from seeknal.cli.scope import context, project_root

env_app = typer.Typer(
    help="Manage virtual environments.",
    no_args_is_help=True,
    add_completion=False,
    suggest_commands=False,
)
EnvName = typer.Argument(..., autocompletion=env_names, help="Environment name.")


def register(app: typer.Typer) -> None:
    env_app.command("plan")(env_plan)
    env_app.command("apply")(env_apply)
    env_app.command("promote")(env_promote)
    env_app.command("list")(env_list)
    env_app.command("delete")(env_delete)
    env_app.command("gc")(env_gc)
    env_app.command("current")(env_current)
    app.add_typer(env_app, name="env")


@handled
def env_plan(
    env: str = EnvName,
    breaking: list[str] | None = typer.Option(None, "--breaking", help="Treat NODE as breaking."),
    non_breaking: list[str] | None = typer.Option(
        None, "--non-breaking", help="Treat NODE as non-breaking."
    ),
    profile: Path | None = typer.Option(None, "--profile", help="Profiles file for this env."),
    as_json: bool = typer.Option(False, "--json", help="Print the plan as JSON."),
    project_path: Path | None = ProjectPath,
    params: str | None = Params,
) -> None:
    """Plan an environment (same as `seeknal plan ENV`)."""
    plan_env_command(env, breaking, non_breaking, profile, as_json, project_path, params)


@handled
def env_apply(
    env: str = EnvName,
    force: bool = typer.Option(False, "--force", help="Apply the planned snapshot even if stale."),
    parallel: bool = Parallel,
    max_workers: int | None = MaxWorkers,
    quiet: bool = Quiet,
    as_json: bool = typer.Option(False, "--json", help="Print a JSON summary."),
    project_path: Path | None = ProjectPath,
    profile: Path | None = typer.Option(
        None, "--profile", help="Profiles file: must be the one the env's plan recorded."
    ),
) -> None:
    """Execute an environment's plan (same as `seeknal run --env ENV`)."""
    code = apply_env_command(
        env, force, parallel, max_workers, quiet, as_json, project_path, profile=profile
    )
    if code:
        raise typer.Exit(code)


@handled
def env_promote(
    source: str = typer.Argument(..., help="Environment to copy from."),
    dest: str = typer.Argument(..., help="Environment to copy into (created or replaced)."),
    project_path: Path | None = ProjectPath,
) -> None:
    """Copy one environment's state and outputs into another."""
    from seeknal.envs.store import copy_env

    ctx = context(project_path)
    _, promoted = copy_env(ctx, source, dest)
    out(f"Environment '{dest}' is now a copy of '{source}' (promoted_from: {source}).")
    if promoted:
        out(
            f"'{source}' was promoted: its outputs are production's now, and '{dest}' reads "
            "them there (nothing to move when it is promoted)."
        )


def _confirm(question: str) -> bool:
    try:
        return bool(typer.confirm(question))
    except typer.Abort:  # no answer (input closed): delete nothing
        out("")
        return False


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def _when(text: str | None) -> str:
    return (text or "-").replace("T", " ")[:16]


def _suggested_env(ctx: Any) -> str:
    """The env `seeknal plan` would pick on this checkout (the branch's env), else `dev`."""
    from seeknal.errors import SeeknalError
    from seeknal.git.active import resolve
    from seeknal.git.hook_support import settings_of

    try:
        chosen = resolve(ctx.root, settings_of(ctx.root), None)
    except SeeknalError:
        return "dev"
    return str(chosen.env) if chosen.env is not None else "dev"


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
        out(f"No environments. Create one with: seeknal plan {_suggested_env(ctx)}")
        return
    name_w = max(4, *(len(r["name"]) for r in rows))
    branch_w = max(6, *(len(r["branch"] or "-") for r in rows))
    header = f"{'NAME':<{name_w}} {'STATUS':<9} {'BRANCH':<{branch_w}} {'CREATED':<17} "
    out(header + f"{'LAST USED':<17} {'EXPIRES':<17} {'SIZE':>9}")
    for row in rows:
        expires = "EXPIRED" if row["expired"] else _when(row["expires_at"])
        out(
            f"{row['name']:<{name_w}} {status_label(row['status'], 9, word=True)} "
            f"{(row['branch'] or '-'):<{branch_w}} {_when(row['created_at']):<17} "
            f"{_when(row['last_accessed']):<17} {expires:<17} {_size(row['disk_bytes']):>9}"
        )


@handled
def env_delete(
    env: str = typer.Argument(..., autocompletion=env_names, help="Environment to delete."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    project_path: Path | None = ProjectPath,
) -> None:
    """Delete an environment and its outputs (production is never touched)."""
    from seeknal.envs.access import env_target
    from seeknal.envs.names import validate_env_name
    from seeknal.envs.store import delete_env
    from seeknal.errors import EnvError

    validate_env_name(env)
    ctx = context(project_path)
    if not env_target(ctx, env).dir.is_dir():  # before asking about an env that is not there
        raise EnvError(f"Environment '{env}' not found.", "'seeknal env list' shows the envs.")
    if not yes and not _confirm(f"Delete environment '{env}' and its outputs?"):
        out("Nothing deleted. Pass --yes to delete without a question.")
        raise typer.Exit(1)
    folder, dropped = delete_env(ctx, env)
    out(f"Deleted environment '{env}' ({folder.relative_to(ctx.root)}).")
    for name in dropped:
        out(f"Dropped {name}")


@handled
def env_gc(
    dry_run: bool = typer.Option(False, "--dry-run", help="List what would be deleted."),
    project_path: Path | None = ProjectPath,
) -> None:
    """Delete expired environments (and those whose git branch is gone)."""
    from seeknal.envs.store import gc_envs, kept_by_remote
    from seeknal.git import dotgit

    ctx = context(project_path)
    now = dt.datetime.now(dt.UTC)
    dirs = dotgit.find_git(ctx.root)
    exists = None if dirs is None else (lambda branch: dotgit.branch_exists(dirs, branch))
    kept = [] if dirs is None else kept_by_remote(ctx, lambda b: dotgit.branch_where(dirs, b), now)
    doomed = gc_envs(ctx, dry_run, branch_exists=exists, now=now)
    verb = "Would delete" if dry_run else "Deleted"
    for name, why in doomed:
        out(f"{verb} {name}: {why}")
    if not doomed:
        out("Nothing to collect.")
    for name, branch, remote in kept:
        out(
            f"Kept {name}: its branch '{branch}' is deleted here but still exists as the "
            f"remote-tracking branch {remote} (a branch that exists on a remote counts)."
        )
    if kept:
        env = kept[0][0] if len(kept) == 1 else "ENV"
        out(
            "Next: when the branch is deleted on the remote too, 'git fetch --prune' drops "
            "the remote-tracking branch and 'seeknal env gc' deletes the env; or delete it "
            f"now: seeknal env delete {env}"
        )


@handled
def env_current(project_path: Path | None = ProjectPath) -> None:
    """Print the active environment and which rule chose it."""
    from seeknal.cli.quick import describe_current

    out(describe_current(project_root(project_path)))
