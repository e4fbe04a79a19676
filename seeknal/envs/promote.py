"""Promoting an applied environment to production as one atomic transaction (docs/concepts.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from seeknal.context import Context, utc_now
from seeknal.digest import file_digest, remember_digest
from seeknal.envs.access import check_fresh, locked, require_env, require_manifest
from seeknal.envs.resolve import verify_production_refs
from seeknal.errors import EnvError, Interrupted
from seeknal.project.retention import retention
from seeknal.state import failpoints, journal
from seeknal.state.history import check_readable, finish_promote
from seeknal.state.kept import nodes_signature
from seeknal.state.layout import Target
from seeknal.state.records import EnvConfig, Manifest, NodeState, Plan, Promotion, RunState
from seeknal.state.store import (
    read_entity_files,
    read_env_outputs,
    read_manifest_nodes,
    read_run_state_json,
)


@dataclass
class PromoteOutcome:
    env: str
    plan_id: str
    moved: list[str]
    removed: list[str]
    copy_data: bool
    seconds: float
    tables: list[str] = field(default_factory=list)  # written by --rematerialize


@dataclass
class _Staged:
    """Production's new run-state entries and the outputs staged to move into it."""

    nodes: dict[str, NodeState] = field(default_factory=dict)
    moved: list[str] = field(default_factory=list)
    digests: dict[Path, str] = field(default_factory=dict)


class _Read(NamedTuple):
    """What promote read before staging: the env's run state, refs and moving manifest
    entries, and production's run state (as JSON and as records of the nodes concerned)."""

    state: RunState
    refs: dict[str, str | None]
    moving: Manifest
    prod_json: dict[str, Any]
    prod_state: RunState


def promote_env(
    ctx: Context,
    env: str,
    copy_data: bool = False,
    git_commit: str | None = None,
    rematerialize: bool = False,
) -> PromoteOutcome:
    """Promote `env` to production (Ctrl-C while it checks the env changes nothing either)."""
    before = journal.committed()
    try:
        return _promote(ctx, env, copy_data, git_commit, rematerialize)
    except KeyboardInterrupt:
        command = f"seeknal promote {env}"
        raise journal.interrupted_since(before, "promote", command) from None


def _promote(
    ctx: Context, env: str, copy_data: bool, git_commit: str | None, rematerialize: bool
) -> PromoteOutcome:
    """Its cost follows what moves: of the nodes that do not move, nothing is read as records
    and no manifest entry is parsed (production's run state is carried over as JSON).

    Ctrl-C: before the commit point the promotion is undone at the next step, after it the
    promotion is finished first; either way `Interrupted` says which (state/journal.py)."""
    import time

    started = time.perf_counter()
    target, config, plan = require_env(ctx, env)
    with locked(ctx, f"seeknal promote {env}"):
        state, refs = read_env_outputs(target)
        moving = _moving(target, state)
        _promotable(ctx, target, config, plan, state, moving)
        prod = ctx.production
        prod_json, prod_state = read_run_state_json(prod, [*state.nodes, *plan.removed_nodes])
        check_readable(prod.base)  # its history must be readable before production changes
        command = (
            f"seeknal promote {env}"
            + (" --copy-data" if copy_data else "")
            + (" --rematerialize" if rematerialize else "")
        )
        txn = journal.Transaction(prod.base, ctx.root, "promote", command=command)
        try:
            with txn:
                read = _Read(state, refs, moving, prod_json, prod_state)
                staged, removed = _stage(ctx, txn, target, plan, read, copy_data, git_commit)
                txn.commit(lambda journal: finish_promote(ctx.root, journal))
                for path, digest in staged.digests.items():
                    # verified before the move: production's file holds exactly these bytes
                    remember_digest(path, digest, ctx.cache.digests)
                ctx.save_cache()
        except Interrupted as exc:
            if rematerialize and txn.committed:
                exc.hint = _write_tables(txn.details["promotion"]["nodes"])
            raise
        tables = _rematerialize(ctx, env, staged.moved) if rematerialize else []
    failpoints.hit("reporting.promote")  # tests: Ctrl-C once it is made, before it is said
    seconds = time.perf_counter() - started
    return PromoteOutcome(env, str(plan.plan_id), staged.moved, removed, copy_data, seconds, tables)


