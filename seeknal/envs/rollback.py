"""`seeknal rollback`: production exactly as it was before a promotion, in one journalled step.

The files a promotion replaced are kept under target/history/<id>/ (state/kept.py). Rolling
back renames them into place again and renames the promoted outputs back into the env they came
from, through the same journal as promote: a kill at any step leaves production either as it
was or rolled back, and the next command finishes or undoes it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from seeknal.context import Context, utc_now
from seeknal.envs.access import locked
from seeknal.errors import EnvError
from seeknal.state import journal
from seeknal.state.history import finish_rollback, promotions
from seeknal.state.kept import SIGNATURE_V3, Kept, read_kept, signature
from seeknal.state.layout import Target
from seeknal.state.records import Promotion
from seeknal.state.store import read_env_config, read_plan, read_run_state


@dataclass(frozen=True)
class RollbackOutcome:
    id: str  # the rollback's own id (a line of promotions.jsonl)
    undone: tuple[Promotion, ...]  # newest first
    restored: int  # files put back into production
    envs: dict[str, str]  # env → "usable" or why it cannot be promoted again
    seconds: float


def active_promotions(lines: list[Promotion]) -> list[Promotion]:
    """Promotions no rollback undid, oldest first."""
    undone = {i for line in lines if line.kind == "rollback" for i in line.undoes}
    return [p for p in lines if p.kind == "promote" and p.id not in undone]


def rollback(ctx: Context, promotion_id: str | None = None, force: bool = False) -> RollbackOutcome:
    """Undo a promotion (Ctrl-C while it checks production changes nothing either)."""
    before = journal.committed()
    try:
        return _rollback(ctx, promotion_id, force)
    except KeyboardInterrupt:
        command = "seeknal rollback" + (f" {promotion_id}" if promotion_id else "")
        raise journal.interrupted_since(before, "rollback", command) from None


def _rollback(ctx: Context, promotion_id: str | None, force: bool) -> RollbackOutcome:
    started = time.perf_counter()
    prod = ctx.production
    # Ctrl-C: undone before the commit point, finished after it (state/journal.py)
    with locked(ctx, "seeknal rollback" + (f" {promotion_id}" if promotion_id else "")):
        lines = promotions(prod.base)
        undo = _to_undo(lines, promotion_id, force)
        kept = [_kept(prod.base, ctx.root, p) for p in undo]
        _check_unchanged(ctx.root, prod, lines, undo, kept)
        command = "seeknal rollback" + (f" {promotion_id}" if promotion_id else "")
        command += " --force" if force else ""
        with journal.Transaction(prod.base, ctx.root, "rollback", command=command) as txn:
            envs: dict[str, str] = {}
            usable: dict[str, str] = {}
            for promotion, entry in zip(undo, kept, strict=True):
                why = _env_blocked(ctx.root, promotion)
                envs[promotion.env] = why or "usable"
                if why is None:
                    usable[promotion.env] = str(promotion.plan_id)
                _stage(txn, ctx.root, entry, give_back=why is None and promotion.mode == "move")
            line = Promotion(
                id=txn.id,
                env=undo[-1].env,
                plan_id=undo[-1].plan_id,
                time=utc_now(),
                mode="move",
                nodes=tuple(sorted({n for p in undo for n in p.nodes})),
                removed_nodes=tuple(sorted({n for p in undo for n in p.removed_nodes})),
                manifest_fingerprint=_fingerprint_before(ctx.root, prod, kept[-1]),
                kind="rollback",
                undoes=tuple(p.id for p in undo),
            )
            txn.details = {"env": undo[-1].env, "rollback": line.to_json(), "envs": usable}
            txn.commit(lambda j: finish_rollback(ctx.root, j))
    restored = sum(1 for entry in kept for op in entry.ops if op.kept)
    return RollbackOutcome(txn.id, tuple(undo), restored, envs, time.perf_counter() - started)


def _to_undo(lines: list[Promotion], promotion_id: str | None, force: bool) -> list[Promotion]:
    """The promotions to undo, newest first: the one asked for and, with --force, later ones."""
    active = active_promotions(lines)
    if not active:
        raise EnvError(
            "There is no promotion to roll back.",
            "'seeknal log' lists production's history.",
        )
    if promotion_id is None:
        return [active[-1]]
    if not promotion_id.strip():  # a prefix of every id: never "all of them"
        raise EnvError(
            "The promotion id is empty.",
            "Give an id 'seeknal log' lists, or leave it out to roll back the last promotion.",
        )
    matches = [p for p in active if p.id.startswith(promotion_id)]
    if len(matches) != 1:
        gone = any(p.id.startswith(promotion_id) for p in lines if p.kind == "promote")
        raise EnvError(
            f"Promotion '{promotion_id}' "
            + ("was already rolled back." if gone else "is not in production's history."),
            "'seeknal log' lists the promotions that can be rolled back.",
        )
    index = active.index(matches[0])
    later = active[index + 1 :]
    if later and not force:
        names = ", ".join(f"{p.id} (env '{p.env}')" for p in reversed(later))
        raise EnvError(
            f"Promotion {matches[0].id} cannot be rolled back alone: {len(later)} later "
            f"promotion(s) changed production since: {names}.",
            f"Roll those back first, or run 'seeknal rollback {matches[0].id} --force' to undo "
            "them all in one step.",
        )
    return list(reversed(active[index:]))


def _kept(base: Path, root: Path, promotion: Promotion) -> Kept:
    entry = read_kept(base, promotion.id)
    if entry is None or entry.missing(root):
        raise EnvError(
            f"Promotion {promotion.id} (env '{promotion.env}') can no longer be rolled back: "
            "the outputs it replaced are no longer kept.",
            "History is kept for the promotions 'history:' in seeknal_project.yml allows "
            "('seeknal log' shows which ones); recompute instead (seeknal run --full).",
        )
    return entry


def _check_unchanged(
    root: Path, prod: Target, lines: list[Promotion], undo: list[Promotion], kept: list[Kept]
) -> None:
    why = changed_since(root, prod, lines, undo, kept)
    if why is not None:
        raise EnvError(
            f"Production changed after promotion {undo[-1].id}: {why}, and the outputs it "
            "replaced were not kept, so the state before the promotion cannot be put back "
            "exactly.",
            "Promote a fixed env instead, or run 'seeknal run' after reverting the change "
            "in the project.",
        )


def changed_since(
    root: Path, prod: Target, lines: list[Promotion], undo: list[Promotion], kept: list[Kept]
) -> str | None:
    """Why production's outputs are no longer what the promotions in `undo` (newest first)
    left, None when they are: the one rule `seeknal rollback` and `seeknal log` share.

    Only outputs count (each node's output path and digest, see state/kept.py `signature`):
    a production run that wrote and deleted nothing (its new nodes failed, or it forgot nodes
    that had no output) changed nothing a rollback puts back, so it does not block one."""
    for newer, entry in zip([None, *kept], kept, strict=False):
        expected = entry.after
        if newer is None:
            actual = signature(prod.run_state_path, like=expected)
        else:
            actual = _before(root, prod, newer, like=expected)
        if actual != expected:
            first = lines.index(undo[-1])
            runs = [line for line in lines[first:] if line.kind == "run"]
            if runs:
                return f"production run {runs[-1].id} changed outputs since"
            if not expected.startswith(SIGNATURE_V3):  # kept by an earlier seeknal
                return "a production run since changed production's run state"
            return "a production run since wrote or deleted outputs"
    return None


def _before(root: Path, prod: Target, entry: Kept, like: str) -> str:
    kept = entry.kept_file(root, prod.run_state_path)
    return signature(kept or prod.base / "no-run-state", like)


def _env_blocked(root: Path, promotion: Promotion) -> str | None:
    """Why the promoted env cannot take its outputs back (None: it can, and is usable again)."""
    env = Target(root, promotion.env)
    name = promotion.env
    if not env.dir.is_dir():
        return "it no longer exists, so the promoted outputs were dropped"
    config, plan = read_env_config(env), read_plan(env)
    state = read_run_state(env)
    if config is None or plan is None or plan.plan_id != promotion.plan_id:
        return (
            "it was planned again since, so the promoted outputs were dropped; "
            f"plan and run it again ('seeknal plan {name}', 'seeknal run --env {name}')"
        )
    if state.plan_id != promotion.plan_id:
        return (
            "it was run again since, so the promoted outputs were dropped; "
            f"plan and run it again ('seeknal plan {name}', 'seeknal run --env {name}')"
        )
    return None


def _stage(txn: journal.Transaction, root: Path, entry: Kept, give_back: bool) -> None:
    """Operations that reverse one promotion, last operation first: a moved output goes back
    to its env (or away), and what it replaced returns."""
    for op in reversed(entry.ops):
        dst = root / op.dst
        if op.moved and op.src and give_back and dst.is_file():
            txn.replace(root / op.src, dst)
        elif not op.kept:
            txn.delete(dst)
        if op.kept:
            txn.replace(dst, root / op.kept)


def _fingerprint_before(root: Path, prod: Target, entry: Kept) -> str | None:
    """The fingerprint of the manifest the rollback puts back (None: production had none)."""
    import json

    kept = entry.kept_file(root, prod.manifest_path)
    try:
        value = json.loads(kept.read_text(encoding="utf-8")).get("fingerprint") if kept else None
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None
