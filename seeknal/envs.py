"""Virtual environments: plan, apply (run --env), promote, copy, list, delete, gc (SPEC §5)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seeknal.context import Context, Loaded, utc_now
from seeknal.digest import file_digest
from seeknal.env import (
    DEFAULT_TTL_SECONDS,
    validate_env_name,
)
from seeknal.errors import EnvError, StateError
from seeknal.state import atomic
from seeknal.state.guard import mutating, recover_if_idle
from seeknal.state.layout import Target
from seeknal.state.store import (
    SCHEMA_VERSION,
    manifest_fingerprint_of,
    read_manifest,
    read_run_state,
)
from seeknal.types import NodeStatus

if TYPE_CHECKING:
    from seeknal.executor import NodeRun

OK_STATUSES = (NodeStatus.SUCCESS.value, NodeStatus.CACHED.value)
STALE_MESSAGE = "Plan is stale -- {what} has changed since plan was created."


# -- reading an environment ----------------------------------------------------------------------
def env_target(ctx: Context, env: str) -> Target:
    return ctx.target(validate_env_name(env))


def read_env_file(target: Target, path: Path, what: str) -> Any:
    return atomic.read_json(
        path,
        what,
        f"Delete {target.relative(path)} (or the whole env: seeknal env delete {target.env}), "
        f"then run 'seeknal plan {target.env}' to write it again.",
    )


def require_env(ctx: Context, env: str) -> tuple[Target, dict[str, Any], dict[str, Any]]:
    target = env_target(ctx, env)
    config = read_env_file(target, target.env_config_path, "Environment config")
    if config is None:
        raise EnvError(f"Environment '{env}' not found.", f"Run 'seeknal plan {env}' to create it.")
    plan = read_env_file(target, target.plan_path, "Plan")
    if plan is None:
        raise EnvError(f"Environment '{env}' has no plan.", f"Run 'seeknal plan {env}'.")
    return target, config, plan


def recover(ctx: Context) -> list[str]:
    """Repair a promotion interrupted by a crash, unless a live command holds the lock."""
    return recover_if_idle(ctx.production.base, ctx.root)


def locked(ctx: Context, command: str) -> AbstractContextManager[list[str]]:
    return mutating(ctx.production.base, ctx.root, command)


def _prod_valid(ctx: Context, loaded: Loaded, prod_state: dict[str, Any]) -> set[str]:
    from seeknal.runs import valid_outputs

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
    decision: Any  # seeknal.categorize.EnvDecision
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
    from seeknal.categorize import base_snapshot, categorize

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
                        ctx.production.output_path(loaded.project.nodes[node_id])
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
    from seeknal.runs import select_nodes_exact

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


# -- staleness and refs --------------------------------------------------------------------------
def check_fresh(ctx: Context, env: str, plan: dict[str, Any], promoting: bool = False) -> None:
    """Refuse a plan whose YAML or production moved on since it was made."""
    hint = f"Run 'seeknal plan {env}' to refresh, or use --force to apply anyway."
    if promoting:
        hint = f"Run 'seeknal plan {env}' and 'seeknal run --env {env}' again, then promote."
    if _fingerprint_as_planned(ctx, plan) != plan.get("manifest_fingerprint"):
        raise EnvError(STALE_MESSAGE.format(what="manifest"), hint)
    if manifest_fingerprint_of(ctx.production.manifest_path) != plan.get("base_fingerprint"):
        raise EnvError(
            STALE_MESSAGE.format(what="manifest")[:-1] + " (production changed since the plan).",
            hint,
        )


def _fingerprint_as_planned(ctx: Context, plan: dict[str, Any]) -> str:
    """The project's fingerprint rendered with the plan's run id and --params (`run --env`
    takes no params): otherwise a node using {{ run_id }} or a --params value would never
    match its plan."""
    saved = ctx.run_id, ctx.params
    ctx.run_id = str(plan.get("run_id") or ctx.run_id)
    ctx.params = dict(plan.get("params") or ctx.params)
    try:
        return ctx.manifest_fingerprint()
    finally:
        ctx.run_id, ctx.params = saved


def check_refs(ctx: Context, target: Target, env: str, strict: bool) -> dict[str, Path]:
    """Production outputs the env reads; with `strict`, any byte changed since the plan blocks."""
    refs = (read_env_file(target, target.refs_path, "Refs file") or {}).get("refs", [])
    paths: dict[str, Path] = {}
    for ref in refs:
        path = ctx.production.absolute(ref["output_path"])
        try:
            digest = file_digest(path, ctx.cache.data) if strict else None
            present = strict or path.is_file()
        except (FileNotFoundError, IsADirectoryError):
            present = False
        if not present:
            raise EnvError(
                f"Production output {ref['output_path']} ({ref['node_id']}), read by env "
                f"'{env}', is missing.",
                f"Run 'seeknal run' in production or 'seeknal plan {env}' again.",
            )
        if strict and ref.get("output_digest") and digest != ref["output_digest"]:
            raise EnvError(
                f"Production output {ref['output_path']} ({ref['node_id']}) changed since "
                f"env '{env}' was planned.",
                f"Run 'seeknal plan {env}' and 'seeknal run --env {env}' again.",
            )
        paths[ref["node_id"]] = path
    return paths


def plan_is_current(ctx: Context, env: str) -> bool:
    """The env has a plan that is neither promoted nor stale against the YAML or production."""
    target = env_target(ctx, env)
    config = read_env_file(target, target.env_config_path, "Environment config")
    plan = read_env_file(target, target.plan_path, "Plan")
    if not config or not plan or config.get("promoted_plan_id") == plan.get("plan_id"):
        return False
    try:
        check_fresh(ctx, env, plan)
    except EnvError:
        return False
    return True


# -- apply ---------------------------------------------------------------------------------------
@dataclass
class EnvRunOutcome:
    env: str
    plan: dict[str, Any]
    to_run: list[str]
    reused: list[str]
    results: dict[str, NodeRun] = field(default_factory=dict)

    @property
    def failed(self) -> list[NodeRun]:
        return [r for r in self.results.values() if r.status is NodeStatus.FAILED]


def apply_env(
    ctx: Context,
    env: str,
    force: bool = False,
    parallel: bool = False,
    max_workers: int = 4,
    on_done: Callable[[NodeRun], None] | None = None,
    on_start: Callable[[EnvRunOutcome], None] | None = None,
) -> EnvRunOutcome:
    from seeknal.executor import RunRequest, execute
    from seeknal.manifest import project_from_manifest
    from seeknal.runs import state_entry

    target, config, plan = require_env(ctx, env)
    with locked(ctx, f"seeknal run --env {env}"):
        if not force:
            check_fresh(ctx, env, plan)
        ref_paths = check_refs(ctx, target, env, strict=not force)
        # half-written outputs of an env run that was killed: nobody else writes here (lock)
        atomic.remove_temp_files(target.dir)
        manifest = read_env_file(target, target.manifest_path, "Environment manifest") or {}
        snapshot = project_from_manifest(manifest, str(ctx.root))
        previous = read_run_state(target)
        planned = [n for n in plan.get("nodes_to_execute", []) if n in snapshot.nodes]
        reused = [
            n
            for n in planned
            if _reusable(target, snapshot.nodes[n], previous["nodes"].get(n), manifest, ctx)
        ]
        to_run = [n for n in planned if n not in reused]
        outcome = EnvRunOutcome(env, plan, to_run, reused)
        if on_start:
            on_start(outcome)
        env_outputs = {n: target.output_path(snapshot.nodes[n]) for n in planned}

        def resolve(node_id: str) -> Path:
            return env_outputs.get(node_id) or ref_paths[node_id]

        if to_run:
            outcome.results = execute(
                RunRequest(
                    project=snapshot,
                    to_run=to_run,
                    reasons=plan.get("reasons", {}),
                    output_for=target.output_path,
                    resolve_input=resolve,
                    parallel=parallel,
                    max_workers=max_workers,
                    on_done=on_done,
                    digest_memo=ctx.cache.data,
                )
            )
        now = utc_now()
        refs = {
            r["node_id"]: r
            for r in (read_env_file(target, target.refs_path, "Refs file") or {}).get("refs", [])
        }
        prod_state = read_run_state(ctx.production)
        nodes: dict[str, Any] = {}
        for node_id in snapshot.order:
            fp = manifest["nodes"][node_id]["fingerprint"]
            if node_id in outcome.results:
                nodes[node_id] = state_entry(target, fp, outcome.results[node_id], now)
            elif node_id in reused:
                nodes[node_id] = {**previous["nodes"][node_id], "status": "cached"}
            elif node_id in refs:
                prod_entry = prod_state["nodes"].get(node_id, {})
                nodes[node_id] = {
                    "hash": fp,
                    "status": "cached",
                    "ref": True,
                    "duration_ms": 0,
                    "row_count": prod_entry.get("row_count"),
                    "last_run": prod_entry.get("last_run"),
                    "output_path": refs[node_id]["output_path"],
                    "output_digest": refs[node_id].get("output_digest"),
                }
        atomic.write_json(
            target.run_state_path,
            {
                "schema_version": SCHEMA_VERSION,
                "run_id": ctx.run_id,
                "last_run": now,
                "plan_id": plan.get("plan_id"),
                "forced": force,
                "nodes": nodes,
            },
        )
        atomic.write_json(target.env_config_path, {**config, "last_accessed": now})
        ctx.save_cache()
    return outcome


def _reusable(
    target: Target, node: Any, entry: dict[str, Any] | None, manifest: dict[str, Any], ctx: Context
) -> bool:
    """An env output from an earlier apply of the same node definition can be kept."""
    if not entry or entry.get("ref") or entry.get("status") not in OK_STATUSES:
        return False
    if entry.get("hash") != manifest["nodes"][node.id]["fingerprint"]:
        return False
    path = target.output_path(node)
    return path.is_file() and file_digest(path, ctx.cache.data) == entry.get("output_digest")