def _stage(
    ctx: Context,
    txn: journal.Transaction,
    target: Target,
    plan: Plan,
    read: _Read,
    copy_data: bool,
    git_commit: str | None,
) -> tuple[_Staged, list[str]]:
    """Stage everything the promotion changes in production, and describe it in the journal."""
    env, prod = str(target.env), ctx.production
    state, refs, moving, prod_json, prod_state = read
    staged = _stage_outputs(txn, target, prod, moving, state, prod_state, copy_data, ctx)
    removed = _stage_removals(txn, target, prod, prod_state, plan, ctx.root)
    _stage_entity_files(txn, target, prod, copy_data, ctx)
    now = utc_now()
    new_state = RunState.promoted_json(prod_json, staged.nodes, refs, state.run_id, now, env)
    # production's manifest becomes the env's, byte for byte
    txn.replace(prod.manifest_path, txn.stage_link(target.manifest_path))
    txn.replace(prod.run_state_path, txn.stage_json("run_state.json", new_state, plain=True))
    promotion = Promotion(
        id=txn.id,
        env=env,
        plan_id=plan.plan_id,
        git_commit=git_commit,
        time=now,
        mode="copy" if copy_data else "move",
        nodes=tuple(staged.moved),
        removed_nodes=plan.removed_nodes,
        manifest_fingerprint=moving.fingerprint,
    )
    txn.details = {
        "env": env,
        "plan_id": plan.plan_id,
        "promotion": promotion.to_json(),
        "history": retention(ctx.remembered_settings()).to_json(),  # kept for rollback
        "after": nodes_signature(new_state["nodes"]),  # rollback checks production by it
    }
    return staged, removed


def _write_tables(nodes: list[str]) -> str:
    return (
        "Its tables under production names were not written: seeknal run --full --nodes "
        + ",".join(nodes)
    )


def _moving(target: Target, state: RunState) -> Manifest:
    """The env manifest's entries of the nodes the env computed (those it moves)."""
    found = read_manifest_nodes(target, state.nodes)
    # missing: require_manifest says so, and how to write it again
    return found if found is not None else require_manifest(target)


def _rematerialize(ctx: Context, env: str, nodes: list[str]) -> list[str]:
    """Production names get the promoted outputs; production's state is already the env's."""
    from seeknal.envs.warehouse import rematerialize
    from seeknal.errors import SeeknalError

    try:
        return rematerialize(ctx, nodes)
    except KeyboardInterrupt:
        raise Interrupted(
            f"Interrupted (Ctrl-C) after the promotion was committed: env '{env}' is promoted.",
            _write_tables(nodes),
        ) from None
    except SeeknalError as exc:
        raise SeeknalError(
            f"Env '{env}' was promoted, but writing its tables under production names failed: "
            f"{exc.message}",
            f"{exc.hint} Then write them with: seeknal run --full --nodes {','.join(nodes)}",
        ) from None


def _promotable(
    ctx: Context,
    target: Target,
    config: EnvConfig,
    plan: Plan,
    state: RunState,
    moving: Manifest,
) -> None:
    """Refused unless the env is applied, unpromoted, successful and still fresh, and the
    production outputs it reads are what the plan recorded."""
    env = str(target.env)
    if config.promoted_plan_id == plan.plan_id:
        raise EnvError(
            f"Environment '{env}' has already been promoted.",
            f"Plan it again ('seeknal plan {env}') to promote new changes.",
        )
    if state.plan_id is None or state.plan_id != plan.plan_id:
        raise EnvError(
            f"Environment '{env}' has not been applied.",
            f"Run 'seeknal run --env {env}' first, then 'seeknal promote {env}'.",
        )
    failed = [f"{n} ({e.status})" for n, e in state.nodes.items() if not e.ok and not e.pending]
    if failed:
        raise EnvError(
            f"Environment '{env}' has nodes that did not succeed: {', '.join(failed[:5])}.",
            f"Fix them and run 'seeknal run --env {env}' again before promoting.",
        )
    pending = [n for n, e in state.nodes.items() if e.pending]
    if pending:
        more = f" and {len(pending) - 5} more" if len(pending) > 5 else ""
        raise EnvError(
            f"Environment '{env}' has planned nodes still pending (a selected run left them "
            f"out): {', '.join(pending[:5])}{more}.",
            f"Run the rest of its plan with 'seeknal run --env {env}' (what already ran is "
            f"reused), then 'seeknal promote {env}'.",
        )
    check_fresh(ctx, env, plan, promoting=True)
    verify_production_refs(ctx, target, _read_by_moving(target, moving))


def _read_by_moving(target: Target, moving: Manifest) -> set[str] | None:
    """The nodes whose production outputs what moves was computed from: the inputs of the
    nodes the env computed, or None (every node the env reads from production) when the env
    wrote feature store files, which merge feature groups as the env sees them. Production's
    other outputs stay as they are, and so do their run-state entries: a promotion's result
    does not depend on their bytes (docs/decisions.md)."""
    if read_entity_files(target).files:
        return None
    read: set[str] = set()
    for entry in moving.nodes.values():
        inputs = entry.get("inputs")
        if not isinstance(inputs, list):
            return None  # a damaged entry: check them all, as before
        read.update(str(node_id) for node_id in inputs)
    return read


