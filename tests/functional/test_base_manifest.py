"""`plan ENV` reads production's manifest through a memo of its node hashes
(seeknal/state/base_manifest.py): only the entries of changed or removed nodes are parsed. The
plans it makes are the plans a full read makes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import cli, git
from envkit import ADULTS, NAMES, edit, env_json, env_project

from seeknal.context import Context
from seeknal.state import base_manifest
from seeknal.state.base_manifest import read_base_manifest
from seeknal.state.store import read_manifest

KEYS = ("categorized_changes", "reasons", "nodes_to_execute", "added_nodes", "removed_nodes")


@pytest.fixture
def proj(git_project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # as if production's manifest had been written long ago: it may be remembered at once
    monkeypatch.setattr(base_manifest, "RACY_SECONDS", -1.0)
    env_project(git_project)
    git(git_project, "add", "-A")
    git(git_project, "commit", "-q", "-m", "env project")
    assert cli(git_project, "run").exit_code == 0
    return git_project


def hashes(root: Path) -> dict[str, tuple[str, str]]:
    loaded = Context(root).load()
    return {n: (fp.content, fp.metadata) for n, fp in loaded.fingerprints.items()}


def plan_of(root: Path, env: str) -> dict[str, Any]:
    assert cli(root, "plan", env).exit_code == 0
    plan = env_json(root, env, "plan.json")
    return {k: plan[k] for k in (*KEYS, "base_fingerprint", "base_nodes")}


def test_the_memo_gives_changed_entries_in_full_and_hashes_of_the_rest(proj: Path) -> None:
    full = read_manifest(Context(proj).production)
    assert full is not None
    memo: dict[str, Any] = {}
    production = Context(proj).production
    assert read_base_manifest(production, memo, hashes(proj)) == full  # first: read in full
    assert len(memo) == 1
    edit(proj, ADULTS, "WHERE age >= 18", "WHERE age >= 30")
    (proj / NAMES).unlink()
    seen = read_base_manifest(production, memo, hashes(proj))
    assert seen.fingerprint == full.fingerprint and set(seen.nodes) == set(full.nodes)
    whole = {"transform.adults", "transform.names"}  # changed, removed
    for node_id, entry in seen.nodes.items():
        if node_id in whole:
            assert entry == full.nodes[node_id]
        else:
            assert entry == {k: full.nodes[node_id][k] for k in ("content_hash", "metadata_hash")}
    # a manifest written since is read in full again
    assert cli(proj, "run").exit_code == 0
    assert read_base_manifest(production, memo, hashes(proj)) == read_manifest(production)


def test_plans_through_the_memo_are_the_plans_of_a_full_read(proj: Path) -> None:
    assert cli(proj, "plan", "warmup").exit_code == 0  # remembers production's hashes
    edit(proj, ADULTS, "WHERE age >= 18", "WHERE age >= 30")
    edit(proj, "seeknal/transforms/city_counts.yml", "kind: transform", "kind: transform\n# x")
    (proj / NAMES).unlink()
    through_memo = plan_of(proj, "dev")
    assert through_memo["categorized_changes"]["transform.adults"] == "breaking"
    assert through_memo["categorized_changes"]["transform.names"] == "removed"
    assert set(through_memo["base_nodes"]) == {"transform.adults", "transform.names"}
    for cache in (proj / "target" / ".seeknal-cache").iterdir():
        cache.unlink()
    assert plan_of(proj, "other") == through_memo
