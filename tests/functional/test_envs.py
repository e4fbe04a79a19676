"""Virtual environments end to end through the CLI, in real git repositories (docs/concepts.md):
plan → run --env → promote, isolation from production, refs, staleness, promote guards,
metadata-only and removed nodes, --copy-data, history, env → env promotion, --parallel."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import cli, git, manifest, output, ran, rows, run_json, run_state, seeknal_cmd
from envkit import (
    ADULTS,
    ADULTS_DOWNSTREAM,
    NAMES,
    big_people_csv,
    edit,
    env_dir,
    env_json,
    env_project,
    outputs_digests,
    production_digests,
    promotions,
    read_json,
    sha,
)

STALE = "Plan is stale -- manifest has changed since plan was created"
REFRESH = "Run 'seeknal plan dev' to refresh, or use --force to apply anyway"
# promote has no --force: its hint sends the user back through plan and run
REFRESH_PROMOTE = "Run 'seeknal plan dev' and 'seeknal run --env dev' again, then promote."


@pytest.fixture
def proj(git_project: Path) -> Path:
    """The env project, committed, with production run once."""
    env_project(git_project)
    git(git_project, "add", "-A")
    git(git_project, "commit", "-q", "-m", "env project")
    res = cli(git_project, "run")
    assert res.exit_code == 0, res.output
    return git_project


def env_output(root: Path, env: str, node_id: str) -> Path:
    kind, name = node_id.split(".", 1)
    return env_dir(root, env) / "cache" / kind / f"{name}.parquet"


def plan_apply(root: Path, env: str = "dev", *extra: str) -> None:
    res = cli(root, "plan", env)
    assert res.exit_code == 0, res.output
    res = cli(root, "run", "--env", env, *extra)
    assert res.exit_code == 0, res.output


def adults_30(root: Path) -> None:
    edit(root, ADULTS, "WHERE age >= 18", "WHERE age >= 30")


# --------------------------------------------------------------------------------------------
# the whole cycle


def test_plan_run_promote_cycle(proj: Path) -> None:
    prod_before = production_digests(proj)
    prod_fp = manifest(proj)["fingerprint"]
    prod_export = (proj / "exports/adults.csv").read_bytes()
    adults_30(proj)

    # plan: categories, reasons, downstream impact, total, where it was saved
    res = cli(proj, "plan", "dev")
    assert res.exit_code == 0, res.output
    text = res.stdout
    assert "Modified nodes:" in text and "Downstream impact:" in text
    assert "transform.adults" in text and "breaking" in text and "filter on age" in text
    for node_id in ADULTS_DOWNSTREAM:
        assert node_id in text
    assert "indirect_breaking" in text and "upstream transform.adults is breaking" in text
    assert "Nodes to execute: 5 (reading 2 unchanged node(s) from production)" in text
    assert "Plan saved to target/environments/dev/plan.json" in text
    assert "seeknal run --env dev" in text
    assert production_digests(proj) == prod_before

    plan = env_json(proj, "dev", "plan.json")
    assert plan["env_name"] == "dev"
    assert plan["base_fingerprint"] == prod_fp
    assert plan["categorized_changes"]["transform.adults"] == "breaking"
    assert {plan["categorized_changes"][n] for n in ADULTS_DOWNSTREAM} == {"indirect_breaking"}
    assert set(plan["nodes_to_execute"]) == {"transform.adults"} | ADULTS_DOWNSTREAM
    assert plan["total_nodes_to_execute"] == 5
    assert plan["added_nodes"] == [] and plan["removed_nodes"] == []
    assert plan["created_at"].endswith("Z") and len(plan["plan_id"]) >= 8
    assert "profile_path" in plan and "filter" in plan["reasons"]["transform.adults"]
    config = env_json(proj, "dev", "env_config.json")
    assert config["name"] == "dev" and config["promoted_from"] is None
    assert config["ttl_seconds"] == 604800

    # refs: the unchanged nodes, pointing at production files
    refs = {r["node_id"]: r for r in env_json(proj, "dev", "refs.json")["refs"]}
    assert set(refs) == {"source.people", "transform.names"}
    state = run_state(proj)["nodes"]
    for node_id, ref in refs.items():
        assert ref["output_path"] == f"target/cache/{node_id.replace('.', '/')}.parquet"
        assert ref["fingerprint"] == state[node_id]["hash"]
        assert (proj / ref["output_path"]).is_file()

    # run --env: only the plan's nodes, into the env; production untouched byte for byte
    res = cli(proj, "run", "--env", "dev")
    assert res.exit_code == 0, res.output
    assert "Applying plan to env 'dev': 5 node(s) to run" in res.stdout
    assert "5 succeeded, 0 failed" in res.stdout
    assert production_digests(proj) == prod_before
    env_files = sorted(
        p.relative_to(env_dir(proj, "dev")).as_posix()
        for p in env_dir(proj, "dev").rglob("*")
        if p.is_file()
    )
    assert env_files == [
        "cache/profile/adults_profile.parquet",
        "cache/rule/adults_unique.parquet",
        "cache/transform/adults.parquet",
        "cache/transform/city_counts.parquet",
        "env_config.json",
        "exports/adults.csv",
        "manifest.json",
        "plan.json",
        "refs.json",
        "run_state.json",
    ]
    # refs are read in place: not copied into the env
    assert not env_output(proj, "dev", "source.people").exists()
    assert not env_output(proj, "dev", "transform.names").exists()
    assert rows(env_output(proj, "dev", "transform.adults"), "SELECT name FROM t ORDER BY 1") == [
        ("Ann",),
        ("Cid",),
    ]
    assert rows(env_output(proj, "dev", "transform.city_counts")) == [("Oslo", 1), ("Rome", 1)]
    assert rows(env_dir(proj, "dev") / "exports/adults.csv", "SELECT count(*) FROM t") == [(2,)]
    env_state = env_json(proj, "dev", "run_state.json")
    assert env_state["plan_id"] == plan["plan_id"]
    assert env_state["nodes"]["source.people"]["ref"] is True
    assert (
        env_state["nodes"]["source.people"]["output_path"] == "target/cache/source/people.parquet"
    )
    assert env_state["nodes"]["transform.adults"]["output_path"] == (
        "target/environments/dev/cache/transform/adults.parquet"
    )
    assert cli(proj, "env", "list", "--json").json()[0]["status"] == "applied"

    # promote: outputs are renamed into production (same inode), state becomes the env's
    inode = env_output(proj, "dev", "transform.adults").stat().st_ino
    res = cli(proj, "promote", "dev")
    assert res.exit_code == 0, res.output
    assert "Promoted env 'dev' to production" in res.stdout
    assert "5 output(s) moved, 0 removed" in res.stdout
    assert output(proj, "transform.adults").stat().st_ino == inode
    assert rows(output(proj, "transform.adults"), "SELECT name FROM t ORDER BY 1") == [
        ("Ann",),
        ("Cid",),
    ]
    assert rows(output(proj, "transform.city_counts")) == [("Oslo", 1), ("Rome", 1)]
    assert (proj / "exports/adults.csv").read_bytes() != prod_export
    assert rows(proj / "exports/adults.csv", "SELECT count(*) FROM t") == [(2,)]
    assert manifest(proj)["fingerprint"] == plan["manifest_fingerprint"]
    assert "age >= 30" in manifest(proj)["nodes"]["transform.adults"]["sql"]
    prod_state = run_state(proj)["nodes"]
    assert prod_state["transform.adults"]["output_path"] == "target/cache/transform/adults.parquet"
    assert prod_state["transform.adults"]["output_digest"] == sha(output(proj, "transform.adults"))
    # unchanged nodes kept their production files
    for rel in ("target/cache/source/people.parquet", "target/cache/transform/names.parquet"):
        assert sha(proj / rel) == prod_before[rel]
    [line] = promotions(proj)
    assert line["env"] == "dev" and line["plan_id"] == plan["plan_id"]
    assert sorted(line["nodes"]) == sorted({"transform.adults"} | ADULTS_DOWNSTREAM)
    assert line["time"].endswith("Z")
    assert cli(proj, "env", "list", "--json").json()[0]["status"] == "promoted"

    # production has nothing left to do
    res, summary = run_json(proj)
    assert res.exit_code == 0, res.output
    assert ran(summary) == set()
    # promoting the same plan twice is refused
    res = cli(proj, "promote", "dev")
    assert res.exit_code == 1
    assert "already been promoted" in res.stderr and "seeknal plan dev" in res.stderr


def test_first_plan_without_production_adds_every_node(git_project: Path) -> None:
    env_project(git_project)
    res = cli(git_project, "plan", "dev", "--json")
    assert res.exit_code == 0, res.output
    plan = res.json()
    assert plan["base_fingerprint"] is None
    assert set(plan["categorized_changes"].values()) == {"added"}
    assert len(plan["nodes_to_execute"]) == 7
    assert env_json(git_project, "dev", "refs.json") == {"schema_version": "1.0", "refs": []}
    plan_apply(git_project)
    assert not (git_project / "target/cache").exists()
    res = cli(git_project, "promote", "dev")
    assert res.exit_code == 0, res.output
    assert rows(output(git_project, "transform.adults"), "SELECT count(*) FROM t") == [(3,)]
    res, summary = run_json(git_project)
    assert res.exit_code == 0 and ran(summary) == set()


def test_plan_records_the_profile(proj: Path) -> None:
    (proj / "profiles-dev.yml").write_text("default: {}\n")
    adults_30(proj)
    cli(proj, "plan", "dev")
    assert env_json(proj, "dev", "plan.json")["profile_path"] == str(proj / "profiles-dev.yml")
    (proj / "mine.yml").write_text("default: {}\n")
    cli(proj, "plan", "dev", "--profile", "mine.yml")
    assert env_json(proj, "dev", "plan.json")["profile_path"] in (
        "mine.yml",
        str(proj / "mine.yml"),
    )


# --------------------------------------------------------------------------------------------
# staleness and --force


def test_yaml_edit_after_plan_makes_run_and_promote_stale(proj: Path) -> None:
    adults_30(proj)
    assert cli(proj, "plan", "dev").exit_code == 0
    edit(proj, ADULTS, "WHERE age >= 30", "WHERE age >= 40")
    before = production_digests(proj)
    res = cli(proj, "run", "--env", "dev")
    assert res.exit_code == 1
    assert STALE in res.stderr and REFRESH in res.stderr
    assert not env_output(proj, "dev", "transform.adults").exists()

    # applied, then edited: promote refuses too
    edit(proj, ADULTS, "WHERE age >= 40", "WHERE age >= 30")
    assert cli(proj, "run", "--env", "dev").exit_code == 0
    edit(proj, NAMES, "upper(name)", "lower(name)")
    res = cli(proj, "promote", "dev")
    assert res.exit_code == 1
    assert STALE in res.stderr and REFRESH_PROMOTE in res.stderr and "--force" not in res.stderr
    assert production_digests(proj) == before
    assert promotions(proj) == []


def test_promoting_another_env_makes_dev_stale(proj: Path) -> None:
    adults_30(proj)
    plan_apply(proj, "dev")
    edit(proj, ADULTS, "WHERE age >= 30", "WHERE age >= 18")
    edit(proj, NAMES, "upper(name)", "lower(name)")
    plan_apply(proj, "other")
    assert cli(proj, "promote", "other").exit_code == 0
    # the YAML now matches what dev planned, but production moved on
    edit(proj, NAMES, "lower(name)", "upper(name)")
    adults_30(proj)
    listed = {r["name"]: r["status"] for r in cli(proj, "env", "list", "--json").json()}
    assert listed == {"dev": "stale", "other": "promoted"}
    for args, hint in ((["run", "--env", "dev"], REFRESH), (["promote", "dev"], REFRESH_PROMOTE)):
        res = cli(proj, *args)
        assert res.exit_code == 1, args
        assert STALE in res.stderr and hint in res.stderr
    assert rows(output(proj, "transform.names"), "SELECT name FROM t ORDER BY 1")[0] == ("ann",)


def test_force_applies_the_planned_snapshot_not_the_edited_yaml(proj: Path) -> None:
    adults_30(proj)
    assert cli(proj, "plan", "dev").exit_code == 0
    edit(proj, ADULTS, "WHERE age >= 30", "WHERE age >= 40")
    res = cli(proj, "run", "--env", "dev", "--force")
    assert res.exit_code == 0, res.output
    # age >= 30 (planned): Ann 34 and Cid 45; the edited YAML would give only Cid
    assert rows(env_output(proj, "dev", "transform.adults"), "SELECT name FROM t ORDER BY 1") == [
        ("Ann",),
        ("Cid",),
    ]
    assert env_json(proj, "dev", "run_state.json")["forced"] is True
    # the plan is still stale against the YAML: promote refuses it
    res = cli(proj, "promote", "dev")
    assert res.exit_code == 1 and STALE in res.stderr


# --------------------------------------------------------------------------------------------
# refused commands


def test_missing_env_is_reported_with_the_command_to_create_it(proj: Path) -> None:
    for args in (["run", "--env", "dev"], ["promote", "dev"], ["env", "apply", "dev"]):
        res = cli(proj, *args)
        assert res.exit_code == 1, args
        assert "Environment 'dev' not found" in res.stderr
        assert "seeknal plan dev" in res.stderr
    assert not (proj / "target/environments").exists()


def test_promote_before_apply_is_refused(proj: Path) -> None:
    adults_30(proj)
    assert cli(proj, "plan", "dev").exit_code == 0
    before = production_digests(proj)
    res = cli(proj, "promote", "dev")
    assert res.exit_code == 1
    assert "Environment 'dev' has not been applied" in res.stderr
    assert "seeknal run --env dev" in res.stderr
    assert production_digests(proj) == before
    # a re-plan that changes nothing keeps the env applied ...
    assert cli(proj, "run", "--env", "dev").exit_code == 0
    plan_id = env_json(proj, "dev", "plan.json")["plan_id"]
    assert cli(proj, "plan", "dev").exit_code == 0
    assert env_json(proj, "dev", "plan.json")["plan_id"] == plan_id
    listed = {r["name"]: r["status"] for r in cli(proj, "env", "list", "--json").json()}
    assert listed["dev"] == "applied"
    # ... while a re-plan after an edit needs a new apply
    edit(proj, ADULTS, "WHERE age >= 30", "WHERE age >= 31")
    assert cli(proj, "plan", "dev").exit_code == 0
    res = cli(proj, "promote", "dev")
    assert res.exit_code == 1 and "has not been applied" in res.stderr


def test_changed_production_ref_past_first_4kb_blocks_promote(git_project: Path) -> None:
    env_project(git_project, people_csv=big_people_csv())
    assert cli(git_project, "run").exit_code == 0
    adults_30(git_project)
    plan_apply(git_project)
    people = output(git_project, "source.people")
    data = bytearray(people.read_bytes())
    assert len(data) > 3 * 4096
    at = len(data) // 2
    data[at] ^= 0xFF
    people.write_bytes(bytes(data))
    before = production_digests(git_project)
    res = cli(git_project, "promote", "dev")
    assert res.exit_code == 1
    assert "target/cache/source/people.parquet" in res.stderr
    assert "changed since env 'dev' was planned" in res.stderr
    assert "seeknal plan dev" in res.stderr
    assert production_digests(git_project) == before
    res = cli(git_project, "run", "--env", "dev")
    assert res.exit_code == 1 and "target/cache/source/people.parquet" in res.stderr


# --------------------------------------------------------------------------------------------
# metadata-only, removed nodes


def test_metadata_only_change_executes_nothing_and_promote_updates_the_manifest(
    proj: Path,
) -> None:
    outputs = outputs_digests(proj)
    edit(proj, ADULTS, "description: People aged 18 or more.", "description: Grown-ups only.")
    res = cli(proj, "plan", "dev")
    assert res.exit_code == 0, res.output
    assert "metadata" in res.stdout and "description changed" in res.stdout
    assert "Nodes to execute: 0" in res.stdout
    plan = env_json(proj, "dev", "plan.json")
    assert plan["categorized_changes"] == {"transform.adults": "metadata"}
    assert plan["nodes_to_execute"] == []
    res = cli(proj, "run", "--env", "dev")
    assert res.exit_code == 0, res.output
    assert not (env_dir(proj, "dev") / "cache").exists()
    res = cli(proj, "promote", "dev")
    assert res.exit_code == 0, res.output
    assert "0 output(s) moved, 0 removed" in res.stdout
    assert manifest(proj)["nodes"]["transform.adults"]["description"] == "Grown-ups only."
    assert outputs_digests(proj) == outputs
    res, summary = run_json(proj)
    assert ran(summary) == set()
    assert promotions(proj)[0]["nodes"] == []


def test_removed_node_output_is_deleted_on_promote(proj: Path) -> None:
    names_out = output(proj, "transform.names")
    assert names_out.is_file()
    (proj / NAMES).unlink()
    res = cli(proj, "plan", "dev")
    assert res.exit_code == 0, res.output
    assert "Removed nodes:" in res.stdout and "transform.names" in res.stdout
    assert env_json(proj, "dev", "plan.json")["removed_nodes"] == ["transform.names"]
    assert cli(proj, "run", "--env", "dev").exit_code == 0
    assert names_out.is_file()  # still production's until promoted
    res = cli(proj, "promote", "dev")
    assert res.exit_code == 0, res.output
    assert "1 removed" in res.stdout
    assert not names_out.exists()
    assert "transform.names" not in run_state(proj)["nodes"]
    assert "transform.names" not in manifest(proj)["nodes"]
    res, summary = run_json(proj)
    assert ran(summary) == set() and summary["removed_outputs"] == []


# --------------------------------------------------------------------------------------------
# --copy-data, history, env → env, parallel


def test_copy_data_keeps_the_env_and_production_gets_identical_copies(proj: Path) -> None:
    adults_30(proj)
    plan_apply(proj)
    env_files = {p: sha(p) for p in (env_dir(proj, "dev") / "cache").rglob("*.parquet")}
    assert len(env_files) == 4
    res = cli(proj, "promote", "dev", "--copy-data")
    assert res.exit_code == 0, res.output
    assert "5 output(s) copied" in res.stdout
    for path, digest in env_files.items():
        assert sha(path) == digest
        prod = proj / "target/cache" / path.relative_to(env_dir(proj, "dev") / "cache")
        assert sha(prod) == digest
        assert prod.stat().st_ino != path.stat().st_ino
    assert (env_dir(proj, "dev") / "exports/adults.csv").read_bytes() == (
        proj / "exports/adults.csv"
    ).read_bytes()
    assert promotions(proj)[0]["mode"] == "copy"
    res, summary = run_json(proj)
    assert ran(summary) == set()


def test_promotion_history_has_one_line_per_promote(proj: Path) -> None:
    adults_30(proj)
    plan_apply(proj)
    first = env_json(proj, "dev", "plan.json")["plan_id"]
    assert cli(proj, "promote", "dev").exit_code == 0
    edit(proj, NAMES, "upper(name)", "lower(name)")
    plan_apply(proj)
    second = env_json(proj, "dev", "plan.json")["plan_id"]
    assert cli(proj, "promote", "dev").exit_code == 0
    lines = promotions(proj)
    assert [(x["env"], x["plan_id"]) for x in lines] == [("dev", first), ("dev", second)]
    assert lines[1]["nodes"] == ["transform.names"]
    assert all(x["time"] for x in lines) and lines[0]["time"] <= lines[1]["time"]
    assert rows(output(proj, "transform.names"), "SELECT name FROM t ORDER BY 1")[0] == ("ann",)


def test_env_promote_chain_dev_to_staging_to_production(proj: Path) -> None:
    adults_30(proj)
    plan_apply(proj)
    res = cli(proj, "env", "promote", "dev", "staging")
    assert res.exit_code == 0, res.output
    config = env_json(proj, "staging", "env_config.json")
    assert config["name"] == "staging" and config["promoted_from"] == "dev"
    state = env_json(proj, "staging", "run_state.json")
    assert state["nodes"]["transform.adults"]["output_path"] == (
        "target/environments/staging/cache/transform/adults.parquet"
    )
    assert sha(env_output(proj, "staging", "transform.adults")) == sha(
        env_output(proj, "dev", "transform.adults")
    )
    listed = {r["name"]: r for r in cli(proj, "env", "list", "--json").json()}
    assert listed["staging"]["promoted_from"] == "dev"
    assert listed["staging"]["status"] == "applied"

    # staging can be run (nothing to recompute) and promoted; dev is then stale
    res = cli(proj, "run", "--env", "staging")
    assert res.exit_code == 0, res.output
    res = cli(proj, "promote", "staging")
    assert res.exit_code == 0, res.output
    assert rows(output(proj, "transform.adults"), "SELECT name FROM t ORDER BY 1") == [
        ("Ann",),
        ("Cid",),
    ]
    assert promotions(proj)[0]["env"] == "staging"
    # dev's own outputs were not moved by promoting staging
    assert env_output(proj, "dev", "transform.adults").is_file()
    res = cli(proj, "promote", "dev")
    assert res.exit_code == 1 and STALE in res.stderr
    res, summary = run_json(proj)
    assert ran(summary) == set()


def test_env_promote_into_itself_or_from_nothing_is_refused(proj: Path) -> None:
    adults_30(proj)
    plan_apply(proj)
    res = cli(proj, "env", "promote", "dev", "dev")
    assert res.exit_code == 1 and "same" in res.stderr
    res = cli(proj, "env", "promote", "nope", "staging")
    assert res.exit_code == 1 and "Environment 'nope' not found" in res.stderr
    assert not env_dir(proj, "staging").exists()


def test_parallel_env_run_gives_the_same_outputs(proj: Path, tmp_path: Path) -> None:
    adults_30(proj)
    twin = tmp_path / "twin"
    shutil.copytree(proj, twin)
    plan_apply(proj)
    plan_apply(twin, "dev", "--parallel", "--max-workers", "2")
    for node_id in ["transform.adults", *sorted(ADULTS_DOWNSTREAM - {"exposure.adults_export"})]:
        a, b = env_output(proj, "dev", node_id), env_output(twin, "dev", node_id)
        assert rows(a) == rows(b), node_id
    assert (
        read_json(env_dir(proj, "dev") / "run_state.json")["nodes"].keys()
        == read_json(env_dir(twin, "dev") / "run_state.json")["nodes"].keys()
    )
    assert cli(twin, "promote", "dev").exit_code == 0
    assert rows(output(twin, "transform.city_counts")) == [("Oslo", 1), ("Rome", 1)]
    assert os.path.exists(twin / "exports/adults.csv")


# --------------------------------------------------------------------------------------------
# non-breaking changes, failures, re-plans


def test_non_breaking_change_promotes_without_rebuilding_explicit_children(proj: Path) -> None:
    before = production_digests(proj)
    edit(
        proj, ADULTS, "SELECT id, name, age, city", "SELECT id, name, age, city, age * 12 AS months"
    )
    res = cli(proj, "plan", "dev", "--json")
    assert res.exit_code == 0, res.output
    plan = res.json()
    assert plan["categorized_changes"]["transform.adults"] == "non_breaking"
    assert "`months`" in plan["reasons"]["transform.adults"]
    # the profile and the exposure take every column; the rule and city_counts do not
    assert set(plan["nodes_to_execute"]) == {
        "transform.adults",
        "profile.adults_profile",
        "exposure.adults_export",
    }
    assert plan["categorized_changes"]["transform.city_counts"] == "indirect_non_breaking"
    refs = {r["node_id"] for r in env_json(proj, "dev", "refs.json")["refs"]}
    assert refs == {
        "source.people",
        "transform.names",
        "transform.city_counts",
        "rule.adults_unique",
    }
    assert cli(proj, "run", "--env", "dev").exit_code == 0
    assert cli(proj, "promote", "dev").exit_code == 0
    after = production_digests(proj)
    for rel in (
        "target/cache/transform/city_counts.parquet",
        "target/cache/rule/adults_unique.parquet",
    ):
        assert after[rel] == before[rel]
    assert (
        after["target/cache/transform/adults.parquet"]
        != before["target/cache/transform/adults.parquet"]
    )
    assert rows(output(proj, "transform.adults"), "SELECT months FROM t ORDER BY 1") == [
        (29 * 12,),
        (34 * 12,),
        (45 * 12,),
    ]
    assert "months" in (proj / "exports/adults.csv").read_text().splitlines()[0]
    res, summary = run_json(proj)
    assert res.exit_code == 0 and ran(summary) == set()


def test_failed_env_node_blocks_promote(proj: Path) -> None:
    edit(proj, ADULTS, "SELECT id, name, age, city", "SELECT id, name, age, city, nope")
    assert cli(proj, "plan", "dev").exit_code == 0
    before = production_digests(proj)
    res = cli(proj, "run", "--env", "dev")
    assert res.exit_code == 1
    assert "nope" in res.output and "transform.adults" in res.output
    state = env_json(proj, "dev", "run_state.json")["nodes"]
    assert state["transform.adults"]["status"] == "failed"
    # a new column: city_counts keeps production data, the exposure (every column) is skipped
    assert state["transform.city_counts"]["status"] == "cached"
    assert state["exposure.adults_export"]["status"] == "skipped"
    assert production_digests(proj) == before
    assert cli(proj, "env", "list", "--json").json()[0]["status"] == "failed"
    res = cli(proj, "promote", "dev")
    assert res.exit_code == 1
    assert "has nodes that did not succeed" in res.stderr
    assert "transform.adults (failed)" in res.stderr
    assert "exposure.adults_export (skipped)" in res.stderr
    assert production_digests(proj) == before


def test_second_apply_reuses_and_replan_drops_outputs_no_longer_planned(proj: Path) -> None:
    adults_30(proj)
    plan_apply(proj)
    adults_env = env_output(proj, "dev", "transform.adults")
    digest = sha(adults_env)
    res = cli(proj, "run", "--env", "dev")
    assert res.exit_code == 0
    assert "0 node(s) to run, 5 reused" in res.stdout
    assert sha(adults_env) == digest
    # back to production's adults, a change in names instead
    edit(proj, ADULTS, "WHERE age >= 30", "WHERE age >= 18")
    edit(proj, NAMES, "upper(name)", "lower(name)")
    res = cli(proj, "plan", "dev")
    assert res.exit_code == 0, res.output
    assert env_json(proj, "dev", "plan.json")["nodes_to_execute"] == ["transform.names"]
    assert not adults_env.exists()
    assert not env_output(proj, "dev", "transform.city_counts").exists()
    plan_apply(proj)
    assert cli(proj, "promote", "dev").exit_code == 0
    assert rows(output(proj, "transform.adults"), "SELECT count(*) FROM t") == [(3,)]
    assert rows(output(proj, "transform.names"), "SELECT name FROM t ORDER BY 1")[0] == ("ann",)


# --------------------------------------------------------------------------------------------
# more refusals: source data, missing refs, overrides, damaged state


def test_source_data_edit_after_plan_makes_it_stale(proj: Path) -> None:
    adults_30(proj)
    assert cli(proj, "plan", "dev").exit_code == 0
    with (proj / "data/people.csv").open("a") as handle:
        handle.write("6,Fay,51,Oslo\n")
    res = cli(proj, "run", "--env", "dev")
    assert res.exit_code == 1 and STALE in res.stderr
    res = cli(proj, "plan", "dev", "--json")
    assert res.json()["categorized_changes"]["source.people"] == "breaking"
    assert res.json()["reasons"]["source.people"] == "source data changed"


def test_missing_production_ref_is_named(proj: Path) -> None:
    adults_30(proj)
    assert cli(proj, "plan", "dev").exit_code == 0
    output(proj, "transform.names").unlink()
    res = cli(proj, "run", "--env", "dev")
    assert res.exit_code == 1
    assert "target/cache/transform/names.parquet" in res.stderr
    assert "transform.names" in res.stderr and "missing" in res.stderr


def test_category_overrides_on_the_command_line(proj: Path) -> None:
    adults_30(proj)
    res = cli(proj, "plan", "dev", "--non-breaking", "transform.adults", "--json")
    assert res.exit_code == 0, res.output
    plan = res.json()
    assert plan["categorized_changes"]["transform.adults"] == "non_breaking"
    assert "--non-breaking" in plan["reasons"]["transform.adults"]
    # explicit-column children keep production data, pass-through ones run
    assert set(plan["nodes_to_execute"]) == {
        "transform.adults",
        "profile.adults_profile",
        "exposure.adults_export",
    }
    # by name as well as by id
    res = cli(proj, "plan", "dev", "--breaking", "adults", "--json")
    assert res.exit_code == 0, res.output
    assert res.json()["categorized_changes"]["transform.city_counts"] == "indirect_breaking"
    planned = env_json(proj, "dev", "plan.json")
    res = cli(proj, "plan", "dev", "--breaking", "transform.names")
    assert res.exit_code == 1
    assert "transform.names" in res.stderr and "not directly changed" in res.stderr
    assert env_json(proj, "dev", "plan.json") == planned  # the failed plan wrote nothing
    res = cli(proj, "plan", "dev", "--breaking", "transform.nope")
    assert res.exit_code == 1 and "No node 'transform.nope'" in res.stderr


def test_damaged_env_state_is_reported_by_path(proj: Path) -> None:
    adults_30(proj)
    plan_apply(proj)
    assert cli(proj, "plan", "other").exit_code == 0
    plan_path = env_dir(proj, "dev") / "plan.json"
    plan_path.write_text(plan_path.read_text()[:40])
    for args in (["run", "--env", "dev"], ["promote", "dev"]):
        res = cli(proj, *args)
        assert res.exit_code == 1, args
        assert "target/environments/dev/plan.json" in res.stderr
        assert "corrupt or truncated" in res.stderr
        assert "seeknal plan dev" in res.stderr
    # a damaged env does not hide the others
    listed = {r["name"]: r["status"] for r in cli(proj, "env", "list", "--json").json()}
    assert listed == {"dev": "corrupt", "other": "planned"}
    # planning again repairs it
    plan_apply(proj)
    assert cli(proj, "promote", "dev").exit_code == 0


def test_replan_keeps_a_plan_only_while_its_manifest_is_intact(proj: Path) -> None:
    """A re-plan deciding the same keeps the plan without reading the env's manifest in full
    (seeknal knows the file it wrote); a manifest changed since is read, and a damaged one
    makes the re-plan write the env again."""
    adults_30(proj)
    plan_apply(proj)
    plan_id = env_json(proj, "dev", "plan.json")["plan_id"]
    assert cli(proj, "plan", "dev").exit_code == 0
    assert env_json(proj, "dev", "plan.json")["plan_id"] == plan_id
    path = env_dir(proj, "dev") / "manifest.json"
    text = path.read_text()
    path.write_text(text[: len(text) // 2])
    assert cli(proj, "plan", "dev").exit_code == 0
    assert env_json(proj, "dev", "plan.json")["plan_id"] != plan_id
    assert env_json(proj, "dev", "manifest.json") == json.loads(text) | {
        "metadata": env_json(proj, "dev", "manifest.json")["metadata"]
    }
    plan_apply(proj)
    assert cli(proj, "promote", "dev").exit_code == 0


# --------------------------------------------------------------------------------------------
# placeholders rendered at plan time: {{ run_id }} and --params


def test_plan_using_run_id_and_params_can_be_applied_and_promoted(git_project: Path) -> None:
    env_project(git_project)
    tagged = "seeknal/transforms/tagged.yml"
    (git_project / tagged).write_text(
        "kind: transform\nname: tagged\ninputs:\n  - ref: transform.adults\n"
        "transform: |\n  SELECT id, '{{ region }}' AS region, '{{ run_id }}' AS run\n"
        "  FROM ref('transform.adults')\n"
    )
    assert cli(git_project, "run", "--params", '{"region": "eu"}').exit_code == 0
    adults_30(git_project)
    res = cli(git_project, "plan", "dev", "--params", '{"region": "us"}')
    assert res.exit_code == 0, res.output
    plan = env_json(git_project, "dev", "plan.json")
    assert plan["params"] == {"region": "us"}
    # another process, another run id, no --params: still the same project as planned
    res = cli(git_project, "run", "--env", "dev")
    assert res.exit_code == 0, res.output
    tagged_rows = rows(env_output(git_project, "dev", "transform.tagged"), "SELECT * FROM t")
    assert {(r[1], r[2]) for r in tagged_rows} == {("us", plan["run_id"])}
    assert len(tagged_rows) == 2
    # a real edit is still noticed
    edit(git_project, tagged, "AS region", "AS area")
    res = cli(git_project, "promote", "dev")
    assert res.exit_code == 1 and STALE in res.stderr
    edit(git_project, tagged, "AS area", "AS region")
    res = cli(git_project, "promote", "dev")
    assert res.exit_code == 0, res.output
    assert rows(output(git_project, "transform.tagged"), "SELECT DISTINCT region FROM t") == [
        ("us",)
    ]


def test_copy_then_promote_keeps_the_chain(proj: Path) -> None:
    """The page's chain in the working order: copy dev to staging, then promote staging."""
    adults_30(proj)
    plan_apply(proj)
    assert cli(proj, "env", "promote", "dev", "staging").exit_code == 0
    assert env_json(proj, "staging", "env_config.json")["promoted_from"] == "dev"
    res = cli(proj, "promote", "staging")
    assert res.exit_code == 0, res.output
    assert "output(s) moved" in res.stdout
    run = cli(proj, "run")
    assert run.exit_code == 0 and "Nothing to do" in run.stdout


