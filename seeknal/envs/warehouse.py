"""Warehouse tables beyond target/: production names written on `promote --rematerialize`, and
an env's prefixed schemas and namespaces dropped with the env (docs/concepts.md)."""

from __future__ import annotations

from contextlib import closing
from typing import TYPE_CHECKING

from seeknal.context import Context
from seeknal.kinds.materializations import parse
from seeknal.state.store import read_manifest, read_plan

if TYPE_CHECKING:
    from seeknal.types import Project


def _snapshot(ctx: Context, env: str | None) -> Project | None:
    from seeknal.planning.manifest import project_from_manifest

    manifest = read_manifest(ctx.target(env))
    return project_from_manifest(manifest.to_json(), str(ctx.root)) if manifest else None


def rematerialize(ctx: Context, node_ids: list[str]) -> list[str]:
    """Write production's outputs of `node_ids` to their materializations' production names,
    with production's profile; the tables written."""
    from seeknal.engine import DEFAULT_ENGINE, create_engine
    from seeknal.project.profiles import check_uses, resolve_profile_path

    project = _snapshot(ctx, None)
    if project is None:
        return []
    nodes = [project.nodes[n] for n in node_ids if n in project.nodes]
    nodes = [n for n in nodes if parse(n.config)]
    if not nodes:
        return []
    ctx.use_profile(resolve_profile_path(ctx.root, None, None))
    warehouse = ctx.warehouse(None)
    check_uses(warehouse.profile, nodes)
    written: list[str] = []
    with closing(create_engine(DEFAULT_ENGINE, ctx.root, warehouse)) as engine:
        for node in nodes:
            written += engine.materialize_tables(node, ctx.production.output(node))
    return written


def drop_env_tables(ctx: Context, env: str) -> list[str]:
    """Drop the schemas and namespaces `env`'s materializations write to (with the profile its
    plan recorded); the ones that existed."""
    project = _snapshot(ctx, env)
    if project is None:
        return []
    targets = [t for node in project.nodes.values() for t in parse(node.config)]
    if not targets:
        return []
    plan = read_plan(ctx.target(env))
    ctx.use_profile(plan.profile_path if plan else None)
    return ctx.warehouse(env).drop_env(env, targets)
