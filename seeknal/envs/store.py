"""Stored environments: listing, deleting, collecting and copying them (docs/concepts.md)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from seeknal.context import Context, utc_now
from seeknal.envs.access import env_target, locked, require_env
from seeknal.envs.names import EnvFacts, env_status, expires_at, is_expired
from seeknal.errors import EnvError, SeeknalError
from seeknal.state import atomic, failpoints
from seeknal.state.layout import Target
from seeknal.state.manifest_head import manifest_fingerprint_of
from seeknal.state.records import EnvConfig, NodeState, Plan, Ref, Refs, RunState
from seeknal.state.store import (
    read_env_config,
    read_manifest,
    read_plan,
    read_refs,
    read_run_state,
    read_run_state_json,
)


def list_envs(ctx: Context, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    now = now or dt.datetime.now(dt.UTC)
    folder = ctx.production.base / "environments"
    prod_manifest = read_manifest(ctx.production)
    prod_fp = prod_manifest.fingerprint if prod_manifest else None
    rows: list[dict[str, Any]] = []
    if not folder.is_dir():
        return rows
    for child in sorted(folder.iterdir()):
        if not child.is_dir() or child.name.startswith("."):
            continue
        target = Target(ctx.root, child.name)
        config = plan = None
        try:
            config = read_env_config(target)
            plan = read_plan(target)
            state = read_run_state(target) if target.run_state_path.exists() else None
            facts = (
                EnvFacts(
                    plan.plan_id,
                    (config or EnvConfig(child.name)).promoted_plan_id,
                    plan.base_fingerprint,
                    state.plan_id if state else None,
                    state is not None and all(n.ok for n in state.nodes.values()),
                )
                if plan
                else None
            )
            status = env_status(facts, prod_fp)
        except SeeknalError:  # a damaged env must not hide the others
            config, status = config or EnvConfig(child.name), "corrupt"
        if config is None:
            continue
        expiry = expires_at(config.last_accessed, config.ttl_seconds)
        expired = is_expired(config.last_accessed, config.ttl_seconds, now)
        rows.append(
            {
                "name": child.name,
                "status": status,
                "branch": config.branch,
                "created_at": config.created_at,
                "last_accessed": config.last_accessed,
                "expires_at": expiry.strftime("%Y-%m-%dT%H:%M:%SZ") if expiry else None,
                "expired": expired,
                "promoted_from": config.promoted_from,
                "nodes_to_execute": plan.total_nodes_to_execute if plan else None,
                "disk_bytes": _disk_size(child),
            }
        )
    return rows


def _disk_size(folder: Path) -> int:
    total = 0
    for dirpath, _, files in os.walk(folder):
        for name in files:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_size
            except OSError:
                pass
    return total


def delete_env(ctx: Context, env: str) -> tuple[Path, list[str]]:
    """Delete the env's folder and the warehouse schemas/namespaces it wrote to; the folder
    and the schemas/namespaces dropped."""
    from seeknal.envs.warehouse import drop_env_tables

    target = env_target(ctx, env)
    if not target.dir.is_dir():
        raise EnvError(f"Environment '{env}' not found.", "'seeknal env list' shows the envs.")
    with locked(ctx, f"seeknal env delete {env}"):
        dropped = drop_env_tables(ctx, env)  # first: the manifest says what to drop
        _remove_tree(target.dir)
    return target.dir, dropped


def _remove_tree(folder: Path) -> None:
    """Rename first, then delete: a kill halfway never leaves a half-deleted env behind."""
    doomed = folder.with_name(f".deleting-{folder.name}-{os.urandom(3).hex()}")
    os.replace(folder, doomed)
    shutil.rmtree(doomed, ignore_errors=True)


def gc_envs(
    ctx: Context,
    dry_run: bool = False,
    branch_exists: Callable[[str], bool] | None = None,
    now: dt.datetime | None = None,
) -> list[tuple[str, str]]:
    """Envs past their TTL, or bound to a git branch that no longer exists (deleted with the
    warehouse schemas and namespaces they wrote to)."""
    from seeknal.envs.warehouse import drop_env_tables

    doomed: list[tuple[str, str]] = []
    for row in list_envs(ctx, now):
        if row["expired"]:
            doomed.append((row["name"], f"expired {row['expires_at']}"))
        elif row.get("branch") and branch_exists is not None and not branch_exists(row["branch"]):
            doomed.append((row["name"], f"branch '{row['branch']}' no longer exists"))
    if not dry_run:
        # under the lock: a `.copy-*` folder is an `env promote` in progress until it holds it
        # no more, and leftovers of killed copies and deletions are removed by taking it
        with locked(ctx, "seeknal env gc"):
            _prune_history(ctx, now)
            for name, _ in doomed:
                folder = Target(ctx.root, name).dir
                if folder.is_dir():
                    drop_env_tables(ctx, name)
                    _remove_tree(folder)
    return doomed


def kept_by_remote(
    ctx: Context, branch_where: Callable[[str], str | None], now: dt.datetime | None = None
) -> list[tuple[str, str, str]]:
    """Envs `gc_envs` keeps only because their branch, deleted here, still exists as a
    remote-tracking branch: (env, branch, remote-tracking name)."""
    kept = []
    for row in list_envs(ctx, now):
        branch = row.get("branch")
        if branch and not row["expired"]:
            where = branch_where(branch)
            if where:
                kept.append((row["name"], branch, where))
    return kept


def _prune_history(ctx: Context, now: dt.datetime | None) -> None:
    """History beyond `history:` goes to the trash, deleted by the detached deleter."""
    from seeknal.project.retention import retention
    from seeknal.state.journal import empty_trash
    from seeknal.state.kept import discard, expired

    base = ctx.production.base
    discard(base, expired(base, retention(ctx.load_settings()), now))
    empty_trash(base, background=os.environ.get("SEEKNAL_SYNC_CLEANUP") != "1")


# -- env → env -----------------------------------------------------------------------------------
def copy_env(ctx: Context, src: str, dst: str) -> tuple[Target, bool]:
    """`seeknal env promote src dst`: dst becomes a copy of src's state and outputs. Also True
    when src had been promoted by moving its outputs: dst then reads them from production."""
    source, config, plan = require_env(ctx, src)
    dest = env_target(ctx, dst)
    if src == dst:
        raise EnvError("Source and destination environments are the same.", "Name another env.")
    moved_away = (
        config.promoted_plan_id == plan.plan_id and (config.promoted_mode or "move") == "move"
    )
    with locked(ctx, f"seeknal env promote {src} {dst}"):
        promoted = _in_production(ctx, source, plan, dst) if moved_away else None
        tmp = dest.dir.with_name(f".copy-{dst}-{os.urandom(3).hex()}")
        try:
            _copy_into(source, dest, tmp, config, plan, promoted)
        except BaseException as exc:
            shutil.rmtree(tmp, ignore_errors=True)  # a failed copy leaves nothing behind
            if isinstance(exc, OSError):  # shutil.Error included
                raise EnvError(
                    f"Copying env '{src}' to '{dst}' failed: {_os_problem(exc)}. Nothing was "
                    "changed.",
                    f"Fix the cause, then run 'seeknal env promote {src} {dst}' again.",
                ) from None
            raise
        if dest.dir.exists():
            _remove_tree(dest.dir)
        os.replace(tmp, dest.dir)
        atomic.fsync_dir(dest.dir.parent)
    return dest, moved_away


@dataclass(frozen=True)
class _Promoted:
    """A promoted env as its copy has it: every output it computed is production's now."""

    state: RunState
    refs: Refs
    plan: Plan


