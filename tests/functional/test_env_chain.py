"""The promotion chain as the environments page writes it: `promote dev`, then
`env promote dev staging`, then `promote staging` (docs/concepts.md, "Env → env")."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import cli, git, output, rows, seeknal_cmd
from envkit import (
    ADULTS,
    NAMES,
    edit,
    env_dir,
    env_json,
    env_project,
    outputs_digests,
    promotions,
)


@pytest.fixture
def proj(git_project: Path) -> Path:
    """The env project, committed, production run once, and env 'dev' (adults of 30 and more)
    planned, applied and promoted (its outputs moved into production)."""
    env_project(git_project)
    git(git_project, "add", "-A")
    git(git_project, "commit", "-q", "-m", "env project")
    assert cli(git_project, "run").exit_code == 0
    edit(git_project, ADULTS, "WHERE age >= 18", "WHERE age >= 30")
    for command in (("plan", "dev"), ("run", "--env", "dev"), ("promote", "dev")):
        res = seeknal_cmd(git_project, *command)
        assert res.exit_code == 0, res.output
    return git_project


def test_the_pages_chain_works_as_written(proj: Path) -> None:
    promoted = outputs_digests(proj)
    adults = rows(output(proj, "transform.adults"), "SELECT name FROM t ORDER BY 1")
    assert adults == [("Ann",), ("Cid",)]

    res = seeknal_cmd(proj, "env", "promote", "dev", "staging")
    assert res.exit_code == 0, res.output
    assert "'dev' was promoted: its outputs are production's now" in res.stdout
    assert env_json(proj, "staging", "env_config.json")["promoted_from"] == "dev"
    # staging holds no outputs of its own: every node is read from production
    state = env_json(proj, "staging", "run_state.json")["nodes"]
    assert state["transform.adults"]["ref"] is True
    assert state["transform.adults"]["output_path"] == "target/cache/transform/adults.parquet"
    assert not list((env_dir(proj, "staging") / "cache").rglob("*.parquet"))
    refs = {r["node_id"] for r in env_json(proj, "staging", "refs.json")["refs"]}
    assert "transform.adults" in refs
    listed = {r["name"]: r for r in cli(proj, "env", "list", "--json").json()}
    assert listed["staging"]["status"] == "applied"
    res = seeknal_cmd(
        proj, "query", "--env", "staging", "SELECT count(*) AS n FROM ref('transform.adults')"
    )
    assert res.exit_code == 0, res.output
    assert "2" in res.stdout

    res = seeknal_cmd(proj, "promote", "staging")
    assert res.exit_code == 0, res.output
    assert "0 output(s) moved" in res.stdout
    assert outputs_digests(proj) == promoted  # production already held staging's outputs
    lines = promotions(proj)
    assert [(x["env"], x["nodes"]) for x in lines][-1] == ("staging", [])
    assert lines[-1]["plan_id"] == lines[-2]["plan_id"]  # the copy keeps dev's plan id
    listed = {r["name"]: r for r in cli(proj, "env", "list", "--json").json()}
    assert listed["staging"]["status"] == "promoted"
    res = seeknal_cmd(proj, "run")
    assert res.exit_code == 0 and "Nothing to do" in res.stdout


def test_a_copy_after_production_moved_on_is_refused(proj: Path) -> None:
    """Once another promotion changed production, dev's outputs are no longer all there: the
    copy is refused, nothing is written, and planning staging afresh is the next step."""
    edit(proj, NAMES, "upper(name)", "lower(name)")
    for command in (("plan", "other"), ("run", "--env", "other"), ("promote", "other")):
        res = cli(proj, *command)
        assert res.exit_code == 0, res.output
    before = outputs_digests(proj)
    res = seeknal_cmd(proj, "env", "promote", "dev", "staging")
    assert res.exit_code == 1
    assert "Environment 'dev' was promoted, and production changed since" in res.stderr
    assert "'seeknal plan staging'" in res.stderr
    assert "Traceback" not in res.output
    assert not env_dir(proj, "staging").exists()
    assert not list(env_dir(proj, "dev").parent.glob(".copy-*"))
    assert outputs_digests(proj) == before
    res = cli(proj, "plan", "staging")
    assert res.exit_code == 0 and "No changes against production." in res.stdout


def test_a_copy_refuses_an_output_production_rewrote(proj: Path) -> None:
    """A production output of dev's with other bytes than dev's promotion left (here: a full
    production run with changed source data) is named, and nothing is copied."""
    people = proj / "data/people.csv"
    people.write_text(people.read_text() + "99,Zed,77,Oslo\n")
    assert cli(proj, "run").exit_code == 0
    res = seeknal_cmd(proj, "env", "promote", "dev", "staging")
    assert res.exit_code == 1
    assert "transform.adults" in res.stderr and "production changed since" in res.stderr
    assert not env_dir(proj, "staging").exists()


def test_rolling_back_the_chain(proj: Path) -> None:
    """Rolling back staging's promotion (which moved nothing) leaves production as dev's
    promotion left it; rolling back dev's then makes staging stale, since what it read from
    production went back into dev."""
    assert seeknal_cmd(proj, "env", "promote", "dev", "staging").exit_code == 0
    assert seeknal_cmd(proj, "promote", "staging").exit_code == 0
    promoted = outputs_digests(proj)
    res = seeknal_cmd(proj, "rollback")
    assert res.exit_code == 0, res.output
    assert "of env 'staging'" in res.stdout
    assert "Env 'staging' can be promoted again." in res.stdout
    assert "outputs back" not in res.stdout
    assert outputs_digests(proj) == promoted
    res = seeknal_cmd(proj, "rollback")
    assert res.exit_code == 0, res.output
    assert "Env 'dev' has its outputs back and can be promoted again." in res.stdout
    listed = {r["name"]: r for r in cli(proj, "env", "list", "--json").json()}
    assert listed["staging"]["status"] == "stale"
    res = seeknal_cmd(proj, "promote", "staging")
    assert res.exit_code == 1 and "stale" in res.stderr
    adults = rows(output(proj, "transform.adults"), "SELECT name FROM t ORDER BY 1")
    assert adults == [("Ann",), ("Cid",), ("Eve",)]  # production before dev: adults of 18+
