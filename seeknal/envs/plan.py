"""`seeknal plan ENV`: diff the project against production and save the env's plan."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seeknal.context import Context, Loaded, utc_now
from seeknal.digest import file_digest
from seeknal.envs.access import env_target, locked
from seeknal.envs.names import DEFAULT_TTL_SECONDS
from seeknal.errors import StateError
from seeknal.sql.compare import remembering
from seeknal.state.base_manifest import read_base_manifest
from seeknal.state.layout import Target
from seeknal.state.records import EnvConfig, Manifest, NodeState, Plan, Ref, Refs, RunState
from seeknal.state.store import (
    read_env_config,
    read_manifest,
    read_plan,
    read_refs,
    read_run_state,
    write_env_config,
    write_manifest,
    write_plan,
    write_refs,
    write_run_state,
)

if TYPE_CHECKING:
    from seeknal.planning.changes import EnvDecision


def _prod_valid(
    ctx: Context, loaded: Loaded, manifest: Manifest, prod_state: RunState, assume: bool
) -> set[str]:
    """Nodes whose production output an env may read: exactly as written by a run that
    succeeded, and not left stale by a later change upstream."""
    if assume:
        return set(loaded.project.nodes)
    from seeknal.state.output_check import valid_outputs

    valid = valid_outputs(ctx.production, loaded.project, prod_state.nodes, ctx.cache.data)
    valid = {n for n in valid if prod_state.nodes[n].ok}
    return valid - _stale(loaded, manifest, prod_state, valid)


def _stale(
    loaded: Loaded, prod_manifest: Manifest, prod_state: RunState, valid: set[str]
) -> set[str]:
    """Production outputs computed from inputs that changed since (a production run that was
    stopped, or ran only some nodes): nodes the project did not change, nor anything upstream of
    them, whose run state records another fingerprint than theirs. Reading them would carry
    stale data into the env, and its promotion would mark them current."""
    nodes, fps, states, base = (
        loaded.project.nodes,
        loaded.fingerprints,
        prod_state.nodes,
        prod_manifest.nodes,
    )
    changed = {
        n
        for n, fp in fps.items()
        if (entry := base.get(n)) is None or entry.get("content_hash") != fp.content
    }
    for node_id in loaded.project.order:  # upstream first
        if not changed.isdisjoint(nodes[node_id].inputs):
            changed.add(node_id)
    return {n for n in valid if n not in changed and states[n].hash != fps[n].fingerprint}


# -- plan ----------------------------------------------------------------------------------------
@dataclass
class EnvPlanResult:
    env: str
    plan: Plan
    decision: EnvDecision
    loaded: Loaded
    path: Path


def plan_env(
    ctx: Context,
    env: str,
    force_breaking: Iterable[str] = (),
    force_non_breaking: Iterable[str] = (),
    profile: Path | None = None,
    git: dict[str, Any] | None = None,
    loaded: Loaded | None = None,
    prod_manifest: Manifest | None = None,
    prod_state: RunState | None = None,
    assume_production_valid: bool = False,
) -> EnvPlanResult:
    """Diff the project against production and save the env's plan (docs/concepts.md)."""
    from seeknal.planning.changes import base_snapshot, categorize
    from seeknal.project.profiles import check_uses, resolve_profile_path

    target = env_target(ctx, env)
    profile_path = resolve_profile_path(ctx.root, env, profile)
    ctx.use_profile(profile_path)
    loaded = loaded or ctx.load()  # load errors are reported before target/ is touched
    check_uses(ctx.profile(profile_path), loaded.project.nodes.values())
    with locked(ctx, f"seeknal plan {env}"):
        if prod_manifest is None:
            prod_manifest = read_base_manifest(
                ctx.production,
                ctx.cache.data,
                {n: (fp.content, fp.metadata) for n, fp in loaded.fingerprints.items()},
            )
        if prod_state is None:
            prod_state = read_run_state(ctx.production)
        valid = _prod_valid(ctx, loaded, prod_manifest, prod_state, assume_production_valid)
        forced = [set(_resolve_ids(loaded, n)) for n in (force_breaking, force_non_breaking)]
        with remembering(ctx.cache.data):
            decision = categorize(
                loaded.project, loaded.dag, loaded.fingerprints, prod_manifest.nodes, valid, *forced
            )
        now = utc_now()
        plan = Plan.of_changes(
            decision,
            env,
            loaded.manifest_fingerprint,
            prod_manifest.fingerprint,
            base_snapshot(decision, prod_manifest.nodes),
            len(loaded.project.nodes),
            git,
        )
        # what {{ run_id }} and --params rendered as, to tell YAML edits from re-renders
        plan = plan.saved(os.urandom(8).hex(), now, profile_path, ctx.run_id, ctx.params)
        refs = production_refs(ctx, decision.refs, loaded, prod_state)
        kept = _same_plan(target, plan, refs, ctx.cache.data)
        if kept is not None:
            # nothing moved since this env was planned: keep that plan (and its applied state)
            plan, config = kept
            write_env_config(target, config.touched(now))
            ctx.save_cache()
        else:
            _save_plan(ctx, target, plan, decision, loaded, refs, now)
    return EnvPlanResult(env, plan, decision, loaded, target.plan_path)


