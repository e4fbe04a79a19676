"""Plans as the CLI shows them: production decisions, env plans rendered through the report
templates, and where a rendered report goes (stdout or --output)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seeknal.cli.console import out, status_label

if TYPE_CHECKING:
    from seeknal.state.records import Plan


def _action(decision: Any) -> str:
    return "run" if decision.run else ("unsupported" if decision.unsupported else "cached")


def decisions_json(plan_obj: Any) -> dict[str, Any]:
    return {
        "to_run": plan_obj.to_run,
        "removed": plan_obj.removed,
        "nodes": [
            {"id": d.node_id, "action": _action(d), "reason": d.reason} for d in plan_obj.decisions
        ],
    }


def print_decisions(plan_obj: Any, as_json: bool, header: str) -> None:
    """A production plan: one line per node with what happens to it and why."""
    if as_json:
        out(json.dumps(decisions_json(plan_obj), indent=2))
        return
    out(header)
    width = max((len(d.node_id) for d in plan_obj.decisions), default=10)
    label_width = 11 if any(d.unsupported for d in plan_obj.decisions) else 8
    for d in plan_obj.decisions:
        out(f"  {status_label(_action(d), label_width)} {d.node_id.ljust(width)}  {d.reason}")
    for node_id in plan_obj.removed:
        out(f"  {status_label('removed')} {node_id.ljust(width)}  no longer in the project")
    out(f"{counts_line(plan_obj, ' to run')}.")


def counts_line(plan_obj: Any, verb: str = "") -> str:
    """`N node(s), M cached` (and how many cannot execute yet, which are not cached)."""
    n, idle = len(plan_obj.to_run), sum(1 for d in plan_obj.decisions if d.unsupported)
    line = f"{n} node(s){verb}, {len(plan_obj.decisions) - n - idle} cached"
    return line + (f", {idle} not executable yet" if idle else "")


def print_env_plan(
    result: Any, rel_root: Path, template_dir: Path | None = None, next_step: bool = True
) -> None:
    """The terminal view of a fresh plan: the text template, then where it was saved."""
    text = render_plan(result.plan, result.loaded.manifest(), "text", template_dir, rel_root)
    out(text.rstrip("\n"))
    try:
        shown = result.path.relative_to(rel_root)
    except ValueError:
        shown = result.path
    out(f"Plan saved to {shown}")
    total = result.plan.total_nodes_to_execute
    if not next_step:
        return
    if total:
        out(f"Next: seeknal run --env {result.env}")
    elif result.plan.categorized_changes:
        out(f"Next: seeknal run --env {result.env} (nothing to compute), then seeknal promote")


def check_format(fmt: str | None) -> None:
    from seeknal.report.render import FORMATS

    if fmt is not None and fmt not in FORMATS:
        import typer  # a usage error: only the typer app passes --format

        raise typer.BadParameter(f"--format {fmt}: use one of {', '.join(FORMATS)}")


def render_plan(
    plan: Plan, manifest: dict[str, Any], fmt: str, template_dir: Path | None, root: Path
) -> str:
    """A plan rendered in `fmt`, with the secrets of the plan's profile and of the project file
    at `root`, and sensitive env vars, hidden."""
    from seeknal.project.placeholders import redact
    from seeknal.report.model import build_report
    from seeknal.report.render import render, secret_values, shipped_text

    secrets = secret_values(plan.profile_path, root)
    if fmt == "text" and template_dir is None:  # the shipped view draws no graph
        text = shipped_text(build_report(plan, manifest, graph=False))
        if text is not None:
            return redact(text, secrets)
    return render(build_report(plan, manifest), fmt, template_dir, secrets)


def emit(text: str, output: Path | None, what: str) -> None:
    """Write a rendered report to --output (atomically) or stdout."""
    if output is None:
        out(text.rstrip("\n"))
        return
    from seeknal.state.atomic import write_bytes

    write_bytes(output, text.encode("utf-8"))
    out(f"{what} written to {output}", err=True)
