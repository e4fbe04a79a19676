"""`seeknal log`: production's history, newest first, and the receipts written into git."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from seeknal.context import Context
from seeknal.envs.rollback import active_promotions, changed_since
from seeknal.state.history import promotions
from seeknal.state.kept import disk_bytes, history_dir, read_kept
from seeknal.state.records import Promotion
from seeknal.state.store import read_run_state


@dataclass(frozen=True)
class LogEntry:
    line: Promotion
    rollback: str  # "yes", "with --force", or why not
    disk_bytes: int  # what its kept files hold on disk

    @property
    def can_roll_back(self) -> bool:
        return self.rollback in ("yes", "with --force")

    def to_json(self) -> dict[str, Any]:
        p = self.line
        return {
            "id": p.id,
            "kind": p.kind,
            "time": p.time,
            "env": p.env,
            "plan_id": p.plan_id,
            "git_commit": p.git_commit,
            "mode": p.mode,
            "nodes": list(p.nodes),
            "removed_nodes": list(p.removed_nodes),
            "undoes": list(p.undoes),
            "can_roll_back": self.can_roll_back,
            "rollback": self.rollback,
            "disk_bytes": self.disk_bytes,
        }


def production_log(ctx: Context) -> list[LogEntry]:
    """Every promotion, rollback and output-changing production run, newest first."""
    base = ctx.production.base
    lines = promotions(base)
    active = active_promotions(lines)
    undone_by = {i: line.id for line in lines if line.kind == "rollback" for i in line.undoes}
    entries = []
    for index, line in enumerate(lines):
        folder = history_dir(base) / line.id
        size = disk_bytes(folder) if line.kind == "promote" and folder.is_dir() else 0
        entries.append(LogEntry(line, _rollback(ctx, lines, index, active, undone_by), size))
    return list(reversed(entries))


def _rollback(
    ctx: Context,
    lines: list[Promotion],
    index: int,
    active: list[Promotion],
    undone_by: dict[str, str],
) -> str:
    line = lines[index]
    if line.kind == "run":
        return "no: a production run replaces outputs in place"
    if line.kind == "rollback":
        return "no: a rollback is not undone (promote the env again)"
    if line.id in undone_by:
        return f"no: rolled back by {undone_by[line.id]}"
    undo = list(reversed(active[active.index(line) :]))  # as `seeknal rollback` undoes them
    kept = [read_kept(ctx.production.base, p.id) for p in undo]
    if kept[-1] is None or kept[-1].missing(ctx.root):
        return "no: its replaced outputs were pruned"
    for p, e in zip(undo, kept, strict=True):
        if e is None or e.missing(ctx.root):
            return f"no: later promotion {p.id} can no longer be rolled back (pruned)"
    why = changed_since(ctx.root, ctx.production, lines, undo, [e for e in kept if e])
    if why is not None:
        return f"no: {why}"
    return "yes" if len(undo) == 1 else "with --force"


def receipt(ctx: Context, line: Promotion) -> str:
    """A git note's text: how production was built from the commit it is attached to."""
    state = read_run_state(ctx.production)
    verb = {"promote": "promoted env", "run": "ran in production"}.get(line.kind, line.kind)
    head = (
        f"seeknal: production {verb} {line.env}" if line.kind == "promote" else f"seeknal: {verb}"
    )
    rows = [
        head,
        f"id: {line.id}",
        f"time: {line.time}",
        f"env: {line.env}",
        f"plan: {line.plan_id or '-'}",
        f"manifest: {line.manifest_fingerprint or '-'}",
        f"nodes: {len(line.nodes)}",
    ]
    for node in line.nodes:
        entry = state.nodes.get(node)
        digest = entry.output_digest if entry and entry.output_digest else "-"
        rows.append(f"  {node} {digest}")
    for node in line.removed_nodes:
        rows.append(f"  {node} removed")
    return "\n".join(rows) + "\n"


def write_receipt(ctx: Context, line: Promotion) -> str | None:
    """Attach the receipt to the line's commit under refs/notes/seeknal; a problem is returned
    as a warning, never raised (a merge never fails because of seeknal)."""
    if not line.git_commit:
        return None
    from seeknal.errors import SeeknalError
    from seeknal.git.repo import NOTES_REF, GitRepo

    try:
        GitRepo(ctx.root).add_note(line.git_commit, receipt(ctx, line), NOTES_REF)
    except SeeknalError as exc:
        return f"no receipt written to git ({exc.message})"
    return None