def production_refs(
    ctx: Context, node_ids: Iterable[str], loaded: Loaded, prod_state: RunState
) -> Refs:
    """What the env will read from production, each with the digest its bytes must keep: the one
    production recorded, else (production's state does not say) the file's own right now."""
    prod = ctx.production

    def layout_path(node_id: str) -> str:
        return prod.relative(prod.output(loaded.project.nodes[node_id]).path)

    refs = []
    for node_id in node_ids:
        ref = Ref.of_production(
            node_id, prod_state.nodes.get(node_id), partial(layout_path, node_id)
        )
        if ref.output_digest is None:
            path = prod.absolute(ref.output_path)
            if path.is_file():
                ref = replace(ref, output_digest=file_digest(path, ctx.cache.data))
        refs.append(ref)
    return Refs(tuple(refs))


def _save_plan(
    ctx: Context,
    target: Target,
    plan: Plan,
    decision: EnvDecision,
    loaded: Loaded,
    refs: Refs,
    now: str,
) -> None:
    """Write the env's files for a new plan: config, manifest, refs and the plan itself."""
    try:
        previous = read_env_config(target)
    except StateError:
        previous = None  # a damaged config is replaced by this plan's
    ttl = (ctx.load_settings().get("environments") or {}).get("ttl_seconds")
    ttl_seconds = int(ttl or (previous.ttl_seconds if previous else None) or DEFAULT_TTL_SECONDS)
    config = EnvConfig.planned(str(target.env), now, previous, ttl_seconds, plan.git)
    _prune_env_outputs(target, set(decision.nodes_to_execute))
    write_env_config(target, config)
    write_manifest(target, Manifest.of(loaded.manifest()))
    ctx.cache.data[_written_key(target)] = True
    write_refs(target, refs)
    write_plan(target, plan)
    ctx.save_cache()


SAME_PLAN_KEYS = (
    "manifest_fingerprint",
    "base_fingerprint",
    "categorized_changes",
    "nodes_to_execute",
    "profile_path",
)


def _same_plan(
    target: Target, plan: Plan, refs: Refs, memo: dict[str, Any]
) -> tuple[Plan, EnvConfig] | None:
    """The env's current plan (and config) when a new one would decide exactly the same, read
    the same production bytes, and every file of it is there to be kept. The small files are
    compared first: after a change the plans differ and the big ones are not read at all."""
    try:
        old = read_plan(target)
        config = read_env_config(target)
        if old is None or config is None or config.promoted_plan_id == old.plan_id:
            return None
        if any(getattr(old, k) != getattr(plan, k) for k in SAME_PLAN_KEYS):
            return None
        if read_refs(target) != refs or not _manifest_intact(target, memo):
            return None
    except StateError:
        return None
    return old, config


def _manifest_intact(target: Target, memo: dict[str, Any]) -> bool:
    """The env's manifest is there and readable: the file seeknal wrote (same size, times and
    inode as when written; every write replaces the file), else read in full."""
    try:
        if _written_key(target) in memo:
            return True
    except OSError:
        return False
    return read_manifest(target) is not None


def _written_key(target: Target) -> str:
    """The tool cache's key for the env manifest as it is on disk now (OSError if it is not)."""
    st = os.stat(target.manifest_path)
    return f"w:{target.manifest_path}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}"


def _resolve_ids(loaded: Loaded, names: Iterable[str]) -> list[str]:
    names = list(names)
    if not names:
        return []  # no --breaking / --non-breaking: the runner's modules stay unloaded
    from seeknal.runner.production import select_nodes_exact

    return select_nodes_exact(loaded.project, names)


def _prune_env_outputs(target: Target, keep: set[str]) -> None:
    """Drop env outputs of nodes the new plan no longer executes (keep the rest for reuse)."""
    state = read_run_state(target) if target.run_state_path.exists() else None
    if state is None:
        return
    kept: dict[str, NodeState] = {}
    for node_id, entry in state.nodes.items():
        rel = entry.output_path
        inside = rel and target.absolute(rel).resolve().is_relative_to(target.dir.resolve())
        if node_id in keep and inside:
            kept[node_id] = entry
        elif rel and inside and target.absolute(rel).is_file():
            target.absolute(rel).unlink()
    write_run_state(target, state.with_nodes(kept, None))
