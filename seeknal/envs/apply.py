"""`seeknal run --env ENV`: execute what the plan needs, reading the rest from production."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from seeknal.context import Context, utc_now
from seeknal.digest import file_digest
from seeknal.engine import DEFAULT_ENGINE, create_engine
from seeknal.state import atomic
from seeknal.state.layout import Target
from seeknal.state.store import (
    SCHEMA_VERSION,
    read_run_state,
)
from seeknal.types import NodeStatus, Output

if TYPE_CHECKING:
    from seeknal.runner.scheduler import NodeRun

from seeknal.envs.access import (
    OK_STATUSES,
    check_fresh,
    check_refs,
    locked,
    read_env_file,
    require_env,
)


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
    from seeknal.planning.manifest import project_from_manifest
    from seeknal.runner.production import state_entry
    from seeknal.runner.scheduler import RunRequest, execute

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
        env_outputs = {n: target.output(snapshot.nodes[n]) for n in planned}

        def resolve(node_id: str) -> Output:
            return env_outputs.get(node_id) or Output.file(ref_paths[node_id])

        if to_run:
            with closing(create_engine(DEFAULT_ENGINE, ctx.root)) as engine:
                outcome.results = execute(
                    RunRequest(
                        project=snapshot,
                        to_run=to_run,
                        reasons=plan.get("reasons", {}),
                        output_for=target.output,
                        resolve_input=resolve,
                        parallel=parallel,
                        max_workers=max_workers,
                        on_done=on_done,
                        digest_memo=ctx.cache.data,
                    ),
                    engine,
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
    path = target.output(node).path
    return path.is_file() and file_digest(path, ctx.cache.data) == entry.get("output_digest")
