"""The `git:` section of seeknal_project.yml, with defaults (docs/git.md)."""

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
    branches = _names(raw, "production_branches", ["main", "master"])
    on_merge = str(raw.get("on_merge", "promote"))
    if on_merge not in ON_MERGE:
        raise SeeknalError(
            f"seeknal_project.yml: git.on_merge is '{on_merge}'; use one of {', '.join(ON_MERGE)}.",
            "Fix seeknal_project.yml.",
        )
    block = _names(raw, "pre_push_block_on", ["error"])
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


def _names(raw: dict[str, Any], key: str, default: list[str]) -> list[str]:
    """A setting that is one name or a list of names."""
    value = raw.get(key, default)
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SeeknalError(
            f"seeknal_project.yml: git.{key} must be a name or a list of names, not {value!r}.",
            f"Fix seeknal_project.yml, e.g. {key}: [{', '.join(default)}].",
        )
    return value