def _in_production(ctx: Context, source: Target, plan: Plan, dst: str) -> _Promoted:
    """Its outputs were moved into production: the copy reads them there, as long as production
    still holds exactly what the promotion left (its manifest, and those outputs' bytes)."""
    src = str(source.env)
    state = read_run_state(source)
    computed = [n for n, e in state.nodes.items() if not e.ref]
    prod = ctx.production
    _, prod_state = read_run_state_json(prod, computed)
    production_fp = manifest_fingerprint_of(prod.manifest_path)
    changed = sorted(
        n
        for n in computed
        if (p := prod_state.nodes.get(n)) is None
        or (p.hash, p.output_digest) != (state.nodes[n].hash, state.nodes[n].output_digest)
    )
    if production_fp != manifest_fingerprint_of(source.manifest_path) or changed:
        what = f" ({', '.join(changed[:5])})" if changed else ""
        raise EnvError(
            f"Environment '{src}' was promoted, and production changed since{what}: a copy "
            f"would not be what '{src}' was. Nothing was copied.",
            f"Plan '{dst}' against production as it is now: 'seeknal plan {dst}', then "
            f"'seeknal run --env {dst}'.",
        )
    refs = read_refs(source).by_node()
    nodes = dict(state.nodes)
    for node_id in computed:
        entry, production = state.nodes[node_id], prod_state.nodes[node_id]
        ref = Ref(node_id, production.output_path or "", entry.hash, production.output_digest)
        refs[node_id] = ref
        nodes[node_id] = NodeState.production_ref(entry.hash or "", ref, production)
    return _Promoted(
        state.with_nodes(nodes, state.plan_id),
        Refs(tuple(refs.values())),
        # planned against production as the promotion left it: nothing left to compute
        replace(plan, base_fingerprint=production_fp, nodes_to_execute=()),
    )