def _stage_outputs(
    txn: journal.Transaction,
    target: Target,
    prod: Target,
    moving: Manifest,
    state: RunState,
    prod_state: RunState,
    copy_data: bool,
    ctx: Context,
) -> _Staged:
    """Stage each env output into production's place."""
    from seeknal.planning.manifest import project_from_manifest

    snapshot = project_from_manifest(moving.to_json(), str(ctx.root))
    staged = _Staged()
    for node_id in snapshot.order:
        entry = state.nodes.get(node_id)
        if entry is None:
            continue  # a node the env reads from production: it does not move
        src = target.absolute(entry.output_path or "")
        digest = _intact(target, node_id, entry, src, ctx)
        dst = prod.output(snapshot.nodes[node_id]).path
        _not_a_folder(prod, node_id, dst)
        txn.replace(dst, txn.stage_copy(src) if copy_data else src)
        old = prod_state.nodes.get(node_id)
        if old and old.output_path:
            old_path = prod.absolute(old.output_path)
            if old_path != dst and old_path.is_file():
                txn.delete(old_path)
        staged.digests[dst] = digest
        staged.nodes[node_id] = entry.promoted(prod.relative(dst))
        staged.moved.append(node_id)
    return staged


def _not_a_folder(prod: Target, node_id: str, dst: Path) -> None:
    """A folder where a promoted file goes (e.g. an exposure's path) is the user's: renamed
    aside into history, it would be deleted once the history is pruned."""
    if dst.is_dir():
        rel = prod.relative(dst)
        raise EnvError(
            f"Production output {rel} of {node_id} is a folder; promote would replace it with "
            "a file. Nothing was promoted.",
            f"Move or rename the folder {rel} (or change the node's output path), then promote "
            "again.",
        )


def _intact(target: Target, node_id: str, entry: NodeState, src: Path, ctx: Context) -> str:
    """The digest of an env output, refused unless it is what `run --env` recorded writing:
    production must never receive bytes nobody computed."""
    env = target.env
    if not entry.output_path or not src.is_file():
        raise EnvError(
            f"Output {entry.output_path} of {node_id} in env '{env}' is missing.",
            f"Run 'seeknal run --env {env}' again.",
        )
    digest = file_digest(src, ctx.cache.digests)
    if digest != entry.output_digest:
        raise EnvError(
            f"Output {entry.output_path} of {node_id} in env '{env}' is not what "
            f"'seeknal run --env {env}' wrote (its bytes changed since). Nothing was promoted.",
            f"Run 'seeknal run --env {env}' again to recompute it, then 'seeknal promote {env}'.",
        )
    return digest


def _stage_entity_files(
    txn: journal.Transaction, target: Target, prod: Target, copy_data: bool, ctx: Context
) -> None:
    """The consolidated feature store files the env wrote take production's place (checked like
    outputs: exactly the bytes `run --env` wrote), and those of entities it left without feature
    groups go."""
    env = target.env
    record = read_entity_files(target)
    for rel, digest in record.files.items():
        src = target.own_files / rel
        if not src.is_file() or file_digest(src, ctx.cache.digests) != digest:
            raise EnvError(
                f"{target.relative(src)} of env '{env}' is missing or not what "
                f"'seeknal run --env {env}' wrote (its bytes changed since). Nothing was promoted.",
                f"Run 'seeknal run --env {env}' again to write it, then 'seeknal promote {env}'.",
            )
        txn.replace(prod.own_files / rel, txn.stage_copy(src) if copy_data else src)
    for rel in record.gone:
        if (prod.own_files / rel).is_file():
            txn.delete(prod.own_files / rel)


def _stage_removals(
    txn: journal.Transaction,
    target: Target,
    prod: Target,
    prod_state: RunState,
    plan: Plan,
    root: Path,
) -> list[str]:
    """Stage the deletion of production outputs of nodes the env removed (only files such a
    node may write: never a source's data file, a node file or anything outside the project)."""
    if not plan.removed_nodes:
        return []
    from seeknal.planning.manifest import project_from_manifest
    from seeknal.project.outputs import data_files, may_delete  # imports every kind

    manifest = require_manifest(target)  # which files are source data: the whole project's
    data = data_files(project_from_manifest(manifest.to_json(), str(root)).nodes)
    removed: list[str] = []
    for node_id in plan.removed_nodes:
        entry = prod_state.nodes.get(node_id)
        rel = entry.output_path if entry else None
        if rel and may_delete(prod.root, rel, data) and prod.absolute(rel).is_file():
            txn.delete(prod.absolute(rel))
            removed.append(rel)
    return removed
