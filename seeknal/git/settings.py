"""The `git:` section of seeknal_project.yml, with defaults (docs/git.md)."""

from __future__ import annotations

TYPE_CHECKING = False  # not `typing`'s: the post-checkout hook imports this module
if TYPE_CHECKING:
    from typing import Any

ON_MERGE = ("promote", "run", "notify")


class GitSettings:
    """The settings, with their defaults; immutable, compared by value."""

    __slots__ = ("production_branches", "bind_branches", "on_merge", "pre_push_block_on")
    production_branches: tuple[str, ...]
    bind_branches: bool
    on_merge: str
    pre_push_block_on: tuple[str, ...]

    def __init__(
        self,
        production_branches: tuple[str, ...] = ("main", "master"),
        bind_branches: bool = True,
        on_merge: str = "promote",
        pre_push_block_on: tuple[str, ...] = ("error",),
    ) -> None:
        values = (production_branches, bind_branches, on_merge, pre_push_block_on)
        for name, value in zip(self.__slots__, values, strict=True):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"GitSettings is immutable ({name})")

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GitSettings) and self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        shown = ", ".join(f"{n}={v!r}" for n, v in zip(self.__slots__, self._values(), strict=True))
        return f"GitSettings({shown})"


def git_settings(settings: dict[str, Any]) -> GitSettings:
    raw = settings.get("git") or {}
    if not isinstance(raw, dict):
        from seeknal.errors import SeeknalError

        raise SeeknalError(
            "seeknal_project.yml: 'git:' must be a mapping.",
            "See docs/git.md for the git settings.",
        )
    branches = _names(raw, "production_branches", ["main", "master"])
    on_merge = str(raw.get("on_merge", "promote"))
    if on_merge not in ON_MERGE:
        from seeknal.errors import SeeknalError

        raise SeeknalError(
            f"seeknal_project.yml: git.on_merge is '{on_merge}'; use one of {', '.join(ON_MERGE)}.",
            "Fix seeknal_project.yml.",
        )
    block = _names(raw, "pre_push_block_on", ["error"])
    unknown = [b for b in block if b not in ("error", "breaking")]
    if unknown:
        from seeknal.errors import SeeknalError

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
        from seeknal.errors import SeeknalError

        raise SeeknalError(
            f"seeknal_project.yml: git.{key} must be a name or a list of names, not {value!r}.",
            f"Fix seeknal_project.yml, e.g. {key}: [{', '.join(default)}].",
        )
    return value