def trash_on_promote(proj: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An applied env whose promotion sends the replaced outputs straight to the trash (no
    history kept), deleted in the background."""
    monkeypatch.delenv("SEEKNAL_SYNC_CLEANUP")
    with (proj / "seeknal_project.yml").open("a") as handle:
        handle.write("history:\n  keep: 0\n")
    adults_30(proj)
    plan_apply(proj)


def promote_pausing_deleter(proj: Path, stdout: Any, stderr: Any) -> subprocess.Popen[bytes]:
    """`seeknal promote dev`, its background deleter paused before it deletes anything."""
    pause = {"SEEKNAL_FAILPOINT": "trash.delete", "SEEKNAL_FAILPOINT_MODE": "pause"}
    return subprocess.Popen(
        [sys.executable, "-m", "seeknal", "promote", "dev"],
        cwd=proj,
        stdout=stdout,
        stderr=stderr,
        env={**os.environ, **pause},
    )


def paused_deleter(log: Path) -> int | None:
    """The pid of the deleter paused at SEEKNAL_FAILPOINT=trash.delete, read from `log`."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = re.search(r"failpoint trash\.delete: paused \(pid (\d+)\)", log.read_text())
        if found:
            return int(found.group(1))
        time.sleep(0.05)
    return None


def test_promote_deletes_replaced_outputs_in_the_background(
    proj: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """By default the replaced production files go to target/.trash and a detached process
    deletes them, so promote does not wait on deleting large files.

    The deleter is paused before it deletes anything (SEEKNAL_FAILPOINT=trash.delete, pause
    mode): promote must return all the same, and the paused process must be another one.
    Deleting in the promote process would pause promote itself until the timeout.
    """
    trash_on_promote(proj, monkeypatch)
    replaced = output(proj, "transform.adults").read_bytes()
    log = tmp_path / "promote.log"
    deleter = None
    trash = proj / "target" / ".trash"
    try:
        # output to a file, not a pipe: the detached deleter inherits it and keeps it open
        with log.open("w") as out:
            promote = promote_pausing_deleter(proj, out, subprocess.STDOUT)
            try:
                assert promote.wait(timeout=60) == 0, log.read_text()
            except subprocess.TimeoutExpired:
                promote.kill()
                promote.wait()
                pytest.fail("promote waited for its replaced outputs to be deleted")
        deleter = paused_deleter(log)
        assert deleter is not None, f"no deleter reached the deletion:\n{log.read_text()}"
        assert deleter != promote.pid
        # promote is done, production is the env's, and the old output waits in the trash
        assert rows(output(proj, "transform.city_counts")) == [("Oslo", 1), ("Rome", 1)]
        assert replaced in [p.read_bytes() for p in trash.rglob("*.parquet")]
    finally:
        if deleter is not None:
            os.kill(deleter, signal.SIGKILL)
    # a deleter that died leaves the trash to the next command that changes target/
    run = cli(proj, "run")
    assert run.exit_code == 0 and "Nothing to do" in run.stdout
    assert not trash.exists()
    assert not (proj / "target" / ".txn").exists()

    # unpaused, the detached process deletes the trash by itself
    edit(proj, ADULTS, "WHERE age >= 30", "WHERE age >= 40")
    plan_apply(proj)
    res = seeknal_cmd(proj, "promote", "dev")
    assert res.exit_code == 0, res.output
    deadline = time.monotonic() + 10
    while trash.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not trash.exists()
    assert not (proj / "target" / ".txn").exists()
    run = cli(proj, "run")
    assert run.exit_code == 0 and "Nothing to do" in run.stdout


def test_the_background_deleter_does_not_hold_target_s_lock(
    proj: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The deleter is forked while promote holds target/'s lock, and inherits its descriptor:
    the next command that changes target/ must go ahead while the deleter still deletes (it
    waited for it, then failed: deleting gigabytes takes longer than the lock's wait)."""
    trash_on_promote(proj, monkeypatch)
    log = tmp_path / "promote.log"
    deleter = None
    try:
        with log.open("w") as out:
            promote = promote_pausing_deleter(proj, out, subprocess.STDOUT)
            assert promote.wait(timeout=60) == 0, log.read_text()
        deleter = paused_deleter(log)
        assert deleter is not None, log.read_text()
        # the deleter is alive, paused before it deletes: a run does not wait for it at all
        res = seeknal_cmd(proj, "run", env={"SEEKNAL_LOCK_TIMEOUT": "0"})
        assert res.exit_code == 0, res.output
        assert "Nothing to do" in res.stdout
    finally:
        if deleter is not None:
            os.kill(deleter, signal.SIGKILL)


def test_promote_through_a_pipe_does_not_wait_for_the_deleter(
    proj: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`seeknal promote dev | cat` (or CI capturing its output) returns when promote is done:
    the detached deleter does not keep the pipe open. The deleter is paused for the test, so a
    deleter holding stdout would hang the read below until the timeout."""
    trash_on_promote(proj, monkeypatch)
    errors = tmp_path / "stderr.log"
    deleter = None
    try:
        with errors.open("w") as err:
            promote = promote_pausing_deleter(proj, subprocess.PIPE, err)
            try:
                out, _ = promote.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                out = None
                promote.kill()
                promote.wait()
        deleter = paused_deleter(errors)
        if out is None:
            pytest.fail("reading promote's output waited for the background deleter")
        assert promote.returncode == 0, errors.read_text()
        assert b"Promoted" in out or b"promoted" in out, out
        assert deleter is not None and deleter != promote.pid, errors.read_text()
    finally:
        if deleter is not None:
            os.kill(deleter, signal.SIGKILL)
