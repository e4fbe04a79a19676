"""`seeknal run`: production, or with --env the env's plan (also `seeknal env apply`)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import typer

from seeknal.cli.complete import env_names, selectors
from seeknal.cli.console import out
from seeknal.cli.live import RunWatch, on_terminal
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
from seeknal.cli.plan_flow import show_production_plan
from seeknal.cli.plan_view import counts_line, print_env_plan
from seeknal.cli.progress import node_printer, print_warnings
from seeknal.cli.run_summary import print_apply_outcome, print_production_outcome
from seeknal.cli.scope import active_env, branch_binding, context

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
    max_workers: int = MaxWorkers,
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
    picked = _selection(nodes, select, exclude)
    if chosen.env is not None:
        if full or dry_run or params:
            raise typer.BadParameter(
                f"--full, --dry-run and --params are for production runs; the active "
                f"env is {chosen.env} ({chosen.rule})"
            )
        apply_env_command(
            chosen.env,
            force,
            parallel,
            max_workers,
            quiet,
            as_json,
            project_path,
            auto_plan=chosen.implicit,
            rule=chosen.rule,
            profile=profile,
            selection=picked,
            engine=engine,
        )
        return
    if force:
        raise typer.BadParameter("--force only goes with --env")
    if chosen.rule == "detached HEAD" and not dry_run:
        _refuse_detached()
    ctx = context(project_path, params)
    ctx.engine_choice = engine
    if dry_run:
        show_production_plan(ctx, full, picked, quiet, as_json, "Dry run (nothing is written):")
        return
    run_production_command(ctx, full, picked, parallel, max_workers, quiet, as_json, profile)


def _refuse_detached() -> None:
    from seeknal.errors import SeeknalError

    raise SeeknalError(
        "HEAD is detached and not known to be production: a run here would write code that "
        "may not be on the production branch into production.",
        "Check out the production branch (git checkout main), or name an env: "
        "seeknal run --env NAME (SEEKNAL_ENV=prod forces production).",
    )


def _selection(nodes: list[str] | None, select: list[str] | None, exclude: list[str] | None) -> Any:
    from seeknal.planning.select import SelectArgs

    return SelectArgs.of(nodes, select, exclude)


def run_production_command(
    ctx: Any,
    full: bool,
    nodes: Any,
    parallel: bool,
    max_workers: int,
    quiet: bool,
    as_json: bool,
    profile: Path | None = None,
) -> None:
    from seeknal.runner.production import run_production

    started = time.perf_counter()
    on_done = node_printer(quiet or as_json)
    watch = RunWatch(on_done, not (quiet or as_json), on_terminal())

    def on_plan(plan_obj: Any) -> None:
        print_warnings(plan_obj.loaded.project, quiet or as_json)
        on_done.width = max((len(n) for n in plan_obj.to_run), default=10)
        if not quiet and not as_json:
            out(f"Running {counts_line(plan_obj)}")
        watch.begin(len(plan_obj.to_run))

    with watch.watching():
        outcome = run_production(
            ctx,
            full,
            nodes,
            parallel,
            max_workers,
            watch.finished,
            on_plan,
            command="seeknal run",
            profile=profile,
            on_node_start=watch.started,
        )
    print_production_outcome(outcome, time.perf_counter() - started, quiet, as_json)
    if outcome.failed:
        raise typer.Exit(1)


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
    profile: Path | None = None,
    selection: Any = None,
    engine: str | None = None,
) -> None:
    from seeknal.envs.apply import apply_env

    ctx = context(project_path)
    ctx.engine_choice = engine
    started = time.perf_counter()
    if auto_plan:
        _plan_if_stale(ctx, env, rule, quiet or as_json, profile)
    printer = node_printer(quiet or as_json)
    watch = RunWatch(printer, not (quiet or as_json), on_terminal())

    def on_start(outcome: Any) -> None:
        printer.width = max((len(n) for n in outcome.to_run), default=10)
        if not (quiet or as_json):
            reused = f", {len(outcome.reused)} reused from an earlier run" if outcome.reused else ""
            held = f", {len(outcome.held)} not selected" if outcome.held else ""
            out(f"Applying plan to env '{env}': {len(outcome.to_run)} node(s) to run{reused}{held}")
        watch.begin(len(outcome.to_run))

    with watch.watching():
        outcome = apply_env(
            ctx,
            env,
            force,
            parallel,
            max_workers,
            watch.finished,
            on_start,
            profile,
            selection,
            on_node_start=watch.started,
        )
    print_apply_outcome(env, outcome, time.perf_counter() - started, quiet, as_json)
    if outcome.failed:
        raise typer.Exit(1)


def _plan_if_stale(
    ctx: Any, env: str, rule: str, silent: bool, profile: Path | None = None
) -> None:
    """`seeknal run` on a branch plans its env first when the saved plan is missing or stale."""
    from seeknal.envs.access import plan_is_current
    from seeknal.envs.plan import plan_env

    if plan_is_current(ctx, env) and not _other_profile(ctx, env, profile):
        return
    result = plan_env(ctx, env, profile=profile, git=branch_binding(ctx, env))
    if not silent:
        out(f"(env {env} from the {rule}: planning first)")
        print_env_plan(result, ctx.root, next_step=False)
        out("")


def _other_profile(ctx: Any, env: str, profile: Path | None) -> bool:
    """`--profile` names another file than the one the env's plan recorded."""
    from seeknal.project.profiles import resolve_profile_path
    from seeknal.state.store import read_plan

    if profile is None:
        return False
    plan = read_plan(ctx.target(env))
    return plan is None or plan.profile_path != resolve_profile_path(ctx.root, env, profile)
