"""`seeknal run` and `seeknal plan` (production)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import typer

from seeknal.cli.console import out, status_label, styled, warn
from seeknal.cli.main import handled

ProjectPath = typer.Option(
    None, "--project-path", "-p", help="Project folder (default: found from the current one)."
)
Params = typer.Option(None, "--params", help='JSON object of {{ }} values, e.g. \'{"k": "v"}\'.')
Nodes = typer.Option(
    None, "--nodes", "-n", help="Run only these nodes (ids or names) and their downstream."
)


def register(app: typer.Typer) -> None:
    app.command("run")(run)
    app.command("plan")(plan)


def _context(project_path: Path | None, params: str | None) -> Any:
    from seeknal.cli.env_cmd import context

    return context(project_path, params)


def active_env(project_path: Path | None, explicit: str | None) -> Any:
    """The env this command works on: --env > SEEKNAL_ENV > checkout > branch > production."""
    from seeknal.git.active import ActiveEnv, resolve
    from seeknal.git.hook_support import settings_of
    from seeknal.project.files import PROJECT_FILE, find_root

    if explicit is not None:  # named: no need to read git or the project's settings
        from seeknal.envs.names import validate_env_name

        return ActiveEnv(validate_env_name(explicit), "--env")
    if project_path is not None and (project_path / PROJECT_FILE).is_file():
        root = project_path.resolve()
    elif project_path is not None:
        from seeknal.context import Context

        root = Context(project_path).root  # raises the usual "not a project" error
    else:
        root = find_root(Path.cwd())
    return resolve(root, settings_of(root), explicit)


class node_printer:  # noqa: N801 - used like a function
    """Prints each node as it finishes: status, id, rows, seconds, then errors and warnings."""

    def __init__(self, silent: bool) -> None:
        self.silent = silent
        self.width = 10

    def __call__(self, result: Any) -> None:
        if self.silent:
            return
        rows = (
            ""
            if result.row_count is None
            else f"{result.row_count:>9,} row{'' if result.row_count == 1 else 's'}"
        )
        secs = f"{result.duration_ms / 1000:6.2f}s"
        label = status_label(result.status.value)
        out(f"  {label} {result.node_id.ljust(self.width)} {rows} {secs}")
        for text in result.warnings:
            warn(f"{result.node_id}: {text}")
        if result.error:
            out(f"      {styled(result.error, typer.colors.RED)}")
            if result.hint:
                out(f"      next: {result.hint}")


def _warnings(project: Any, quiet: bool) -> None:
    if not quiet:
        for text in project.warnings:
            warn(text)


@handled
def run(
    full: bool = typer.Option(False, "--full", help="Run every node, changed or not."),
    nodes: list[str] | None = Nodes,
    dry_run: bool = typer.Option(False, "--dry-run", help="Print what would run; write nothing."),
    parallel: bool = typer.Option(False, "--parallel", help="Run independent nodes at once."),
    max_workers: int = typer.Option(4, "--max-workers", min=1, help="Workers for --parallel."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only the summary and errors."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON summary to stdout."),
    env: str | None = typer.Option(
        None, "--env", "-e", help="Apply this environment's plan instead of running production."
    ),
    force: bool = typer.Option(False, "--force", help="With --env: apply even a stale plan."),
    project_path: Path | None = ProjectPath,
    params: str | None = Params,
) -> None:
    """Execute the project in production: new and changed nodes and their downstream.

    With --env ENV, execute that environment's plan instead (only what changed).
    """
    from seeknal.runner.production import plan_production, run_production

    chosen = active_env(project_path, env)
    if chosen.env is not None:
        from seeknal.cli.env_cmd import apply_env_command

        if full or nodes or dry_run or params:
            raise typer.BadParameter(
                f"--full, --nodes, --dry-run and --params are for production runs; the active "
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
        )
        return
    if force:
        raise typer.BadParameter("--force only goes with --env")
    if chosen.rule == "detached HEAD" and not dry_run:
        from seeknal.errors import SeeknalError

        raise SeeknalError(
            "HEAD is detached and not known to be production: a run here would write code that "
            "may not be on the production branch into production.",
            "Check out the production branch (git checkout main), or name an env: "
            "seeknal run --env NAME (SEEKNAL_ENV=prod forces production).",
        )
    ctx = _context(project_path, params)
    if dry_run:
        plan_obj = plan_production(ctx, full, nodes or ())
        _warnings(plan_obj.loaded.project, quiet or as_json)
        _print_decisions(plan_obj, as_json, header="Dry run (nothing is written):")
        return
    started = time.perf_counter()
    on_done = node_printer(quiet or as_json)

    def on_plan(plan_obj: Any) -> None:
        _warnings(plan_obj.loaded.project, quiet or as_json)
        on_done.width = max((len(n) for n in plan_obj.to_run), default=10)
        if not quiet and not as_json:
            cached = len(plan_obj.decisions) - len(plan_obj.to_run)
            out(f"Running {len(plan_obj.to_run)} node(s), {cached} cached")

    outcome = run_production(
        ctx,
        full,
        nodes or (),
        parallel,
        max_workers,
        on_done,
        on_plan,
        command="seeknal run",
    )
    elapsed = time.perf_counter() - started
    counts = {s: 0 for s in ("success", "failed", "skipped", "cached")}
    for res in outcome.results.values():
        counts[res.status.value] += 1
    unsupported = [d.node_id for d in outcome.plan.decisions if d.unsupported]
    counts["unsupported"] = len(unsupported)
    counts["cached"] = len(outcome.plan.decisions) - len(outcome.plan.to_run) - len(unsupported)
    if as_json:
        out(json.dumps(_run_json(outcome, counts, elapsed), indent=2, sort_keys=True))
    else:
        for rel in outcome.removed_outputs:
            out(f"Removed output of deleted node: {rel}")
        summary = (
            f"Done in {elapsed:.2f}s: {counts['success']} succeeded, {counts['cached']} cached, "
            f"{counts['failed']} failed, {counts['skipped']} skipped"
        )
        if not outcome.plan.to_run:
            summary = f"Nothing to do: all {counts['cached']} nodes are up to date."
        if unsupported:
            summary = summary.rstrip(".") + (
                f"; {len(unsupported)} not executable yet ({', '.join(unsupported[:3])}"
                + (", ..." if len(unsupported) > 3 else "")
                + ")"
            )
            if not outcome.plan.to_run:
                summary = (
                    f"Nothing to do: {counts['cached']} nodes up to date"
                    + summary[summary.index(";") :]
                )
        out(styled(summary, typer.colors.RED if counts["failed"] else None, bold=True))
    if outcome.failed:
        if not as_json:
            first = outcome.failed[0]
            if quiet:  # the progress lines were not shown: give the errors here
                for failed in outcome.failed:
                    out(f"{failed.node_id}: {failed.error}", err=True)
                    if failed.hint:
                        out(f"  next: {failed.hint}", err=True)
            out(f"{len(outcome.failed)} node(s) failed; first: {first.node_id}", err=True)
        raise typer.Exit(1)


def _run_json(outcome: Any, counts: dict[str, int], elapsed: float) -> dict[str, Any]:
    nodes = []
    for decision in outcome.plan.decisions:
        res = outcome.results.get(decision.node_id)
        item: dict[str, Any] = {"id": decision.node_id, "reason": decision.reason}
        if res is None:
            item["status"] = "unsupported" if decision.unsupported else "cached"
        else:
            item.update(
                status=res.status.value,
                rows=res.row_count,
                duration_ms=res.duration_ms,
                error=res.error,
                warnings=res.warnings,
            )
        nodes.append(item)
    return {
        "run_id": outcome.run_id,
        "seconds": round(elapsed, 3),
        "counts": counts,
        "ok": not outcome.failed,
        "nodes": nodes,
        "removed_outputs": outcome.removed_outputs,
        "warnings": list(outcome.plan.loaded.project.warnings),
    }


def _print_decisions(plan_obj: Any, as_json: bool, header: str) -> None:
    if as_json:
        out(
            json.dumps(
                {
                    "to_run": plan_obj.to_run,
                    "removed": plan_obj.removed,
                    "nodes": [
                        {
                            "id": d.node_id,
                            "action": "run"
                            if d.run
                            else ("unsupported" if d.unsupported else "cached"),
                            "reason": d.reason,
                        }
                        for d in plan_obj.decisions
                    ],
                },
                indent=2,
            )
        )
        return
    out(header)
    width = max((len(d.node_id) for d in plan_obj.decisions), default=10)
    label_width = 11 if any(d.unsupported for d in plan_obj.decisions) else 8
    for d in plan_obj.decisions:
        action = "run" if d.run else ("unsupported" if d.unsupported else "cached")
        out(f"  {status_label(action, label_width)} {d.node_id.ljust(width)}  {d.reason}")
    for node_id in plan_obj.removed:
        out(f"  {status_label('removed')} {node_id.ljust(width)}  no longer in the project")
    n = len(plan_obj.to_run)
    out(f"{n} node(s) to run, {len(plan_obj.decisions) - n} cached.")


@handled
def plan(
    env: str | None = typer.Argument(None, help="Environment to plan (omit for production)."),
    full: bool = typer.Option(False, "--full", help="Plan a run of every node."),
    nodes: list[str] | None = typer.Option(
        None, "--nodes", "-n", help="Plan only these nodes (ids or names) and their downstream."
    ),
    breaking: list[str] | None = typer.Option(
        None, "--breaking", help="With ENV: treat this changed node as breaking."
    ),
    non_breaking: list[str] | None = typer.Option(
        None, "--non-breaking", help="With ENV: treat this changed node as non-breaking."
    ),
    profile: Path | None = typer.Option(None, "--profile", help="With ENV: profiles file."),
    base: str | None = typer.Option(
        None, "--base", help="Plan the changes since this git revision (from git objects)."
    ),
    head: str | None = typer.Option(None, "--head", help="With --base: the revision to plan."),
    fmt: str | None = typer.Option(
        None, "--format", "-f", help="Report format: text, markdown, html or json."
    ),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the report here."),
    template_dir: Path | None = typer.Option(
        None, "--template-dir", help="Folder whose plan.*.j2 files override the shipped ones."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the plan as JSON."),
    project_path: Path | None = ProjectPath,
    params: str | None = Params,
) -> None:
    """Show what would run and why.

    With ENV (or on a branch bound to an env), plan that environment against production.
    With --base REV [--head REV], plan the changes between two git revisions.
    """
    from seeknal.runner.production import plan_production

    if base is not None:
        from seeknal.cli.env_cmd import plan_revisions_command

        plan_revisions_command(
            base, head, env, as_json, project_path, params, fmt, output, template_dir
        )
        return
    if head is not None:
        raise typer.BadParameter("--head goes with --base")
    chosen = active_env(project_path, env)
    if chosen.env is None and (breaking or non_breaking or profile):
        raise typer.BadParameter(
            "--breaking, --non-breaking and --profile go with an environment: seeknal plan dev ..."
        )
    if chosen.env is not None and (full or nodes):
        raise typer.BadParameter(
            f"--full and --nodes plan production runs; the active env is {chosen.env} "
            f"({chosen.rule}). An env plan always covers the whole change."
        )
    if chosen.env is not None:
        from seeknal.cli.env_cmd import plan_env_command

        if chosen.implicit and not as_json:
            out(f"(env {chosen.env}: {chosen.rule} {chosen.branch or ''})".replace(" )", ")"))
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
    if fmt is not None or output is not None:
        raise typer.BadParameter(
            "--format/--output render environment plans: name an env (seeknal plan dev) "
            "or use --base"
        )

    ctx = _context(project_path, params)
    plan_obj = plan_production(ctx, full, nodes or ())
    _warnings(plan_obj.loaded.project, as_json)
    _print_decisions(plan_obj, as_json, header="Production plan:")
    ctx.save_cache()
