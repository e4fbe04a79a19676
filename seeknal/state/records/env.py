"""env_config.json and the lines of promotions.jsonl."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

from seeknal.state.records.reader import (
    LIST,
    MAYBE_INT,
    MAYBE_TEXT,
    TEXT,
    Reader,
    texts,
    versioned,
)


# -- env_config.json -----------------------------------------------------------------------------
@dataclass(frozen=True)
class EnvConfig:
    """env_config.json: an env's name, times, TTL, bound branch and last promotion."""

    SCHEMA_VERSION: ClassVar[str] = "1.0"
    WHAT: ClassVar[str] = "Environment config"

    name: str
    created_at: str | None = None
    last_accessed: str | None = None
    ttl_seconds: int | None = None
    promoted_from: str | None = None  # the env this one was copied from
    branch: str | None = None  # the git branch the env is bound to
    promoted_plan_id: str | None = None  # the plan last promoted to production
    promoted_mode: str | None = None  # move | copy
    promoted_at: str | None = None

    @classmethod
    def planned(
        cls,
        name: str,
        now: str,
        previous: EnvConfig | None,
        ttl_seconds: int,
        git: Mapping[str, Any] | None,
    ) -> EnvConfig:
        """Written by each new plan: a branch from git binds the env, otherwise the old one
        stays; a promotion of an earlier plan is forgotten."""
        branch = git.get("branch") if git else previous.branch if previous else None
        return cls(
            name=name,
            created_at=(previous.created_at if previous else None) or now,
            last_accessed=now,
            ttl_seconds=ttl_seconds,
            promoted_from=previous.promoted_from if previous else None,
            branch=branch or None,
        )

    def touched(self, now: str) -> EnvConfig:
        return replace(self, last_accessed=now)

    def copied(self, name: str, source: str, now: str) -> EnvConfig:
        """The config of `name`, made a copy of this env (`seeknal env promote SRC DST`)."""
        return replace(
            self,
            name=name,
            created_at=now,
            last_accessed=now,
            promoted_from=source,
            promoted_plan_id=None,
            branch=None,
        )

    def promoted(self, plan_id: str | None, mode: str, at: str) -> EnvConfig:
        return replace(
            self, promoted_plan_id=plan_id, promoted_mode=mode, promoted_at=at, last_accessed=at
        )

    def unpromoted(self) -> EnvConfig:
        """After a rollback gave the env its outputs back: it can be promoted again."""
        return replace(self, promoted_plan_id=None, promoted_mode=None, promoted_at=None)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "created_at": self.created_at,
            "last_accessed": self.last_accessed,
            "ttl_seconds": self.ttl_seconds,
            "promoted_from": self.promoted_from,
        }
        for key in ("branch", "promoted_plan_id", "promoted_mode", "promoted_at"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        return versioned(self.SCHEMA_VERSION, data)

    @classmethod
    def from_json(
        cls, data: Any, path: Path | str, hint: str | None = None, what: str | None = None
    ) -> EnvConfig:
        r = Reader(data, path, what or cls.WHAT, hint)
        r.get("schema_version", TEXT)
        return cls(
            name=r.get("name", TEXT, Path(path).parent.name),
            created_at=r.get("created_at", MAYBE_TEXT),
            last_accessed=r.get("last_accessed", MAYBE_TEXT),
            ttl_seconds=r.get("ttl_seconds", MAYBE_INT),
            promoted_from=r.get("promoted_from", MAYBE_TEXT),
            branch=r.get("branch", MAYBE_TEXT),
            promoted_plan_id=r.get("promoted_plan_id", MAYBE_TEXT),
            promoted_mode=r.get("promoted_mode", MAYBE_TEXT),
            promoted_at=r.get("promoted_at", MAYBE_TEXT),
        )


# -- promotions.jsonl ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Promotion:
    """One line of promotions.jsonl: an env made production (or, by `kind`, a rollback or a
    production run that changed outputs)."""

    SCHEMA_VERSION: ClassVar[str] = "1.0"
    WHAT: ClassVar[str] = "Promotion"

    id: str
    env: str
    plan_id: str | None
    time: str
    mode: str = "move"  # move | copy (--copy-data)
    nodes: tuple[str, ...] = ()  # the outputs moved or copied
    removed_nodes: tuple[str, ...] = ()
    manifest_fingerprint: str | None = None
    git_commit: str | None = None
    # promote, or a line of production's history that is not a promotion: `rollback` (which
    # promotions it undid, in `undoes`) or `run` (a production run that changed outputs)
    kind: str = "promote"
    undoes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        if self.kind != "promote":  # promotion lines stay as older versions wrote them
            extra = {"kind": self.kind, "undoes": list(self.undoes)}
        return versioned(
            self.SCHEMA_VERSION,
            extra
            | {
                "id": self.id,
                "env": self.env,
                "plan_id": self.plan_id,
                "git_commit": self.git_commit,
                "time": self.time,
                "mode": self.mode,
                "nodes": list(self.nodes),
                "removed_nodes": list(self.removed_nodes),
                "manifest_fingerprint": self.manifest_fingerprint,
            },
        )

    @classmethod
    def from_json(
        cls, data: Any, path: Path | str, hint: str | None = None, what: str | None = None
    ) -> Promotion:
        r = Reader(data, path, what or cls.WHAT, hint)
        r.get("schema_version", TEXT)
        return cls(
            id=r.get("id", TEXT, ""),
            env=r.get("env", TEXT, ""),
            plan_id=r.get("plan_id", MAYBE_TEXT),
            time=r.get("time", TEXT, ""),
            mode=r.get("mode", TEXT, "move"),
            nodes=texts(r.get("nodes", LIST, [])),
            removed_nodes=texts(r.get("removed_nodes", LIST, [])),
            manifest_fingerprint=r.get("manifest_fingerprint", MAYBE_TEXT),
            git_commit=r.get("git_commit", MAYBE_TEXT),
            kind=r.get("kind", TEXT, "promote"),
            undoes=texts(r.get("undoes", LIST, [])),
        )
