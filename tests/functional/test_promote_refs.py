"""Promote checks the production outputs that what it moves was computed from (the inputs of
the nodes the env computed), not every production output the env reads; an env that wrote
feature store files has them all checked (docs/decisions.md)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from conftest import cli, output, rows
from envkit import ADULTS_DOWNSTREAM, applied_dev_env, edit, env_dir, production_digests, promotions
from featurekit import PROJECTS, STORE
from gitkit import ignore_target


def test_a_production_output_nothing_moving_reads_does_not_block_promote(
    git_project: Path,
) -> None:
    """people -> adults -> city_counts moves; names (read from production, read by nothing that
    moves) changed by hand: the promotion is correct as it is, and names stays production's."""
    root = applied_dev_env(git_project)
    names = output(root, "transform.names")
    names.write_bytes(names.read_bytes() + b"\0")
    changed = names.read_bytes()
    state = root / "target/run_state.json"
    entry_before = json.loads(state.read_text())["nodes"]["transform.names"]
    env_adults = rows(env_dir(root, "dev") / "cache/transform/adults.parquet")
    # run --env reads every ref, so it still refuses
    res = cli(root, "run", "--env", "dev")
    assert res.exit_code == 1 and "target/cache/transform/names.parquet" in res.stderr
    res = cli(root, "promote", "dev")
    assert res.exit_code == 0, res.output
    assert set(promotions(root)[-1]["nodes"]) == {"transform.adults", *ADULTS_DOWNSTREAM}
    assert rows(output(root, "transform.adults")) == env_adults
    assert all(age >= 30 for (age,) in rows(output(root, "transform.adults"), "SELECT age FROM t"))
    assert names.read_bytes() == changed  # production's, untouched
    entry_after = json.loads(state.read_text())["nodes"]["transform.names"]
    for key in ("output_path", "output_digest", "row_count", "hash"):
        assert entry_after[key] == entry_before[key], key


def test_a_changed_input_of_a_moving_node_still_blocks_promote(git_project: Path) -> None:
    root = applied_dev_env(git_project)
    people = output(root, "source.people")
    people.write_bytes(people.read_bytes() + b"\0")
    before = production_digests(root)
    res = cli(root, "promote", "dev")
    assert res.exit_code == 1
    assert "Production output target/cache/source/people.parquet" in res.stderr
    assert "changed since env 'dev' was planned" in res.stderr
    assert production_digests(root) == before and promotions(root) == []


def test_an_env_with_feature_store_files_has_every_ref_checked(git_project: Path) -> None:
    """customer_refunds moves; the env's merged features.parquet was built from production's
    customer_spend too, which no moving node reads: its change blocks the promotion."""
    shutil.copytree(PROJECTS / "feature_kinds", git_project, dirs_exist_ok=True)
    ignore_target(git_project)
    root = git_project
    assert cli(root, "run").exit_code == 0
    edit(root, "seeknal/feature_groups/customer_refunds.yml", "SUM(is_refund)", "COUNT(*)")
    assert cli(root, "plan", "dev").exit_code == 0
    assert cli(root, "run", "--env", "dev").exit_code == 0
    assert (env_dir(root, "dev") / STORE / "features.parquet").is_file()
    spend = root / STORE / "customer_spend.parquet"
    spend.write_bytes(spend.read_bytes() + b"\0")
    before = production_digests(root)
    res = cli(root, "promote", "dev")
    assert res.exit_code == 1, res.output
    assert f"Production output {STORE}/customer_spend.parquet" in res.stderr
    assert "changed since env 'dev' was planned" in res.stderr
    assert production_digests(root) == before and promotions(root) == []
