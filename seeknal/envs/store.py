"""Stored environments: listing, deleting, collecting and copying them (SPEC §5)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from seeknal.context import Context, utc_now
from seeknal.envs.access import env_target, locked, read_env_file, require_env
from seeknal.envs.names import env_status, expires_at, is_expired
from seeknal.errors import EnvError, SeeknalError
from seeknal.state import atomic
from seeknal.state.layout import Target
from seeknal.state.store import read_manifest


def list_envs(ctx: Context, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    now = now or dt.datetime.now(dt.UTC)
    folder = ctx.production.base / "environments"
    prod_fp = (read_manifest(ctx.production) or {}).get("fingerprint")
    rows: list[dict[str, Any]] = []
    if not folder.is_dir():
        return rows
    for child in sorted(folder.iterdir()):
        if not child.is_dir() or child.name.startswith("."):
            continue
        target = Target(ctx.root, child.name)
        config = plan = None
        try:
            config = read_env_file(target, target.env_config_path, "Environment config")
            plan = read_env_file(target, target.plan_path, "Plan")
            state = read_env_file(target, target.run_state_path, "Run state")
            status = env_status(config or {}, plan, state, prod_fp)
        except SeeknalError:  # a damaged env must not hide the others
            config, status = config or {"name": child.name}, "corrupt"
        if config is None:
            continue
        expiry = expires_at(config.get("last_accessed"), config.get("ttl_seconds"))
        expired = is_expired(config.get("last_accessed"), config.get("ttl_seconds"), now)
        rows.append(
            {
                "name": child.name,
                "status": status,
                "branch": config.get("branch"),
                "created_at": config.get("created_at"),
                "last_accessed": config.get("last_accessed"),
                "expires_at": expiry.strftime("%Y-%m-%dT%H:%M:%SZ") if expiry else None,
                "expired": expired,
                "promoted_from": config.get("promoted_from"),
                "nodes_to_execute": (plan or {}).get("total_nodes_to_execute"),
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


def delete_env(ctx: Context, env: str) -> Path:
    target = env_target(ctx, env)
    if not target.dir.is_dir():
        raise EnvError(f"Environment '{env}' not found.", "'seeknal env list' shows the envs.")
    with locked(ctx, f"seeknal env delete {env}"):
        _remove_tree(target.dir)
    return target.dir


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
    """Envs past their TTL, or bound to a git branch that no longer exists."""
    doomed: list[tuple[str, str]] = []
    for row in list_envs(ctx, now):
        if row["expired"]:
            doomed.append((row["name"], f"expired {row['expires_at']}"))
        elif row.get("branch") and branch_exists is not None and not branch_exists(row["branch"]):
            doomed.append((row["name"], f"branch '{row['branch']}' no longer exists"))
    if not dry_run and doomed:
        with locked(ctx, "seeknal env gc"):
            for name, _ in doomed:
                folder = Target(ctx.root, name).dir
                if folder.is_dir():
                    _remove_tree(folder)
    leftovers = ctx.production.base / "environments"
    if not dry_run and leftovers.is_dir():
        for pattern in (".deleting-*", ".copy-*"):
            for child in leftovers.glob(pattern):
                shutil.rmtree(child, ignore_errors=True)
    return doomed


# -- env → env -----------------------------------------------------------------------------------
def copy_env(ctx: Context, src: str, dst: str) -> Target:
    """`seeknal env promote src dst`: dst becomes a copy of src's state and outputs."""
    source, config, plan = require_env(ctx, src)
    dest = env_target(ctx, dst)
    if (
        config.get("promoted_plan_id") == plan.get("plan_id")
        and config.get("promoted_mode", "move") == "move"
    ):
        raise EnvError(
            f"Environment '{src}' was promoted to production and its outputs moved there; "
            "there is nothing left to copy.",
            f"Copy envs before promoting them (seeknal env promote {src} {dst}, then "
            f"seeknal promote {src}), promote with --copy-data, or 'seeknal plan {dst}'.",
        )
    if src == dst:
        raise EnvError("Source and destination environments are the same.", "Name another env.")
    with locked(ctx, f"seeknal env promote {src} {dst}"):
        tmp = dest.dir.with_name(f".copy-{dst}-{os.urandom(3).hex()}")
        shutil.copytree(source.dir, tmp)
        old_prefix = source.relative(source.dir) + "/"
        new_prefix = dest.relative(dest.dir) + "/"
        now = utc_now()
        tmp_target = _FolderTarget(tmp)
        state = atomic.read_json(tmp_target.run_state_path, "Run state", "")
        if state:
            for entry in state.get("nodes", {}).values():
                rel = entry.get("output_path") or ""
                if rel.startswith(old_prefix):
                    entry["output_path"] = new_prefix + rel[len(old_prefix) :]
            atomic.write_json(tmp_target.run_state_path, state)
        atomic.write_json(tmp_target.plan_path, {**plan, "env_name": dst})
        atomic.write_json(
            tmp_target.env_config_path,
            {
                **{k: v for k, v in config.items() if k not in ("promoted_plan_id", "branch")},
                "name": dst,
                "created_at": now,
                "last_accessed": now,
                "promoted_from": src,
            },
        )
        if dest.dir.exists():
            _remove_tree(dest.dir)
        os.replace(tmp, dest.dir)
        atomic.fsync_dir(dest.dir.parent)
    return dest


class _FolderTarget:
    def __init__(self, folder: Path) -> None:
        self.run_state_path = folder / "run_state.json"
        self.plan_path = folder / "plan.json"
        self.env_config_path = folder / "env_config.json"
