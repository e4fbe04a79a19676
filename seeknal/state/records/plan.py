"""plan.json (an env plan, or a plan between git revisions) and manifest.json."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar, Protocol

from seeknal.state.records.reader import LIST, MAYBE_TEXT, NULL, OBJECT, TEXT, Reader, texts

# what planning, reports and rebuilding the planned project read from a manifest's node entry
_NODE_FIELDS: dict[str, tuple[type, ...]] = {
    "inputs": (list, NULL),
    "sql": MAYBE_TEXT,
    "config": (dict, NULL),
    "file_path": MAYBE_TEXT,
    "tags": (list, NULL),
    "content_hash": MAYBE_TEXT,
    "metadata_hash": MAYBE_TEXT,
    "data_digest": MAYBE_TEXT,
}


# -- manifest.json -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Manifest:
    """manifest.json: the project as planned or run. Node entries stay mappings (built by
    seeknal.planning.manifest, read by planning and reports)."""

    SCHEMA_VERSION: ClassVar[str] = "2.0"
    WHAT: ClassVar[str] = "Manifest"
    NODE_TEXT: ClassVar[tuple[str, ...]] = ("type", "name", "fingerprint")

    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    fingerprint: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    edges: list[Any] = field(default_factory=list)

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> Manifest:
        """A manifest built in memory (seeknal.planning.manifest.build_manifest)."""
        return cls(
            dict(data.get("nodes") or {}),
            data.get("fingerprint"),
            dict(data.get("metadata") or {}),
            list(data.get("edges") or []),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": self.SCHEMA_VERSION,
            "metadata": self.metadata,
            "fingerprint": self.fingerprint,
            "nodes": self.nodes,
            "edges": self.edges,
        }

    @classmethod
    def from_json(
        cls, data: Any, path: Path | str, hint: str | None = None, what: str | None = None
    ) -> Manifest:
        r = Reader(data, path, what or cls.WHAT, hint)
        r.get("schema_version", TEXT)
        nodes = {}
        for node_id, entry in r.entries("nodes", dict):
            for name in cls.NODE_TEXT:
                if not isinstance(entry.get(name), str):
                    r.fail(f"'nodes' entry {node_id!r} has no text '{name}'")
            for name, value in entry.items():  # one pass: manifests of thousands of nodes
                types = _NODE_FIELDS.get(name)
                if types is not None and not isinstance(value, types):
                    r.entry_field("nodes", node_id, entry, name, types)
            inputs = entry.get("inputs") or ()
            if not all(isinstance(up, str) for up in inputs):
                r.fail(f"'nodes' entry {node_id!r} has an 'inputs' entry that is not text")
            nodes[str(node_id)] = entry
        return cls(
            nodes,
            r.get("fingerprint", TEXT),
            r.get("metadata", OBJECT, {}),
            r.get("edges", LIST, []),
        )


# -- plan.json -----------------------------------------------------------------------------------
class Changes(Protocol):
    """What a plan decided (seeknal.planning.changes.EnvDecision)."""

    @property
    def categories(self) -> dict[str, str]: ...
    @property
    def reasons(self) -> dict[str, str]: ...
    @property
    def nodes_to_execute(self) -> list[str]: ...
    @property
    def added(self) -> list[str]: ...
    @property
    def removed(self) -> list[str]: ...


@dataclass(frozen=True)
class Plan:
    """An env plan (plan.json), or a plan between git revisions, which is never saved and so has
    no id, time, profile or render inputs (its JSON leaves those keys out)."""

    SCHEMA_VERSION: ClassVar[str] = "2.0"
    WHAT: ClassVar[str] = "Plan"

    env_name: str | None
    manifest_fingerprint: str | None
    base_fingerprint: str | None
    categorized_changes: dict[str, str]
    reasons: dict[str, str]
    added_nodes: tuple[str, ...]
    removed_nodes: tuple[str, ...]
    nodes_to_execute: tuple[str, ...]
    total_nodes: int
    base_nodes: dict[str, Any]
    git: dict[str, Any] | None = None
    plan_id: str | None = None
    created_at: str | None = None
    profile_path: str | None = None
    run_id: str | None = None  # what {{ run_id }} rendered as when planned
    params: dict[str, Any] = field(default_factory=dict)  # the --params it was planned with

    @property
    def total_nodes_to_execute(self) -> int:
        return len(self.nodes_to_execute)

    @classmethod
    def of_changes(
        cls,
        changes: Changes,
        env_name: str | None,
        manifest_fingerprint: str,
        base_fingerprint: str | None,
        base_nodes: dict[str, Any],
        total_nodes: int,
        git: dict[str, Any] | None,
    ) -> Plan:
        return cls(
            env_name=env_name,
            manifest_fingerprint=manifest_fingerprint,
            base_fingerprint=base_fingerprint,
            categorized_changes=dict(changes.categories),
            reasons=dict(changes.reasons),
            added_nodes=texts(changes.added),
            removed_nodes=texts(changes.removed),
            nodes_to_execute=texts(changes.nodes_to_execute),
            total_nodes=total_nodes,
            base_nodes=base_nodes,
            git=git,
        )

    def saved(
        self,
        plan_id: str,
        created_at: str,
        profile_path: str | None,
        run_id: str,
        params: dict[str, Any],
    ) -> Plan:
        """The plan as an env saves it."""
        return replace(
            self,
            plan_id=plan_id,
            created_at=created_at,
            profile_path=profile_path,
            run_id=run_id,
            params=dict(params),
        )

    def for_env(self, env: str) -> Plan:
        return replace(self, env_name=env)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "env_name": self.env_name,
            "manifest_fingerprint": self.manifest_fingerprint,
            "base_fingerprint": self.base_fingerprint,
            "categorized_changes": self.categorized_changes,
            "reasons": self.reasons,
            "added_nodes": list(self.added_nodes),
            "removed_nodes": list(self.removed_nodes),
            "nodes_to_execute": list(self.nodes_to_execute),
            "total_nodes_to_execute": self.total_nodes_to_execute,
            "total_nodes": self.total_nodes,
            "git": self.git,
            "base_nodes": self.base_nodes,
        }
        if self.plan_id is not None:
            data.update(
                schema_version=self.SCHEMA_VERSION,
                plan_id=self.plan_id,
                created_at=self.created_at,
                profile_path=self.profile_path,
                run_id=self.run_id,
                params=self.params,
            )
        return data

    @classmethod
    def from_json(
        cls, data: Any, path: Path | str, hint: str | None = None, what: str | None = None
    ) -> Plan:
        r = Reader(data, path, what or cls.WHAT, hint)
        r.get("schema_version", TEXT)
        r.get("total_nodes_to_execute", (int,))
        to_execute = texts(r.get("nodes_to_execute", LIST, []))
        return cls(
            env_name=r.get("env_name", MAYBE_TEXT),
            manifest_fingerprint=r.get("manifest_fingerprint", MAYBE_TEXT),
            base_fingerprint=r.get("base_fingerprint", MAYBE_TEXT),
            categorized_changes=r.get("categorized_changes", OBJECT, {}),
            reasons=r.get("reasons", OBJECT, {}),
            added_nodes=texts(r.get("added_nodes", LIST, [])),
            removed_nodes=texts(r.get("removed_nodes", LIST, [])),
            nodes_to_execute=to_execute,
            total_nodes=r.get("total_nodes", (int,), 0),
            base_nodes=r.get("base_nodes", OBJECT, {}),
            git=r.get("git", (dict, NULL)),
            plan_id=r.get("plan_id", TEXT),
            created_at=r.get("created_at", MAYBE_TEXT),
            profile_path=r.get("profile_path", MAYBE_TEXT),
            run_id=r.get("run_id", MAYBE_TEXT),
            params=r.get("params", OBJECT, {}),
        )