def _copy_into(
    source: Target,
    dest: Target,
    tmp: Path,
    config: EnvConfig,
    plan: Plan,
    promoted: _Promoted | None,
) -> None:
    """Copy the source env's folder to `tmp` and rewrite its state for `dest`."""
    src, dst = str(source.env), str(dest.env)
    shutil.copytree(source.dir, tmp)
    failpoints.hit("env_copy.copied")  # tests: pause with the copy half made
    old_prefix = source.relative(source.dir) + "/"
    new_prefix = dest.relative(dest.dir) + "/"
    tmp_target = _FolderTarget(tmp, dest)
    if promoted is not None:
        plan = promoted.plan
        atomic.write_json(tmp_target.run_state_path, promoted.state.to_json(), plain=True)
        atomic.write_json(tmp_target.refs_path, promoted.refs.to_json(), plain=True)
        # the feature store files it wrote are production's too
        tmp_target.entity_files_path.unlink(missing_ok=True)
    elif source.run_state_path.exists():
        state = read_run_state(source)
        atomic.write_json(
            tmp_target.run_state_path, _moved(state, old_prefix, new_prefix).to_json()
        )
    atomic.write_json(tmp_target.plan_path, plan.for_env(dst).to_json())
    atomic.write_json(tmp_target.env_config_path, config.copied(dst, src, utc_now()).to_json())


def _os_problem(exc: OSError) -> str:
    """What went wrong, in one line (copytree's error lists every file it could not copy)."""
    if isinstance(exc, shutil.Error) and exc.args and isinstance(exc.args[0], list):
        failures = exc.args[0]
        more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
        return f"{failures[0][0]}: {failures[0][2]}{more}" if failures else str(exc)
    return f"{exc.filename}: {exc.strerror}" if exc.filename else str(exc)


def _moved(state: RunState, old_prefix: str, new_prefix: str) -> RunState:
    """`state` with the outputs under `old_prefix` (the source env's folder) moved to
    `new_prefix`."""
    nodes = {}
    for node_id, entry in state.nodes.items():
        rel = entry.output_path or ""
        if rel.startswith(old_prefix):
            entry = entry.moved_to(new_prefix + rel[len(old_prefix) :])
        nodes[node_id] = entry
    return state.with_nodes(nodes, state.plan_id)


class _FolderTarget:
    """The state files of `like` (an env's Target), in another folder."""

    def __init__(self, folder: Path, like: Target) -> None:
        self.run_state_path = folder / like.run_state_path.name
        self.plan_path = folder / like.plan_path.name
        self.env_config_path = folder / like.env_config_path.name
        self.refs_path = folder / like.refs_path.name
        self.entity_files_path = folder / like.entity_files_path.name
