"""What a promoted env changed in production, read back from the promotion's kept history.

Once an env is promoted its outputs are production's, so comparing the env with production says
nothing. The promotion kept what it replaced (target/history/<id>/, for rollback): production
before the promotion is those kept files, and production after it is production now, as long as
nothing changed production since. Reports use this to show what they showed at promote time,
or to say plainly why that is no longer possible.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from seeknal.context import Context
from seeknal.envs.resolve import EnvView
from seeknal.state import atomic
from seeknal.state.history import promotions
from seeknal.state.kept import Kept, read_kept, signature
from seeknal.state.records import EnvConfig, Manifest, Promotion, RunState
from seeknal.state.store import read_run_state
from seeknal.types import Output

Record = TypeVar("Record", RunState, Manifest)


@dataclass(frozen=True)
class Promoted:
    """One promotion of an env: when, its id, and both sides of production around it (None,
    with `unavailable` saying why, when they can no longer be read)."""

    env: str
    promotion_id: str | None
    time: str | None
    unavailable: str | None = None
    before: EnvView | None = None  # production's outputs just before the promotion
    before_state: RunState | None = None
    before_manifest: Manifest | None = None
    after: EnvView | None = None  # production's outputs now: the env's, promoted
    after_state: RunState | None = None


def promoted(ctx: Context, env: str, config: EnvConfig) -> Promoted:
    """The promotion of `env`'s promoted plan, with both sides when production still holds
    exactly what that promotion left."""
    lines = promotions(ctx.production.base)
    line = _line(lines, env, config.promoted_plan_id)
    if line is None:
        why = "the promotion is not in production's history (target/promotions.jsonl)"
        return Promoted(env, None, config.promoted_at, why)
    base = Promoted(env, line.id, line.time)
    entry = read_kept(ctx.production.base, line.id)
    if entry is None or entry.missing(ctx.root):
        why = (
            f"production's outputs from before promotion {line.id} are no longer kept "
            "(history: in seeknal_project.yml)"
        )
        return _unavailable(base, why)
    now = signature(ctx.production.run_state_path, like=entry.after)
    if now != entry.after:
        later = [x for x in lines[lines.index(line) + 1 :] if x.kind in ("promote", "run")]
        what = f"{later[-1].kind} {later[-1].id}" if later else "a production run"
        return _unavailable(base, f"production changed since the promotion ({what})")
    return _sides(ctx, base, entry)


def _line(lines: list[Promotion], env: str, plan_id: str | None) -> Promotion | None:
    for line in reversed(lines):
        if line.kind == "promote" and line.env == env and line.plan_id == plan_id:
            return line
    return None


def _unavailable(base: Promoted, why: str) -> Promoted:
    return Promoted(base.env, base.promotion_id, base.time, why)


def _sides(ctx: Context, base: Promoted, entry: Kept) -> Promoted:
    prod, root = ctx.production, ctx.root
    before_state = _kept_record(root, entry, prod.run_state_path, RunState) or RunState()
    before_manifest = _kept_record(root, entry, prod.manifest_path, Manifest) or Manifest()
    replaced = {root / op.dst: op.kept for op in entry.ops}
    own: dict[str, Output] = {}
    for node_id, node in before_state.nodes.items():
        if not node.output_path:
            continue
        path = prod.absolute(node.output_path)
        kept = replaced.get(path, "") if path in replaced else None
        if kept is None:  # not replaced by this promotion: still production's file
            own[node_id] = Output.file(path)
        elif kept:
            own[node_id] = Output.file(root / kept)
    after_state = read_run_state(prod)
    after = {
        n: Output.file(prod.absolute(e.output_path))
        for n, e in after_state.nodes.items()
        if e.output_path
    }
    return Promoted(
        base.env,
        base.promotion_id,
        base.time,
        before=EnvView(None, prod, own),
        before_state=before_state,
        before_manifest=before_manifest,
        after=EnvView(base.env, prod, after),
        after_state=after_state,
    )


def _kept_record(root: Path, entry: Kept, name: Path, record: type[Record]) -> Record | None:
    kept = entry.kept_file(root, name)
    if kept is None:
        return None
    hint = f"Move {entry.folder} aside; the report then says the data changes are unavailable."
    data = atomic.read_json(kept, record.WHAT, hint)
    return None if data is None else record.from_json(data, kept, hint)
