"""The work of `seeknal plan` once its arguments are parsed, without typer: `cli/quick.py`
answers `seeknal plan` and `seeknal plan ENV` (no options) with it before the CLI framework is
imported, and the typer command (`cli/plan_cmd.py`) with every option."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from seeknal.cli.console import out, warn
from seeknal.cli.plan_view import check_format, emit, print_decisions, print_env_plan, render_plan
from seeknal.cli.progress import print_warnings
from seeknal.cli.scope import active_env, branch_binding, context


def plan_plain(env: str | None) -> None:
    """`seeknal plan [ENV]` with no option: what the typer command does with its defaults."""
    plan_chosen(active_env(None, env), None, None)


def plan_chosen(
    chosen: Any,
    project_path: Path | None,
    params: str | None,
    full: bool = False,
    chosen_nodes: tuple[Any, Any, Any] = (None, None, None),
    env_options: tuple[Any, Any, Any] = (None, None, None),
    as_json: bool = False,
    report: tuple[str | None, Path | None, Path | None] = (None, None, None),
) -> None:
    """Plan the env chosen (`env_options`: --breaking, --non-breaking, --profile), else
    production (`chosen_nodes`: --nodes, --select, --exclude); `report`: --format, --output,
    --template-dir."""
    with collector_paused():
        _plan_chosen(chosen, project_path, params, full, chosen_nodes, env_options, as_json, report)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector off for the block. A plan builds its project, manifests and
    run state (hundreds of thousands of objects at 10,000 nodes) and keeps nearly all of them
    to the end: the collector's passes over them cost ~15% of the plan and free nothing."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            # what the block built goes to the oldest generation unexamined; otherwise the first
            # collection after `enable` scans every object allocated meanwhile (27 ms at 10,000
            # nodes) to free nothing
            gc.freeze()
            gc.unfreeze()
            gc.enable()


def _plan_chosen(
    chosen: Any,
    project_path: Path | None,
    params: str | None,
    full: bool,
    chosen_nodes: tuple[Any, Any, Any],
    env_options: tuple[Any, Any, Any],
    as_json: bool,
    report: tuple[str | None, Path | None, Path | None],
) -> None:
    fmt, output, template_dir = report
    if chosen.env is not None:
        if chosen.implicit and not as_json:
            out(f"(env {chosen.env}: {chosen.rule} {chosen.branch or ''})".replace(" )", ")"))
        breaking, non_breaking, profile = env_options
        plan_env_command(
            chosen.env,
            breaking,
            non_breaking,
            profile,
            as_json,
            project_path,
            params,
            fmt,
            output,
            template_dir,
        )
        return
    ctx = context(project_path, params)
    if fmt is not None or output is not None:
        check_format(fmt)
        production_report_command(ctx, full, chosen_nodes, fmt or "text", output, template_dir)
        ctx.save_cache()
        return
    _production_plan(ctx, full, chosen_nodes, as_json)


def _production_plan(ctx: Any, full: bool, chosen: tuple[Any, Any, Any], as_json: bool) -> None:
    from seeknal.planning.select import SelectArgs

    picked = SelectArgs.of(*chosen)
    show_production_plan(ctx, full, picked, as_json, "Production plan:")
    ctx.save_cache()


def show_production_plan(ctx: Any, full: bool, nodes: Any, as_json: bool, header: str) -> None:
    """What a production run would do (`plan`, `run --dry-run`, also with -q); writes nothing."""
    from seeknal.runner.production import plan_production

    plan_obj = plan_production(ctx, full, nodes or ())
    print_warnings(plan_obj.loaded.project, as_json)
    print_decisions(plan_obj, as_json, header=header)


def production_report_command(
    ctx: Any,
    full: bool,
    chosen: tuple[Any, Any, Any],
    fmt: str,
    output: Path | None,
    template_dir: Path | None,
) -> None:
    """A production plan rendered by the report templates (`plan --format` on production)."""
    from seeknal.planning.select import SelectArgs
    from seeknal.report.production import NodeAction, build_production_report
    from seeknal.report.render import render, secret_values
    from seeknal.runner.production import plan_production
    from seeknal.state.store import read_manifest

    plan_obj = plan_production(ctx, full, SelectArgs.of(*chosen))
    print_warnings(plan_obj.loaded.project, False)
    previous = read_manifest(ctx.production)
    actions = [
        NodeAction(
            d.node_id, "run" if d.run else "unsupported" if d.unsupported else "cached", d.reason
        )
        for d in plan_obj.decisions
    ]
    report = build_production_report(
        actions,
        plan_obj.removed,
        plan_obj.loaded.manifest(),
        previous.nodes if previous else None,
        previous.fingerprint if previous else None,
    )
    text = render(report, fmt, template_dir, secret_values(root=ctx.root))
    emit(text, output, f"{fmt} report")


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
        out(json.dumps(result.plan.to_json(), indent=2, sort_keys=True))
        return
    for text in result.loaded.project.warnings:
        warn(text)
    if fmt is None:
        print_env_plan(result, ctx.root, template_dir)
        return
    text = render_plan(result.plan, result.loaded.manifest(), fmt, template_dir, ctx.root)
    emit(text, output, f"{fmt} report")
