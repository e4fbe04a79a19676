"""run_state.json (production's or one env's, with a NodeState per node) and refs.json."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar, Protocol

from seeknal.state.records.reader import (
    LIST,
    MAYBE_INT,
    MAYBE_NUMBER,
    MAYBE_TEXT,
    NULL,
    TEXT,
    Reader,
    json_type,
    texts,
    versioned,
)


class RunResult(Protocol):
    """What the scheduler reports about one executed node (seeknal.runner.scheduler.NodeRun)."""

    @property
    def status(self) -> str: ...
    @property
    def duration_ms(self) -> int: ...
    @property
    def row_count(self) -> int | None: ...
    @property
    def output_digest(self) -> str | None: ...
    @property
    def error(self) -> str | None: ...
    @property
    def warnings(self) -> list[str]: ...


_NODE_FIELDS: dict[str, tuple[type, ...]] = {
    "hash": MAYBE_TEXT,
    "status": MAYBE_TEXT,
    "duration_ms": MAYBE_NUMBER,
    "row_count": MAYBE_INT,
    "last_run": MAYBE_TEXT,
    "output_path": MAYBE_TEXT,
    "output_digest": MAYBE_TEXT,
    "error": MAYBE_TEXT,
    "warnings": LIST,
    "ref": (bool,),
}
SUCCESS, CACHED, SKIPPED = "success", "cached", "skipped"
NOT_SELECTED = "not selected in this run"  # an env run's selection left the node out


@dataclass(frozen=True, slots=True)  # thousands per run state
class NodeState:
    """One node's entry in a run state: what its last run did and where its output is."""

    hash: str | None = None  # the node fingerprint the output was computed from
    status: str | None = None
    duration_ms: int | float | None = None
    row_count: int | None = None
    last_run: str | None = None
    output_path: str | None = None  # relative to the project root
    output_digest: str | None = None
    error: str | None = None
    warnings: tuple[str, ...] = ()
    ref: bool = False  # an env entry standing for production's output (read, not computed)

    @property
    def ok(self) -> bool:
        return self.status in (SUCCESS, CACHED)

    @property
    def pending(self) -> bool:
        """Planned in an env but left out of a selected run: not run yet, not failed."""
        return self.status == SKIPPED and self.error == NOT_SELECTED

    @classmethod
    def held(cls, fingerprint: str) -> NodeState:
        """An env's entry for a planned node a selected run left out."""
        return cls(hash=fingerprint, status=SKIPPED, error=NOT_SELECTED)

    @classmethod
    def executed(
        cls, fingerprint: str, run: RunResult, output_path: str | None, now: str
    ) -> NodeState:
        """After the node executed (or failed, or was skipped)."""
        return cls(
            hash=fingerprint,
            status=str(run.status),
            duration_ms=run.duration_ms,
            row_count=run.row_count,
            last_run=now,
            output_path=output_path,
            output_digest=run.output_digest,
            error=run.error or None,
            warnings=tuple(run.warnings or ()),
        )

    @classmethod
    def production_ref(cls, fingerprint: str, ref: Ref, production: NodeState | None) -> NodeState:
        """An env's entry for a node it reads from production."""
        return cls(
            hash=fingerprint,
            status=CACHED,
            ref=True,
            duration_ms=0,
            row_count=production.row_count if production else None,
            last_run=production.last_run if production else None,
            output_path=ref.output_path,
            output_digest=ref.output_digest,
        )

    def kept(self) -> NodeState:
        """Carried over by a run that did not execute the node."""
        return replace(self, status=CACHED) if self.status == SUCCESS else self

    def reused(self) -> NodeState:
        """An env output kept from an earlier apply of the same node definition."""
        return replace(self, status=CACHED)

    def promoted(self, output_path: str) -> NodeState:
        """An env output moved (or copied) to production."""
        return replace(self, status=SUCCESS, output_path=output_path)

    def referenced(self, fingerprint: str | None) -> NodeState:
        """Production's own entry for a node the promoted env only read."""
        return replace(self, hash=fingerprint, status=CACHED)

    def moved_to(self, output_path: str) -> NodeState:
        return replace(self, output_path=output_path)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "hash": self.hash,
            "status": self.status,
            "duration_ms": self.duration_ms,
            "row_count": self.row_count,
            "last_run": self.last_run,
            "output_path": self.output_path,
            "output_digest": self.output_digest,
        }
        if self.error:
            data["error"] = self.error
        if self.warnings:
            data["warnings"] = list(self.warnings)
        if self.ref:
            data["ref"] = True
        return data

    @classmethod
    def read(cls, reader: Reader, node_id: str, entry: dict[str, Any]) -> NodeState:
        # one pass over the entry: run states of thousands of nodes are read by every command
        for name, value in entry.items():
            types = _NODE_FIELDS.get(name)
            if types is not None and not isinstance(value, types):
                reader.entry_field("nodes", node_id, entry, name, types)
        get = entry.get
        return cls(
            get("hash"),
            get("status"),
            get("duration_ms"),
            get("row_count"),
            get("last_run"),
            get("output_path"),
            get("output_digest"),
            get("error"),
            texts(get("warnings") or ()),
            bool(get("ref")),
        )


