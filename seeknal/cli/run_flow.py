"""The work of `seeknal run` once its arguments are parsed, without typer: the typer command
(`cli/run_cmd.py`, every option), `seeknal env apply` (`cli/env_cmd.py`) and the answer given
before the CLI framework is imported (`cli/quick.py`, a few flags) share it. Functions return the
exit code (0, or 1 when a node failed) instead of raising the framework's exit."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seeknal.cli.console import out
from seeknal.cli.live import RunWatch, on_terminal
from seeknal.cli.plan_flow import show_production_plan
from seeknal.cli.plan_view import counts_line, print_env_plan
from seeknal.cli.progress import node_printer, print_warnings
from seeknal.cli.run_summary import print_apply_outcome, print_production_outcome
from seeknal.cli.scope import branch_binding, context


@dataclass(frozen=True)
class RunRequest:
    """The options of `seeknal run` (what the typer command parsed, or cli/quick.py)."""

    full: bool = False
    picked: Any = None  # SelectArgs: --nodes, --select, --exclude
    dry_run: bool = False
    parallel: bool = False
    max_workers: int | None = None  # given alone, it asks for --parallel too (`workers`)
    quiet: bool = False
    as_json: bool = False
    force: bool = False
    project_path: Path | None = None
    params: str | None = None
    profile: Path | None = None
    engine: str | None = None


def usage_problem(chosen: Any, request: RunRequest) -> str | None:
    """What is wrong with the options for the active env `chosen` (the typer command shows it as
    a usage error), or None."""
    if chosen.env is not None:
        if request.full or request.dry_run or request.params:
            return (
                f"--full, --dry-run and --params are for production runs; the active "
                f"env is {chosen.env} ({chosen.rule})"
            )
        return None
    if request.force:
        return "--force only goes with --env"
    return None


def run_chosen(chosen: Any, request: RunRequest) -> int:
    """Run the env `chosen` (its plan, planned first when it is the implicit env and its plan
    is missing or stale), else production; the exit code. Assumes `usage_problem` said None."""
    r = request
    if chosen.env is not None:
        return apply_env_command(
            chosen.env,
            r.force,
            r.parallel,
            r.max_workers,
            r.quiet,
            r.as_json,
            r.project_path,
            auto_plan=chosen.implicit,
            rule=chosen.rule,
            profile=r.profile,
            selection=r.picked,
            engine=r.engine,
        )
    if chosen.rule == "detached HEAD" and not r.dry_run:
        refuse_detached()
    ctx = context(r.project_path, r.params)
    ctx.engine_choice = r.engine
    if r.dry_run:
        show_production_plan(ctx, r.full, r.picked, r.as_json, "Dry run (nothing is written):")
        return 0
    return run_production_command(
        ctx, r.full, r.picked, r.parallel, r.max_workers, r.quiet, r.as_json, r.profile
    )


def refuse_detached() -> None:
    from seeknal.errors import SeeknalError

    raise SeeknalError(
        "HEAD is detached and not known to be production: a run here would write code that "
        "may not be on the production branch into production.",
        "Check out the production branch (git checkout main), or name an env: "
        "seeknal run --env NAME (SEEKNAL_ENV=prod forces production).",
    )


def workers(parallel: bool, max_workers: int | None) -> tuple[bool, int]:
    """(run in parallel, how many nodes at once): whoever gives a number of workers wants
    them, so --max-workers N alone (N > 1) means --parallel too; --parallel alone uses 4."""
    return parallel or (max_workers or 1) > 1, max_workers or 4


def run_production_command(
    ctx: Any,
    full: bool,
    nodes: Any,
    parallel: bool,
    max_workers: int | None,
    quiet: bool,
    as_json: bool,
    profile: Path | None = None,
) -> int:
    from seeknal.runner.production import run_production

    started = time.perf_counter()
    on_done = node_printer(quiet or as_json, warnings=not as_json)
    watch = RunWatch(on_done, not (quiet or as_json), on_terminal())

    def on_plan(plan_obj: Any) -> None:
        print_warnings(plan_obj.loaded.project, as_json)
        on_done.width = max((len(n) for n in plan_obj.to_run), default=10)
        if not quiet and not as_json:
            out(f"Running {counts_line(plan_obj)}")
        watch.begin(len(plan_obj.to_run))

    with watch.watching():
        outcome = run_production(
            ctx,
            full,
            nodes,
            *workers(parallel, max_workers),
            watch.finished,
            on_plan,
            command="seeknal run",
            profile=profile,
            on_node_start=watch.started,
        )
    print_production_outcome(outcome, time.perf_counter() - started, quiet, as_json)
    return 1 if outcome.failed else 0


def apply_env_command(
    env: str,
    force: bool,
    parallel: bool,
    max_workers: int | None,
    quiet: bool,
    as_json: bool,
    project_path: Path | None,
    auto_plan: bool = False,
    rule: str = "--env",
    profile: Path | None = None,
    selection: Any = None,
    engine: str | None = None,
) -> int:
    from seeknal.envs.apply import apply_env

    ctx = context(project_path)
    ctx.engine_choice = engine
    started = time.perf_counter()
    if auto_plan:
        _plan_if_stale(ctx, env, rule, (quiet, as_json), profile)
    printer = node_printer(quiet or as_json, warnings=not as_json)
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
            *workers(parallel, max_workers),
            watch.finished,
            on_start,
            profile,
            selection,
            on_node_start=watch.started,
        )
    print_apply_outcome(env, outcome, time.perf_counter() - started, quiet, as_json)
    return 1 if outcome.failed else 0


def _plan_if_stale(
    ctx: Any, env: str, rule: str, quiet_json: tuple[bool, bool], profile: Path | None = None
) -> None:
    """`seeknal run` on a branch plans its env first when the saved plan is missing or stale,
    saying so and what the plan found (its warnings also with -q), as `seeknal plan` would."""
    from seeknal.envs.access import plan_is_current
    from seeknal.envs.plan import plan_env

    if plan_is_current(ctx, env) and not _other_profile(ctx, env, profile):
        return
    result = plan_env(ctx, env, profile=profile, git=branch_binding(ctx, env))
    quiet, as_json = quiet_json
    if not as_json:
        print_warnings(result.loaded.project, False)
    if not (quiet or as_json):
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
