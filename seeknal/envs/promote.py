"""Promoting an applied environment to production as one atomic transaction (SPEC §5)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seeknal.context import Context, utc_now
from seeknal.digest import remember_digest
from seeknal.envs.access import (
    OK_STATUSES,
    check_fresh,
    check_refs,
    locked,
    read_env_file,
    require_env,
)
from seeknal.errors import EnvError
from seeknal.state import journal
from seeknal.state.history import finish_promote, promotions
from seeknal.state.store import SCHEMA_VERSION, read_run_state


@dataclass
class PromoteOutcome:
    env: str
    plan_id: str
    moved: list[str]
    removed: list[str]
    copy_data: bool
    seconds: float


def promote_env(
    ctx: Context, env: str, copy_data: bool = False, git_commit: str | None = None
) -> PromoteOutcome:
    import time

    from seeknal.planning.manifest import project_from_manifest

    started = time.perf_counter()
    target, config, plan = require_env(ctx, env)
    with locked(ctx, f"seeknal promote {env}"):
        state = read_env_file(target, target.run_state_path, "Run state")
        if config.get("promoted_plan_id") == plan.get("plan_id"):
            raise EnvError(
                f"Environment '{env}' has already been promoted.",
                f"Plan it again ('seeknal plan {env}') to promote new changes.",
            )
        if not state or state.get("plan_id") != plan.get("plan_id"):
            raise EnvError(
                f"Environment '{env}' has not been applied.",
                f"Run 'seeknal run --env {env}' first, then 'seeknal promote {env}'.",
            )
        failed = [
            f"{n} ({e.get('status')})"
            for n, e in state["nodes"].items()
            if e.get("status") not in OK_STATUSES
        ]
        if failed:
            raise EnvError(
                f"Environment '{env}' has nodes that did not succeed: {', '.join(failed[:5])}.",
                f"Fix them and run 'seeknal run --env {env}' again before promoting.",
            )
        check_fresh(ctx, env, plan, promoting=True)
        check_refs(ctx, target, env, strict=True)
        manifest = read_env_file(target, target.manifest_path, "Environment manifest") or {}
        snapshot = project_from_manifest(manifest, str(ctx.root))
        prod = ctx.production
        prod_state = read_run_state(prod)
        promotions(prod.base)  # its history must be readable before production changes
        txn = journal.Transaction(prod.base, ctx.root, "promote")
        new_nodes: dict[str, Any] = {}
        moved: list[str] = []
        digests: dict[Path, str] = {}
        for node_id in snapshot.order:
            entry = state["nodes"].get(node_id)
            if entry is None:
                continue
            if entry.get("ref"):
                new_nodes[node_id] = {
                    **prod_state["nodes"].get(node_id, {}),
                    "hash": entry["hash"],
                    "status": "cached",
                }
                continue
            src = target.absolute(entry["output_path"])
            if not src.is_file():
                raise EnvError(
                    f"Output {entry['output_path']} of {node_id} in env '{env}' is missing.",
                    f"Run 'seeknal run --env {env}' again.",
                )
            dst = prod.output(snapshot.nodes[node_id]).path
            txn.replace(dst, txn.stage_copy(src) if copy_data else src)
            old = prod_state["nodes"].get(node_id, {}).get("output_path")
            if old and prod.absolute(old) != dst and prod.absolute(old).is_file():
                txn.delete(prod.absolute(old))
            digests[dst] = entry.get("output_digest")
            new_nodes[node_id] = {
                **entry,
                "status": "success",
                "output_path": prod.relative(dst),
            }
            moved.append(node_id)
        removed: list[str] = []
        for node_id in plan.get("removed_nodes", []):
            rel = prod_state["nodes"].get(node_id, {}).get("output_path")
            if rel and prod.absolute(rel).is_file():
                txn.delete(prod.absolute(rel))
                removed.append(rel)
        now = utc_now()
        run_state = {
            "schema_version": SCHEMA_VERSION,
            "run_id": state.get("run_id"),
            "last_run": now,
            "promoted_from": env,
            "nodes": new_nodes,
        }
        # production's manifest becomes the env's, byte for byte
        txn.replace(prod.manifest_path, txn.stage_copy(target.manifest_path))
        txn.replace(prod.run_state_path, txn.stage_json("run_state.json", run_state))
        txn.details = {
            "env": env,
            "plan_id": plan.get("plan_id"),
            "promotion": {
                "id": txn.id,
                "env": env,
                "plan_id": plan.get("plan_id"),
                "git_commit": git_commit,
                "time": now,
                "mode": "copy" if copy_data else "move",
                "nodes": moved,
                "removed_nodes": plan.get("removed_nodes", []),
                "manifest_fingerprint": manifest.get("fingerprint"),
            },
        }
        txn.commit(lambda journal: finish_promote(ctx.root, journal))
        for path, digest in digests.items():
            if digest:
                remember_digest(path, digest, ctx.cache.data)
        ctx.save_cache()
    return PromoteOutcome(
        env, str(plan.get("plan_id")), moved, removed, copy_data, time.perf_counter() - started
    )