@dataclass(frozen=True)
class RunState:
    """run_state.json: production's, or one env's (which adds plan_id and forced)."""

    SCHEMA_VERSION: ClassVar[str] = "2.0"
    WHAT: ClassVar[str] = "Run state"

    nodes: dict[str, NodeState] = field(default_factory=dict)
    run_id: str | None = None
    last_run: str | None = None
    plan_id: str | None = None  # env: the plan this state applied (None: not applied)
    forced: bool | None = None  # env: applied with --force
    promoted_from: str | None = None  # production: the env whose promotion wrote it

    @classmethod
    def production(cls, run_id: str, now: str, nodes: dict[str, NodeState]) -> RunState:
        return cls(nodes, run_id, now)

    @classmethod
    def applied(
        cls, run_id: str, now: str, plan_id: str | None, forced: bool, nodes: dict[str, NodeState]
    ) -> RunState:
        return cls(nodes, run_id, now, plan_id=plan_id, forced=forced)

    @classmethod
    def promoted(
        cls, run_id: str | None, now: str, env: str, nodes: dict[str, NodeState]
    ) -> RunState:
        return cls(nodes, run_id, now, promoted_from=env)

    def with_nodes(self, nodes: dict[str, NodeState], plan_id: str | None) -> RunState:
        return replace(self, nodes=nodes, plan_id=plan_id)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "schema_version": self.SCHEMA_VERSION,
            "run_id": self.run_id,
            "last_run": self.last_run,
            "nodes": {n: e.to_json() for n, e in self.nodes.items()},
        }
        for key in ("plan_id", "forced", "promoted_from"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        return data

    @classmethod
    def computed_from_json(
        cls, data: Any, path: Path | str, hint: str | None = None
    ) -> tuple[RunState, dict[str, str | None]]:
        """An env's run state with records for the nodes the env computed only, and the
        fingerprint of each node it reads from production (its `ref` entries, not read as
        records): a promotion reads nothing more of the nodes it does not move."""
        r = Reader(data, path, cls.WHAT, hint)
        r.get("schema_version", TEXT)
        computed: dict[str, NodeState] = {}
        refs: dict[str, str | None] = {}
        for node_id, entry in r.get("nodes", (dict,), {}).items():
            if isinstance(entry, dict) and entry.get("ref") is True:
                fingerprint = entry.get("hash")  # thousands of refs: checked inline
                if fingerprint is not None and not isinstance(fingerprint, str):
                    r.entry_field("nodes", node_id, entry, "hash", MAYBE_TEXT)  # words it
                refs[str(node_id)] = fingerprint
            else:
                computed[str(node_id)] = cls._entry(r, node_id, entry)
        return cls._with_fields(r, computed), refs

    @classmethod
    def promoted_json(
        cls,
        production: Mapping[str, Any],
        moved: Mapping[str, NodeState],
        refs: Mapping[str, str | None],
        run_id: str | None,
        now: str,
        env: str,
    ) -> dict[str, Any]:
        """Production's run_state.json after promoting `env`, from the JSON of production's
        current one: the `moved` entries, and for each node the env read from production
        (`refs`: node -> the env's fingerprint) production's own entry carried over as it is,
        with that fingerprint and status cached. Nodes the env does not have are left out."""
        own = production.get("nodes")
        own = own if isinstance(own, dict) else {}
        nodes: dict[str, Any] = {}
        for node_id, fingerprint in refs.items():
            entry = own.get(node_id)
            if type(entry) is dict and entry.get("status") == CACHED:
                if entry.get("hash") == fingerprint and "hash" in entry:
                    nodes[node_id] = entry  # as it is (production's JSON is not used after)
                    continue
            nodes[node_id] = {
                **(entry if isinstance(entry, dict) else NodeState().to_json()),
                "hash": fingerprint,
                "status": CACHED,
            }
        nodes.update((node_id, entry.to_json()) for node_id, entry in moved.items())
        return {**cls.promoted(run_id, now, env, {}).to_json(), "nodes": nodes}

    @classmethod
    def from_json(
        cls,
        data: Any,
        path: Path | str,
        hint: str | None = None,
        what: str | None = None,
        only: Collection[str] | None = None,
    ) -> RunState:
        """The run state, or with `only` the entries of those nodes (the others are not read)."""
        r = Reader(data, path, what or cls.WHAT, hint)
        r.get("schema_version", TEXT)
        if only is None:
            nodes = {str(n): NodeState.read(r, n, e) for n, e in r.entries("nodes", dict)}
        else:
            entries = r.get("nodes", (dict,), {})
            nodes = {n: cls._entry(r, n, entries[n]) for n in only if n in entries}
        return cls._with_fields(r, nodes)

    @staticmethod
    def _entry(r: Reader, node_id: str, entry: Any) -> NodeState:
        if not isinstance(entry, dict):
            r.fail(f"'nodes' entry {node_id!r} is {json_type(entry)}")
        return NodeState.read(r, node_id, entry)

    @classmethod
    def _with_fields(cls, r: Reader, nodes: dict[str, NodeState]) -> RunState:
        return cls(
            nodes,
            r.get("run_id", MAYBE_TEXT),
            r.get("last_run", MAYBE_TEXT),
            plan_id=r.get("plan_id", MAYBE_TEXT),
            forced=r.get("forced", (bool, NULL)),
            promoted_from=r.get("promoted_from", MAYBE_TEXT),
        )


# -- refs.json -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Ref:
    """A production output an env reads instead of computing it, as it was when planned."""

    node_id: str
    output_path: str  # relative to the project root
    fingerprint: str | None = None
    output_digest: str | None = None

    @classmethod
    def of_production(
        cls, node_id: str, entry: NodeState | None, default_path: Callable[[], str]
    ) -> Ref:
        """Production's output of `node_id`; where its layout puts it when its run state does
        not say."""
        return cls(
            node_id,
            (entry.output_path if entry else None) or default_path(),
            entry.hash if entry else None,
            entry.output_digest if entry else None,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "node_id": self.node_id,
            "output_path": self.output_path,
            "fingerprint": self.fingerprint,
            "output_digest": self.output_digest,
        }


@dataclass(frozen=True)
class Refs:
    """refs.json: every production output an env reads."""

    SCHEMA_VERSION: ClassVar[str] = "1.0"
    WHAT: ClassVar[str] = "Refs file"

    refs: tuple[Ref, ...] = ()

    def by_node(self) -> dict[str, Ref]:
        return {ref.node_id: ref for ref in self.refs}

    def to_json(self) -> dict[str, Any]:
        return versioned(self.SCHEMA_VERSION, {"refs": [r.to_json() for r in self.refs]})

    @classmethod
    def from_json(
        cls,
        data: Any,
        path: Path | str,
        hint: str | None = None,
        what: str | None = None,
        only: Collection[str] | None = None,
    ) -> Refs:
        """The refs, or with `only` the refs of those nodes (the others are not read)."""
        r = Reader(data, path, what or cls.WHAT, hint)
        r.get("schema_version", TEXT)
        refs = []
        for index, entry in r.entries("refs", list):
            if only is not None and entry.get("node_id") not in only:
                continue
            for name in ("node_id", "output_path"):
                if not isinstance(entry.get(name), str):
                    r.fail(f"'refs' entry {index!r} has no text '{name}'")
            refs.append(
                Ref(
                    entry["node_id"],
                    entry["output_path"],
                    r.entry_field("refs", index, entry, "fingerprint", MAYBE_TEXT),
                    r.entry_field("refs", index, entry, "output_digest", MAYBE_TEXT),
                )
            )
        return cls(tuple(refs))
