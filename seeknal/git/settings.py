"""The `git:` section of seeknal_project.yml, with defaults (SPEC §7)."""

from __future__ import annotations

from typing import Any, NamedTuple

from seeknal.errors import SeeknalError

ON_MERGE = ("promote", "run", "notify")


class GitSettings(NamedTuple):
    production_branches: tuple[str, ...] = ("main", "master")
    bind_branches: bool = True
    on_merge: str = "promote"
    pre_push_block_on: tuple[str, ...] = ("error",)


def git_settings(settings: dict[str, Any]) -> GitSettings:
    raw = settings.get("git") or {}
    if not isinstance(raw, dict):
        raise SeeknalError(
            "seeknal_project.yml: 'git:' must be a mapping.",
            "See docs/git.md for the git settings.",
        )
    branches = raw.get("production_branches", ["main", "master"])
    if isinstance(branches, str):
        branches = [branches]
    on_merge = str(raw.get("on_merge", "promote"))
    if on_merge not in ON_MERGE:
        raise SeeknalError(
            f"seeknal_project.yml: git.on_merge is '{on_merge}'; use one of {', '.join(ON_MERGE)}.",
            "Fix seeknal_project.yml.",
        )
    block = raw.get("pre_push_block_on", ["error"])
    if isinstance(block, str):
        block = [block]
    unknown = [b for b in block if b not in ("error", "breaking")]
    if unknown:
        raise SeeknalError(
            f"seeknal_project.yml: git.pre_push_block_on has {unknown}; use error and/or breaking.",
            "Fix seeknal_project.yml.",
        )
    return GitSettings(
        production_branches=tuple(str(b) for b in branches),
        bind_branches=bool(raw.get("bind_branches", True)),
        on_merge=on_merge,
        pre_push_block_on=tuple(str(b) for b in block),
    )
