"""The feature kinds as Python nodes (tests/projects/feature_kinds_py: @source, @transform,
@feature_group and @second_order_aggregation with PEP 723 headers, as the older seeknal's
tutorial writes them, and the aggregation in YAML, which the older tool has no decorator for)
through the CLI: plan, run, plan dev, run --env dev, promote dev. The rows are those the older
seeknal (2.13.0) computes on the project (tests/featurekit.py; bench/compare_older.py runs both
tools on it and compares every output, the consolidated feature store files included)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import cli, ran, run_json, statuses
from envkit import edit, env_dir, env_json, production_digests, sha
from featurekit import PROJECTS, REFUNDS, STORE, D, check_production, rounded
from gitkit import commit_files, ignore_target, run_git

FEATURES = "seeknal/pipelines/customer_features.py"


@pytest.fixture
def proj(git_project: Path) -> Path:
    shutil.copytree(PROJECTS / "feature_kinds_py", git_project, dirs_exist_ok=True)
    ignore_target(git_project)
    return git_project


def test_python_feature_kinds_plan_run_env_and_promote(proj: Path) -> None:
    plan = cli(proj, "plan")
    assert plan.exit_code == 0, plan.output
    assert "11 node(s) to run" in plan.stdout
    res, summary = run_json(proj)
    assert res.exit_code == 0, res.output
    assert set(statuses(summary).values()) == {"success"}
    assert len(summary["nodes"]) == 11
    check_production(proj)

    run_git(proj, "checkout", "-q", "-b", "dev")
    edit(proj, FEATURES, "SUM(is_refund) AS refunds", "COUNT(*) AS refunds")
    commit_files(proj, {}, "count refund days")
    before = production_digests(proj)
    plan = cli(proj, "plan", "dev")
    assert plan.exit_code == 0, plan.output
    assert env_json(proj, "dev", "plan.json")["categorized_changes"] == {
        "feature_group.customer_refunds": "breaking"
    }
    res, summary = run_json(proj, "--env", "dev")
    assert res.exit_code == 0, res.output
    assert ran(summary) == {"feature_group.customer_refunds"}
    env_store = env_dir(proj, "dev") / STORE
    counted = [("c1", 3, D(2024, 1, 20)), ("c2", 2, D(2024, 1, 3)), ("c3", 2, D(2024, 2, 1)),
               ("c4", 1, D(2024, 1, 15))]  # fmt: skip
    assert rounded(env_store / "customer_refunds.parquet") == counted
    assert [row[4] for row in rounded(env_store / "features.parquet")] == [
        {"refunds": None},
        {"refunds": 1},
    ]
    assert production_digests(proj) == before  # production waits for the promotion
    assert rounded(proj / STORE / "customer_refunds.parquet") == REFUNDS

    merged = sha(env_store / "features.parquet")
    res = cli(proj, "promote", "dev")
    assert res.exit_code == 0, res.output
    assert rounded(proj / STORE / "customer_refunds.parquet") == counted
    assert sha(proj / STORE / "features.parquet") == merged
