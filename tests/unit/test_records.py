"""The typed state records: each round-trips through its JSON, reads files written before it
carried a schema_version, and reports a wrongly typed file by path with how to recover."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from seeknal.errors import StateError
from seeknal.state.records import (
    EnvConfig,
    Manifest,
    NodeState,
    Plan,
    Promotion,
    Ref,
    Refs,
    RunState,
)

ENV = Path("/p/target/environments/dev")

NODE = {
    "hash": "f1",
    "status": "success",
    "duration_ms": 12,
    "row_count": 3,
    "last_run": "2026-01-02T03:04:05.000000Z",
    "output_path": "target/environments/dev/cache/transform/adults.parquet",
    "output_digest": "d1",
}
RUN_STATE = {
    "schema_version": "2.0",
    "run_id": "20260102T030405Z-abcdef",
    "last_run": "2026-01-02T03:04:05.000000Z",
    "plan_id": "p1",
    "forced": False,
    "nodes": {
        "transform.adults": NODE,
        "transform.bad": {
            **NODE,
            "status": "failed",
            "output_path": None,
            "error": "boom",
            "warnings": ["careful"],
        },
        "source.people": {**NODE, "status": "cached", "ref": True, "duration_ms": 0},
    },
}
PLAN = {
    "schema_version": "2.0",
    "plan_id": "p1",
    "env_name": "dev",
    "created_at": "2026-01-02T03:04:05.000000Z",
    "manifest_fingerprint": "m1",
    "base_fingerprint": None,
    "categorized_changes": {"transform.adults": "breaking"},
    "reasons": {"transform.adults": "filter changed"},
    "added_nodes": [],
    "removed_nodes": ["transform.old"],
    "nodes_to_execute": ["transform.adults"],
    "total_nodes_to_execute": 1,
    "total_nodes": 4,
    "profile_path": None,
    "git": {"branch": "feature/x"},
    "base_nodes": {"transform.adults": {"sql": "SELECT 1"}},
    "run_id": "r1",
    "params": {"day": "2026-01-02"},
}
ENV_CONFIG = {
    "name": "dev",
    "created_at": "2026-01-01T00:00:00Z",
    "last_accessed": "2026-01-02T00:00:00Z",
    "promoted_from": None,
    "ttl_seconds": 604800,
    "branch": "feature/x",
    "promoted_plan_id": "p0",
    "promoted_mode": "move",
    "promoted_at": "2026-01-01T12:00:00Z",
}
REFS = {
    "refs": [
        {
            "node_id": "source.people",
            "output_path": "target/cache/source/people.parquet",
            "fingerprint": "f0",
            "output_digest": "d0",
        }
    ]
}
PROMOTION = {
    "id": "abc123",
    "env": "dev",
    "plan_id": "p1",
    "git_commit": None,
    "time": "2026-01-02T03:04:05.000000Z",
    "mode": "copy",
    "nodes": ["transform.adults"],
    "removed_nodes": [],
    "manifest_fingerprint": "m1",
}
MANIFEST = {
    "schema_version": "2.0",
    "metadata": {"project": "p", "seeknal_version": "0", "generated_at": "t"},
    "fingerprint": "m1",
    "nodes": {"source.people": {"type": "source", "name": "people", "fingerprint": "f0"}},
    "edges": [],
}

# each record, the file it reads, and a valid example of that file
CASES: dict[str, tuple[Any, Path, dict[str, Any]]] = {
    "run_state": (RunState, ENV / "run_state.json", RUN_STATE),
    "plan": (Plan, ENV / "plan.json", PLAN),
    "env_config": (EnvConfig, ENV / "env_config.json", {"schema_version": "1.0", **ENV_CONFIG}),
    "refs": (Refs, ENV / "refs.json", {"schema_version": "1.0", **REFS}),
    "promotion": (
        Promotion,
        Path("/p/target/promotions.jsonl"),
        {"schema_version": "1.0", **PROMOTION},
    ),
    "manifest": (Manifest, ENV / "manifest.json", MANIFEST),
}


@pytest.mark.parametrize("record, path, data", CASES.values(), ids=CASES.keys())
def test_round_trip_keeps_every_key(record: Any, path: Path, data: dict[str, Any]) -> None:
    read = record.from_json(json.loads(json.dumps(data)), path)
    assert read.to_json() == data
    assert record.from_json(read.to_json(), path) == read


def test_records_are_typed() -> None:
    state = RunState.from_json(RUN_STATE, ENV / "run_state.json")
    assert state.plan_id == "p1" and state.forced is False
    assert state.nodes["transform.adults"] == NodeState(**NODE)
    assert state.nodes["transform.bad"].warnings == ("careful",)
    assert state.nodes["source.people"].ref and state.nodes["source.people"].ok
    assert not state.nodes["transform.bad"].ok
    plan = Plan.from_json(PLAN, ENV / "plan.json")
    assert plan.nodes_to_execute == ("transform.adults",) and plan.total_nodes_to_execute == 1
    refs = Refs.from_json(REFS, ENV / "refs.json")
    assert refs.by_node()["source.people"] == Ref(
        "source.people", "target/cache/source/people.parquet", "f0", "d0"
    )


def test_files_without_schema_version_read_the_same() -> None:
    for record, path, data in CASES.values():
        old = {k: v for k, v in data.items() if k != "schema_version"}
        assert record.from_json(old, path) == record.from_json(data, path)
    # production's run state before env keys existed, and a config without its name
    old_state = RunState.from_json({"nodes": {"source.people": {"status": "success"}}}, "x")
    assert old_state.nodes["source.people"].status == "success" and old_state.plan_id is None
    assert "plan_id" not in old_state.to_json() and old_state.to_json()["schema_version"] == "2.0"
    assert EnvConfig.from_json({}, ENV / "env_config.json").name == "dev"


def test_files_without_a_schema_version_read_as_their_first_version() -> None:
    # env_config.json, refs.json and promotions.jsonl were first written without the key
    assert "schema_version" not in REFS and "schema_version" not in ENV_CONFIG
    assert Refs.from_json(REFS, "refs.json").to_json() == {"schema_version": "1.0", **REFS}
    assert EnvConfig.from_json(ENV_CONFIG, "c").to_json()["schema_version"] == "1.0"
    assert Promotion.from_json(PROMOTION, "h").to_json()["schema_version"] == "1.0"
    for record in (RunState(), Manifest()):
        assert record.to_json()["schema_version"] == "2.0"


def test_a_plan_between_revisions_has_no_saved_plan_keys() -> None:
    revision = {k: v for k, v in PLAN.items() if k not in ("schema_version", "plan_id")}
    revision = {
        k: v for k, v in revision.items() if k not in ("created_at", "profile_path", "run_id")
    }
    revision.pop("params")
    plan = Plan.from_json(revision, "plan")
    assert plan.plan_id is None and plan.to_json() == revision
    saved = plan.saved("p2", "now", None, "r2", {})
    assert saved.to_json()["plan_id"] == "p2" and saved.to_json()["schema_version"] == "2.0"


WRONG = {
    "run-state-node-number": (
        RunState,
        "run_state.json",
        {"nodes": {"source.people": 5}},
        "'nodes' entry 'source.people' is a number",
    ),
    "run-state-rows-text": (
        RunState,
        "run_state.json",
        {"nodes": {"source.people": {"row_count": "5"}}},
        "'nodes' entry 'source.people' has 'row_count' as a string",
    ),
    "run-state-list": (RunState, "run_state.json", [], "a JSON object was expected, not a list"),
    "plan-to-execute": (Plan, "plan.json", {"nodes_to_execute": "a"}, "'nodes_to_execute' is"),
    "plan-git": (Plan, "plan.json", {"git": []}, "'git' is a list"),
    "plan-version": (Plan, "plan.json", {"schema_version": 2}, "'schema_version' is a number"),
    "config-ttl": (EnvConfig, "env_config.json", {"ttl_seconds": "abc"}, "'ttl_seconds' is"),
    "config-branch": (EnvConfig, "env_config.json", {"branch": 1}, "'branch' is a number"),
    "refs-entry": (Refs, "refs.json", {"refs": [{"node_id": "a"}]}, "has no text 'output_path'"),
    "refs-object": (Refs, "refs.json", {"refs": {}}, "'refs' is an object"),
    "promotion-nodes": (Promotion, "promotions.jsonl", {"nodes": "a"}, "'nodes' is a string"),
    "manifest-nodes": (Manifest, "manifest.json", {"nodes": []}, "'nodes' is a list"),
    "manifest-entry": (
        Manifest,
        "manifest.json",
        {"nodes": {"a.b": {"type": "source", "name": "b"}}},
        "'nodes' entry 'a.b' has no text 'fingerprint'",
    ),
}


@pytest.mark.parametrize("record, name, data, problem", WRONG.values(), ids=WRONG.keys())
def test_wrong_types_name_the_file_and_the_way_out(
    record: Any, name: str, data: Any, problem: str
) -> None:
    path = ENV / name
    with pytest.raises(StateError) as caught:
        record.from_json(data, path, "Delete it and plan again.")
    assert str(path) in caught.value.message
    assert "has an unexpected shape" in caught.value.message
    assert problem in caught.value.message
    assert caught.value.hint == "Delete it and plan again."
    with pytest.raises(StateError) as caught:
        record.from_json(data, path)
    assert caught.value.hint  # a generic way out when the caller names none
