"""Reading an environment: its files, the lock, and the checks that its plan still holds."""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seeknal.context import Context
from seeknal.digest import file_digest
from seeknal.envs.names import (
    validate_env_name,
)
from seeknal.errors import EnvError
from seeknal.state import atomic
from seeknal.state.guard import mutating, recover_if_idle
from seeknal.state.layout import Target
from seeknal.state.store import (
    manifest_fingerprint_of,
)
from seeknal.types import NodeStatus

if TYPE_CHECKING:
    pass

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
