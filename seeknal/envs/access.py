"""Reading an environment: its files, the lock, and the checks that its plan still holds."""

from __future__ import annotations

from contextlib import AbstractContextManager

from seeknal.context import Context
from seeknal.envs.names import validate_env_name
from seeknal.errors import EnvError
from seeknal.state.guard import mutating, recover_if_idle
from seeknal.state.layout import Target
from seeknal.state.records import EnvConfig, Manifest, Plan
from seeknal.state.store import (
    manifest_fingerprint_of,
    read_env_config,
    read_manifest,
    read_plan,
)

STALE_MESSAGE = "Plan is stale -- {what} has changed since plan was created."


# -- reading an environment ----------------------------------------------------------------------
def env_target(ctx: Context, env: str) -> Target:
    return ctx.target(validate_env_name(env))


def require_env(ctx: Context, env: str) -> tuple[Target, EnvConfig, Plan]:
    target = env_target(ctx, env)
    config = read_env_config(target)
    if config is None:
        raise EnvError(f"Environment '{env}' not found.", f"Run 'seeknal plan {env}' to create it.")
    plan = read_plan(target)
    if plan is None:
        raise EnvError(f"Environment '{env}' has no plan.", f"Run 'seeknal plan {env}'.")
    return target, config, plan


def require_manifest(target: Target) -> Manifest:
    """The env's manifest snapshot: what its plan runs and what a promotion makes production."""
    manifest = read_manifest(target)
    if manifest is None:
        env = target.env
        raise EnvError(
            f"Environment '{env}' has no manifest ({target.relative(target.manifest_path)} is "
            "missing): what its plan runs is unknown.",
            f"Run 'seeknal plan {env}' to write it again, then 'seeknal run --env {env}'.",
        )
    return manifest


def recover(ctx: Context) -> list[str]:
    """Repair a promotion interrupted by a crash, unless a live command holds the lock."""
    return recover_if_idle(ctx.production.base, ctx.root)


def locked(ctx: Context, command: str) -> AbstractContextManager[list[str]]:
    return mutating(ctx.production.base, ctx.root, command)


# -- staleness -----------------------------------------------------------------------------------
def check_fresh(ctx: Context, env: str, plan: Plan, promoting: bool = False) -> None:
    """Refuse a plan whose YAML or production moved on since it was made."""
    hint = f"Run 'seeknal plan {env}' to refresh, or use --force to apply anyway."
    if promoting:
        hint = f"Run 'seeknal plan {env}' and 'seeknal run --env {env}' again, then promote."
    if fingerprint_as_planned(ctx, plan) != plan.manifest_fingerprint:
        changed = _changed_since(ctx, env, plan)
        raise EnvError(STALE_MESSAGE.format(what="manifest") + changed, hint)
    if manifest_fingerprint_of(ctx.production.manifest_path) != plan.base_fingerprint:
        raise EnvError(
            STALE_MESSAGE.format(what="manifest")[:-1] + " (production changed since the plan).",
            hint,
        )


def _changed_since(ctx: Context, env: str, plan: Plan) -> str:
    """A second line naming what moved since the plan (the nodes whose YAML, SQL or data
    changed, added or removed), or "" when the project does not load or the env's manifest
    is gone. Only on the way to an error: it loads the project."""
    from seeknal.errors import SeeknalError

    try:
        planned = read_manifest(env_target(ctx, env))
        saved = ctx.run_id, ctx.params
        ctx.run_id, ctx.params = str(plan.run_id or ctx.run_id), dict(plan.params or ctx.params)
        try:
            now = ctx.load().manifest()["nodes"]
        finally:
            ctx.run_id, ctx.params = saved
    except SeeknalError:
        return ""
    if planned is None:
        return ""
    before = planned.nodes
    parts = []
    for node_id in sorted(set(before) | set(now)):
        old, new = before.get(node_id), now.get(node_id)
        if old is None or new is None:
            parts.append(f"{node_id} ({'added' if old is None else 'removed'})")
        else:  # its own file or data (a change upstream is named at the upstream node)
            why = [
                label
                for key, label in (
                    ("content_hash", "definition"),
                    ("data_digest", "data"),
                    ("metadata_hash", "metadata"),
                )
                if old.get(key) != new.get(key)
            ]
            if "data" in why:  # a source's content hash covers its data too
                why = [w for w in why if w != "definition"]
            if why:
                parts.append(f"{node_id} ({', '.join(why)})")
    if not parts:
        return ""
    more = f" and {len(parts) - 8} more" if len(parts) > 8 else ""
    return f"\nChanged since the plan: {', '.join(parts[:8])}{more}."


def planned_params(ctx: Context, env: str) -> dict[str, object]:
    """The --params env `env` was last planned with ({} when none, or when its plan cannot be
    read): what commands that take no --params render the env's YAML with (docs/concepts.md)."""
    from seeknal.errors import SeeknalError

    try:
        plan = read_plan(env_target(ctx, env))
    except SeeknalError:
        return {}
    return dict(plan.params) if plan is not None and plan.params else {}


def fingerprint_as_planned(ctx: Context, plan: Plan) -> str:
    """The project's fingerprint rendered with the plan's run id and --params (`run --env`
    takes no params): otherwise a node using {{ run_id }} or a --params value would never
    match its plan."""
    saved = ctx.run_id, ctx.params
    ctx.run_id = str(plan.run_id or ctx.run_id)
    ctx.params = dict(plan.params or ctx.params)
    try:
        return ctx.manifest_fingerprint()
    finally:
        ctx.run_id, ctx.params = saved


def plan_is_current(ctx: Context, env: str) -> bool:
    """The env has a plan that is neither promoted nor stale against the YAML or production."""
    target = env_target(ctx, env)
    config = read_env_config(target)
    plan = read_plan(target)
    if not config or not plan or config.promoted_plan_id == plan.plan_id:
        return False
    try:
        check_fresh(ctx, env, plan)
    except EnvError:
        return False
    return True
