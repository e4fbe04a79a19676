"""`seeknal clean`: what under target/ nothing needs any more (docs/cli.md#seeknal-clean).

Four kinds: production cache files no run state refers to and no node of the project writes
(left by nodes that are gone), the folders of expired envs (as `seeknal env gc` collects them,
TTL only), history entries beyond `history:` or that can no longer be rolled back, and the tool
cache (under target/, or while the project has no target/ yet, its file in the user's cache
folder). Nothing else outside target/ is ever removed.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from seeknal.context import Context
from seeknal.envs.access import locked
from seeknal.envs.store import gc_envs, list_envs
from seeknal.project.retention import retention
from seeknal.state.kept import disk_bytes, expired, history_dir
from seeknal.state.layout import TOOL_CACHE, Target
from seeknal.state.store import read_run_state
from seeknal.types import OutputKind

SPARE_WHY = "tool cache of this project kept outside it (rebuilt when needed)"


@dataclass(frozen=True)
class Removal:
    path: str  # relative to the project root (outside it: absolute, the home folder as ~)
    size: int  # bytes
    why: str


def clean(ctx: Context, dry_run: bool = False, now: dt.datetime | None = None) -> list[Removal]:
    """What is (or, with `dry_run`, would be) removed, largest groups in a stable order."""
    now = now or dt.datetime.now(dt.UTC)
    sizes = {row["name"]: int(row["disk_bytes"] or 0) for row in list_envs(ctx, now)}
    expired = gc_envs(ctx, dry_run=True, now=now)  # TTL only: no branch check here
    removals = [
        Removal(_rel(ctx, Target(ctx.root, name).dir), sizes.get(name, 0), f"env {why}")
        for name, why in expired
    ]
    keep = _referenced(ctx)
    orphans = [
        p
        for p in _files(ctx.production.cache_dir)
        if keep.isdisjoint((p.resolve(), *p.resolve().parents))  # a folder output keeps its files
    ]
    removals += [
        Removal(_rel(ctx, p), p.stat().st_size, "output of no node in the project") for p in orphans
    ]
    history = _history(ctx, now)
    removals += [Removal(_rel(ctx, p), disk_bytes(p), why) for p, why in history.items()]
    tool_cache = ctx.production.base / TOOL_CACHE
    if tool_cache.is_dir():
        size = sum(p.stat().st_size for p in _files(tool_cache))
        removals.append(Removal(_rel(ctx, tool_cache), size, "tool cache (rebuilt when needed)"))
    spare = ctx.production.spare_tool_cache_path
    # its two files (state/tool_cache.py ToolCache): parse entries, and digests beside them
    spares = (
        [] if spare is None else [p for p in (spare, spare.with_suffix(".digests")) if p.is_file()]
    )
    if spare is not None and spares:
        size = sum(p.stat().st_size for p in spares)
        removals.append(Removal(_home(spare), size, SPARE_WHY))
    if dry_run or not removals:
        return removals
    for path in spares:
        path.unlink(missing_ok=True)  # this project's own files: no lock needed, none created
    if len(removals) == 1 and removals[0].why == SPARE_WHY:
        return removals  # a never-run project: no target/ to lock (or create)
    if expired:
        gc_envs(ctx, dry_run=False, now=now)  # takes the lock itself
    with locked(ctx, "seeknal clean"):
        for path in orphans:
            if path.is_file():
                path.unlink()
        _prune_empty(ctx.production.cache_dir)
        for folder in history:
            shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(tool_cache, ignore_errors=True)
    return removals


def _history(ctx: Context, now: dt.datetime) -> dict[Path, str]:
    """History folders beyond the retention, or of promotions that can no longer be rolled back
    (a production run replaced outputs since)."""
    from seeknal.envs.history import production_log

    base = ctx.production.base
    found = {
        p: "history beyond 'history:' in seeknal_project.yml"
        for p in expired(base, retention(ctx.load_settings()), now)
    }
    for entry in production_log(ctx):
        folder = history_dir(base) / entry.line.id
        if entry.line.kind == "promote" and not entry.can_roll_back and folder.is_dir():
            found.setdefault(folder, f"history that cannot be used ({entry.rollback[4:]})")
    return found


def _referenced(ctx: Context) -> set[Path]:
    """Outputs a run state (production's or any env's) refers to, or a project node writes."""
    keep: set[Path] = set()
    targets = [ctx.production]
    envs = ctx.production.base / "environments"
    if envs.is_dir():
        targets += [Target(ctx.root, c.name) for c in envs.iterdir() if c.is_dir()]
    for target in targets:
        if not target.run_state_path.exists():
            continue
        for entry in read_run_state(target).nodes.values():
            if entry.output_path:
                keep.add(target.absolute(entry.output_path).resolve())
    loaded = ctx.load()
    for node in loaded.project.nodes.values():
        output = ctx.production.output(node)
        if output.kind is not OutputKind.TABLE:
            keep.add(output.path.resolve())
    return keep


def _files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    inside = folder.resolve()
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and not p.is_symlink() and p.resolve().is_relative_to(inside)
    )


def _prune_empty(folder: Path) -> None:
    """Kind folders left empty by the removal (the cache folder itself stays)."""
    if not folder.is_dir():
        return
    for child in sorted(folder.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if child.is_dir() and not any(child.iterdir()):
            os.rmdir(child)


def _home(path: Path) -> str:
    home = os.environ.get("HOME")
    if home and path.is_relative_to(home):
        return "~/" + path.relative_to(home).as_posix()
    return str(path)


def _rel(ctx: Context, path: Path) -> str:
    return path.relative_to(ctx.root).as_posix()
