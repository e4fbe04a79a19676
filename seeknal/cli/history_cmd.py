"""`seeknal log` (production's history) and `seeknal rollback` (undo a promotion)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from seeknal.cli.clean_cmd import _size
from seeknal.cli.console import out
from seeknal.cli.main import handled
from seeknal.cli.options import ProjectPath
from seeknal.cli.scope import context


def register(app: typer.Typer) -> None:
    app.command("log")(log)
    app.command("rollback")(rollback)


@handled
def log(
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    project_path: Path | None = ProjectPath,
) -> None:
    """List production's history, newest first (what can be rolled back)."""
    from seeknal.envs.history import production_log

    entries = production_log(context(project_path))
    if as_json:
        out(json.dumps([e.to_json() for e in entries], indent=2, sort_keys=True))
        return
    if not entries:
        out("Production has no history yet: no promotion, and no run that changed outputs.")
        return
    for entry in entries:
        _print_entry(entry.to_json())


def _print_entry(e: dict[str, Any]) -> None:
    what = {"promote": f"promote {e['env']}", "run": "run", "rollback": "rollback"}[e["kind"]]
    if e["kind"] == "rollback":
        what += f" of {', '.join(e['undoes'])} (env {e['env']})"
    out(f"{e['id']}  {e['time']}  {what}")
    details = [f"plan {e['plan_id']}"] if e["plan_id"] else []
    if e["git_commit"]:
        details.append(f"commit {e['git_commit'][:12]}")
    details.append(f"{len(e['nodes'])} node(s) changed")
    if e["removed_nodes"]:
        details.append(f"{len(e['removed_nodes'])} removed")
    out(f"    {', '.join(details)}")
    nodes = e["nodes"][:8]
    if nodes:
        more = f" (+{len(e['nodes']) - 8} more)" if len(e["nodes"]) > 8 else ""
        out(f"    {', '.join(nodes)}{more}")
    keeps = f"; keeps {_size(e['disk_bytes'])}" if e["disk_bytes"] else ""
    out(f"    rollback: {e['rollback']}{keeps}")


@handled
def rollback(
    promotion_id: str | None = typer.Argument(
        None, help="The promotion to undo ('seeknal log' lists them; default: the last one)."
    ),
    force: bool = typer.Option(
        False, "--force", help="Also undo the promotions made after it, in the same step."
    ),
    project_path: Path | None = ProjectPath,
) -> None:
    """Put production back exactly as before a promotion, atomically."""
    from seeknal.envs.rollback import rollback as do_rollback

    outcome = do_rollback(context(project_path), promotion_id, force)
    if len(outcome.undone) > 1:
        undone = ", ".join(f"{p.id} (env '{p.env}')" for p in outcome.undone)
        out(f"Undoing {len(outcome.undone)} promotions, newest first: {undone}")
    target = outcome.undone[-1]
    out(
        f"Rolled back promotion {target.id} of env '{target.env}' in "
        f"{outcome.seconds * 1000:.0f} ms: production is exactly as before it "
        f"({outcome.restored} file(s) put back)."
    )
    moved = {p.env for p in outcome.undone if p.nodes}
    for env, state in outcome.envs.items():
        if state == "usable" and env not in moved:  # a copy of a promoted env moves nothing
            out(f"Env '{env}' can be promoted again.")
        elif state == "usable":
            out(f"Env '{env}' has its outputs back and can be promoted again.")
        else:
            out(f"Env '{env}' cannot be promoted again as it was: {state}.")
    commits = [p.git_commit[:12] for p in outcome.undone if p.git_commit]
    if commits:  # promoted by a merge: the branch still holds the change
        # sync promotes an env only while it still has the outputs; else a run recomputes them
        again = (
            "'seeknal sync' promotes it again"
            if all(state == "usable" for state in outcome.envs.values())
            else "'seeknal run' computes it again in production"
        )
        out(
            f"The project files still hold the change (commit {', '.join(commits)}): revert it "
            f"in git too (git revert -m 1 {commits[0]} for a merge), or {again}."
        )
