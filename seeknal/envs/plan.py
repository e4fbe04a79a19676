"""`seeknal plan ENV`: diff the project against production and save the env's plan."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seeknal.context import Context, Loaded, utc_now
from seeknal.envs.names import (
    DEFAULT_TTL_SECONDS,
)
from seeknal.errors import EnvError, StateError
from seeknal.state import atomic
from seeknal.state.layout import Target
from seeknal.state.store import (
    SCHEMA_VERSION,
    read_manifest,
    read_run_state,
)

if TYPE_CHECKING:
    pass

from seeknal.envs.access import OK_STATUSES, env_target, locked, read_env_file


def _prod_valid(ctx: Context, loaded: Loaded, prod_state: dict[str, Any]) -> set[str]:
    from seeknal.runner.production import valid_outputs

    valid = valid_outputs(ctx.production, loaded.project, prod_state["nodes"], ctx.cache.data)
    return {n for n in valid if prod_state["nodes"][n].get("status") in OK_STATUSES}


def resolve_profile(root: Path, env: str, explicit: Path | None) -> str | None:
    """--profile > profiles-<env>.yml > ~/.seeknal/profiles-<env>.yml > profiles.yml > ~/..."""
    if explicit is not None:
        if not explicit.is_file():
            raise EnvError(f"Profile file {explicit} does not exist.", "Pass an existing file.")
        return str(explicit.resolve())
    home = Path.home() / ".seeknal"
    for candidate in (
        root / f"profiles-{env}.yml",
        home / f"profiles-{env}.yml",
        root / "profiles.yml",
        home / "profiles.yml",
    ):
        if candidate.is_file():
            return str(candidate)
    return None


# -- plan ----------------------------------------------------------------------------------------
@dataclass
class EnvPlanResult:
    env: str
    plan: dict[str, Any]
    decision: Any  # seeknal.planning.changes.EnvDecision
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
    prod_manifest: dict[str, Any] | None = None,
    prod_state: dict[str, Any] | None = None,
    assume_production_valid: bool = False,
) -> EnvPlanResult:
    """Diff the project against production and save the env's plan (SPEC §5)."""
    from seeknal.planning.changes import base_snapshot, categorize

    target = env_target(ctx, env)
    profile_path = resolve_profile(ctx.root, env, profile)
    loaded = loaded or ctx.load()  # load errors are reported before target/ is touched
    with locked(ctx, f"seeknal plan {env}"):
        if prod_manifest is None:
            prod_manifest = read_manifest(ctx.production) or {}
        if prod_state is None:
            prod_state = read_run_state(ctx.production)
        prod_nodes = prod_manifest.get("nodes", {})
        decision = categorize(
            loaded.project,
            loaded.dag,
            loaded.fingerprints,
            prod_nodes,
            set(loaded.project.nodes)
            if assume_production_valid
            else _prod_valid(ctx, loaded, prod_state),
            set(_resolve_ids(loaded, force_breaking)),
            set(_resolve_ids(loaded, force_non_breaking)),
        )
        now = utc_now()
        plan = {
            "schema_version": SCHEMA_VERSION,
            "plan_id": os.urandom(8).hex(),
            "env_name": env,
            "created_at": now,
            "manifest_fingerprint": loaded.manifest_fingerprint,
            "base_fingerprint": prod_manifest.get("fingerprint"),
            "categorized_changes": decision.categories,
            "reasons": decision.reasons,
            "added_nodes": decision.added,
            "removed_nodes": decision.removed,
            "nodes_to_execute": decision.nodes_to_execute,
            "total_nodes_to_execute": len(decision.nodes_to_execute),
            "total_nodes": len(loaded.project.nodes),
            "profile_path": profile_path,
            "git": git,
            "base_nodes": base_snapshot(decision, prod_nodes),
            # what {{ run_id }} and --params rendered as, to tell YAML edits from re-renders
            "run_id": ctx.run_id,
            "params": ctx.params,
        }
        kept = _same_plan(target, plan)
        if kept is not None:
            # nothing moved since this env was planned: keep that plan (and its applied state)
            config = read_env_file(target, target.env_config_path, "Environment config") or {}
            atomic.write_json(target.env_config_path, {**config, "last_accessed": now})
            return EnvPlanResult(env, kept, decision, loaded, target.plan_path)
        refs = []
        for node_id in decision.refs:
            entry = prod_state["nodes"].get(node_id, {})
            refs.append(
                {
                    "node_id": node_id,
                    "output_path": entry.get("output_path")
                    or ctx.production.relative(
                        ctx.production.output(loaded.project.nodes[node_id]).path
                    ),
                    "fingerprint": entry.get("hash"),
                    "output_digest": entry.get("output_digest"),
                }
            )
        try:
            config = read_env_file(target, target.env_config_path, "Environment config") or {}
        except StateError:
            config = {}  # a damaged config is replaced by this plan's
        ttl = (ctx.load_settings().get("environments") or {}).get("ttl_seconds")
        config = {
            "name": env,
            "created_at": config.get("created_at", now),
            "last_accessed": now,
            "promoted_from": config.get("promoted_from"),
            "ttl_seconds": int(ttl or config.get("ttl_seconds") or DEFAULT_TTL_SECONDS),
            **({"branch": git["branch"]} if git and git.get("branch") else {}),
            **({"branch": config["branch"]} if config.get("branch") and not git else {}),
        }
        _prune_env_outputs(target, set(decision.nodes_to_execute))
        atomic.write_json(target.env_config_path, config)
        atomic.write_json(target.manifest_path, loaded.manifest())
        atomic.write_json(target.refs_path, {"refs": refs})
        atomic.write_json(target.plan_path, plan)
        ctx.save_cache()
    return EnvPlanResult(env, plan, decision, loaded, target.plan_path)


SAME_PLAN_KEYS = (
    "manifest_fingerprint",
    "base_fingerprint",
    "categorized_changes",
    "nodes_to_execute",
    "profile_path",
)


def _same_plan(target: Target, plan: dict[str, Any]) -> dict[str, Any] | None:
    """The env's current plan when a new one would decide exactly the same, else None."""
    try:
        old = read_env_file(target, target.plan_path, "Plan")
        config = read_env_file(target, target.env_config_path, "Environment config") or {}
    except StateError:
        return None
    if not old or config.get("promoted_plan_id") == old.get("plan_id"):
        return None
    if any(old.get(k) != plan.get(k) for k in SAME_PLAN_KEYS):
        return None
    return dict(old)


def _resolve_ids(loaded: Loaded, names: Iterable[str]) -> list[str]:
    from seeknal.runner.production import select_nodes_exact

    return select_nodes_exact(loaded.project, names)


def _prune_env_outputs(target: Target, keep: set[str]) -> None:
    """Drop env outputs of nodes the new plan no longer executes (keep the rest for reuse)."""
    state = read_run_state(target) if target.run_state_path.exists() else None
    if state is None:
        return
    kept: dict[str, Any] = {}
    for node_id, entry in state["nodes"].items():
        rel = entry.get("output_path")
        inside = rel and target.absolute(rel).resolve().is_relative_to(target.dir.resolve())
        if node_id in keep and inside:
            kept[node_id] = entry
        elif inside and target.absolute(rel).is_file():
            target.absolute(rel).unlink()
    atomic.write_json(target.run_state_path, {**state, "nodes": kept, "plan_id": None})
