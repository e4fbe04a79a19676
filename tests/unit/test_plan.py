"""Production plan decisions: pure functions over fingerprints and the last run state."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import small_project

from seeknal.context import Context, Loaded
from seeknal.planning.production import Decision, production_decisions

ALL = ["source.people", "transform.adults", "transform.city_counts", "transform.names"]


@pytest.fixture
def loaded(tmp_path: Path) -> Loaded:
    return Context(small_project(tmp_path)).load()


def state_of(loaded: Loaded, **overrides: dict[str, Any]) -> dict[str, Any]:
    """A run state in which every node succeeded with its current fingerprint."""
    nodes = {
        nid: {"hash": fp.fingerprint, "status": "success"}
        for nid, fp in loaded.fingerprints.items()
    }
    for nid, change in overrides.items():
        nodes[nid.replace("__", ".")] = {**nodes[nid.replace("__", ".")], **change}
    return nodes


def manifest_of(loaded: Loaded) -> dict[str, Any]:
    return loaded.manifest()["nodes"]


def decide(
    loaded: Loaded, state: dict[str, Any], present: set[str] | None = None, **kw: Any
) -> dict[str, Decision]:
    decisions = production_decisions(
        loaded.project,
        loaded.dag,
        loaded.fingerprints,
        state,
        manifest_of(loaded),
        set(ALL) if present is None else present,
        **kw,
    )
    assert [d.node_id for d in decisions] == list(loaded.project.order)
    return {d.node_id: d for d in decisions}


def to_run(decisions: dict[str, Decision]) -> set[str]:
    return {nid for nid, d in decisions.items() if d.run}


def test_first_run_runs_every_node_as_new(loaded: Loaded) -> None:
    decisions = decide(loaded, {}, present=set())
    assert to_run(decisions) == set(ALL)
    assert {d.reason for d in decisions.values()} == {"new node"}


def test_nothing_runs_when_nothing_changed(loaded: Loaded) -> None:
    decisions = decide(loaded, state_of(loaded))
    assert to_run(decisions) == set()
    assert {d.reason for d in decisions.values()} == {"unchanged"}


def test_changed_node_runs_with_its_downstream_and_reasons(loaded: Loaded) -> None:
    decisions = decide(loaded, state_of(loaded, transform__adults={"hash": "old"}))
    assert to_run(decisions) == {"transform.adults", "transform.city_counts"}
    assert decisions["transform.city_counts"].reason == "upstream transform.adults runs"
    assert decisions["transform.names"].reason == "unchanged"


def test_changed_source_data_is_named_as_the_reason(loaded: Loaded) -> None:
    previous = manifest_of(loaded)
    previous["source.people"] = {
        **previous["source.people"],
        "content_hash": "x",
        "data_digest": "older",
    }
    decisions = production_decisions(
        loaded.project,
        loaded.dag,
        loaded.fingerprints,
        state_of(loaded, source__people={"hash": "old"}),
        previous,
        set(ALL),
    )
    by_id = {d.node_id: d for d in decisions}
    assert by_id["source.people"].reason == "source data changed"
    assert {d.node_id for d in decisions if d.run} == set(ALL)


def test_missing_output_reruns_the_node_and_downstream(loaded: Loaded) -> None:
    decisions = decide(loaded, state_of(loaded), present=set(ALL) - {"transform.adults"})
    assert to_run(decisions) == {"transform.adults", "transform.city_counts"}
    assert decisions["transform.adults"].reason == "output file missing"


@pytest.mark.parametrize("status", ["failed", "skipped"])
def test_failed_or_skipped_nodes_run_again(loaded: Loaded, status: str) -> None:
    decisions = decide(loaded, state_of(loaded, transform__city_counts={"status": status}))
    assert to_run(decisions) == {"transform.city_counts"}
    assert "last run" in decisions["transform.city_counts"].reason


def test_full_runs_everything(loaded: Loaded) -> None:
    decisions = decide(loaded, state_of(loaded), full=True)
    assert to_run(decisions) == set(ALL)
    assert {d.reason for d in decisions.values()} == {"--full"}


def test_selection_runs_only_the_selected_set(loaded: Loaded) -> None:
    selected = {"transform.adults", "transform.city_counts"}
    decisions = decide(loaded, state_of(loaded), selected=selected)
    assert to_run(decisions) == selected


def test_a_node_whose_only_upstream_moved_names_the_upstream(loaded: Loaded) -> None:
    # adults' own content is what the last manifest recorded; only its upstream moved
    state = state_of(
        loaded, source__people={"hash": "old-people"}, transform__adults={"hash": "old-adults"}
    )
    decisions = decide(loaded, state)
    assert decisions["source.people"].run
    assert decisions["transform.adults"].reason == "upstream source.people runs"


def test_upstream_moved_but_not_running_still_reruns_the_node(loaded: Loaded) -> None:
    decisions = decide(loaded, state_of(loaded, transform__adults={"hash": "old-adults"}))
    assert decisions["transform.adults"].run
    assert decisions["transform.adults"].reason == "inputs changed since its last run"
    assert decisions["transform.city_counts"].reason == "upstream transform.adults runs"
