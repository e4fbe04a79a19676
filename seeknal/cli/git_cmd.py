"""Git commands: the `seeknal hooks` group and `seeknal sync`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from seeknal.cli.console import out, styled, warn
from seeknal.cli.main import handled
from seeknal.cli.options import ProjectPath
from seeknal.cli.progress import node_printer
from seeknal.cli.scope import context, project_root

hooks_app = typer.Typer(
    help="Install, remove or explain seeknal's git hooks.",
    no_args_is_help=True,
    add_completion=False,
    suggest_commands=False,
)


def register(app: typer.Typer) -> None:
    hooks_app.command("install")(hooks_install)
    hooks_app.command("uninstall")(hooks_uninstall)
    hooks_app.command("status")(hooks_status)
    app.add_typer(hooks_app, name="hooks")
    app.command("sync")(sync)


@handled
def hooks_install(project_path: Path | None = ProjectPath) -> None:
    """Install the pre-push, post-merge, post-checkout and post-commit hooks (yours are kept)."""
    from seeknal.git import hooks

    report = hooks.install(project_root(project_path))
    for action in report.actions:
        out(f"  {action}")
    for conflict in report.conflicts:
        warn(f"{conflict.tool}: {conflict.detail}; {conflict.advice}")
    out(f"Hooks installed in {report.folder}. 'seeknal hooks status' explains what they do.")


@handled
def hooks_uninstall(project_path: Path | None = ProjectPath) -> None:
    """Remove seeknal's hooks and restore any hook they replaced."""
    from seeknal.git import hooks

    report = hooks.uninstall(project_root(project_path))
    for action in report.actions:
        out(f"  {action}")


@handled
def hooks_status(project_path: Path | None = ProjectPath) -> None:
    """Explain what is installed, what would run on each git event, and any conflict."""
    from seeknal.git import hooks
    from seeknal.git.active import resolve
    from seeknal.git.hook_support import settings_of

    root = project_root(project_path)
    report, states, projects = hooks.status(root)
    git = settings_of(root)
    out(f"Hooks folder: {report.folder}")
    for state in states:
        mark = {"seeknal": "ok", "seeknal+user": "ok", "foreign": "--", "missing": "--"}[
            state.state
        ]
        out(f"  {mark:<3} {state.hook:<14} {state.detail}")
    if projects:
        out(f"Projects served: {', '.join(projects)}")
    out("What runs:")
    out(
        "  post-checkout  on a branch checkout: switch the active env (production on "
        f"{', '.join(git.production_branches)}), print one line"
        + ("" if git.bind_branches else " (bind_branches is off: does nothing)")
    )
    block = " and breaking changes" if "breaking" in git.pre_push_block_on else ""
    out(
        "  pre-push       plan each pushed branch against "
        f"{'/'.join(git.production_branches)} from git objects; block on project errors{block}"
    )
    merge = {
        "promote": "promote the applied env that matches the merge, else print what to run",
        "run": "promote a matching applied env, else run what changed",
        "notify": "promote a matching applied env, else print what to run",
    }[git.on_merge]
    out(f"  post-merge     on {'/'.join(git.production_branches)}: {merge}")
    out(
        "  post-commit    only a commit completing a merge (--squash, or by hand after conflicts):"
        " the same as post-merge"
    )
    for conflict in report.conflicts:
        warn(f"{conflict.tool}: {conflict.detail}; {conflict.advice}")
    current = resolve(root, git)
    out(f"Active env now: {current.env or 'production'} ({current.rule})")


@handled
def sync(project_path: Path | None = ProjectPath) -> None:
    """Make production match the checked-out production branch (what post-merge does)."""
    from seeknal.envs.git_events import sync as do_sync

    ctx = context(project_path)
    printer: Any = node_printer(False)
    printer.width = 34
    outcome = do_sync(ctx, on_done=printer)
    out(styled(f"seeknal sync: {outcome.message}", bold=True))
    if outcome.failed:
        raise typer.Exit(1)
