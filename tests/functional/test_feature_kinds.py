"""Feature groups, aggregations and second-order aggregations execute (docs/concepts.md,
"Feature kinds"), on a project in the older seeknal's style (tests/projects/feature_kinds).

The expected rows (tests/featurekit.py) were computed by the older seeknal (2.13.0) on the same
project; bench/compare_older.py runs both tools again and compares every output, the feature
store's consolidated files included.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import cli, output, ran, rows, run_json, statuses, write_tree
from envkit import edit, env_dir, production_digests, sha
from featurekit import (
    CONSOLIDATED,
    FLAGS_COLUMNS,
    MERGED,
    PROJECTS,
    REFUNDS,
    SOA_COLUMNS,
    SOA_DEV,
    SPEND,
    STORE,
    D,
    catalog,
    check_production,
    columns,
    rounded,
)
from gitkit import commit_files, ignore_target, run_git

PROJECT = PROJECTS / "feature_kinds"


@pytest.fixture
def proj(git_project: Path) -> Path:
    shutil.copytree(PROJECT, git_project, dirs_exist_ok=True)
    ignore_target(git_project)  # commits the project with its .gitignore
    return git_project


def test_feature_kinds_compute_the_older_tools_rows(proj: Path) -> None:
    plan = cli(proj, "plan")
    assert plan.exit_code == 0, plan.output
    assert "11 node(s) to run" in plan.stdout
    assert "not executable" not in plan.stdout
    res, summary = run_json(proj)
    assert res.exit_code == 0, res.output
    assert set(statuses(summary).values()) == {"success"}
    assert summary["feature_store"] == [
        f"Consolidated entity 'customer': 4 feature group(s), 2 row(s) in {STORE}/features.parquet"
    ]
    # the feature store holds the feature groups, one file each, under the entity, and the
    # entity's merged features with their catalog (checked in check_production)
    check_production(proj)
    merged = sha(proj / STORE / "features.parquet")
    res, summary = run_json(proj)
    assert res.exit_code == 0 and ran(summary) == set()
    assert summary["feature_store"] == []  # nothing ran, nothing merged again
    assert sha(proj / STORE / "features.parquet") == merged
    # a deleted store file is written again; a removed group's file goes with it, and the
    # merged file and its catalog no longer name it
    (proj / STORE / "customer_spend.parquet").unlink()
    (proj / STORE / "features.parquet").unlink()
    (proj / "seeknal/feature_groups/customer_latest.yml").unlink()
    res, summary = run_json(proj)
    assert res.exit_code == 0, res.output
    assert ran(summary) == {"feature_group.customer_spend"}
    assert rounded(proj / STORE / "customer_spend.parquet") == SPEND
    assert not (proj / STORE / "customer_latest.parquet").exists()
    assert columns(proj / STORE / "features.parquet") == [
        "customer_id",
        "event_time",
        "customer_big",
        "customer_refunds",
        "customer_spend",
    ]
    groups = catalog(proj / STORE / "_entity_catalog.json")["feature_groups"]
    assert sorted(groups) == ["customer_big", "customer_refunds", "customer_spend"]


def test_feature_kinds_in_an_env_then_promoted(proj: Path) -> None:
    assert cli(proj, "run").exit_code == 0
    run_git(proj, "checkout", "-q", "-b", "dev")
    soa = "seeknal/second_order_aggregations/region_soa.yml"
    spend = "seeknal/feature_groups/customer_spend.yml"
    edit(proj, soa, "basic: [sum, mean, max, stddev]", "basic: [sum, max]")
    edit(proj, spend, 'description: "total"', 'description: "total spent"')
    edit(proj, "seeknal/feature_groups/customer_refunds.yml", "SUM(is_refund)", "COUNT(*)")
    flags = "seeknal/second_order_aggregations/region_flags.yml"
    edit(proj, flags, "basic: [sum]\n    window: [0, 10]", "basic: [sum]\n    window: [0, 11]")
    commit_files(proj, {}, "change features")
    before = production_digests(proj)

    plan = cli(proj, "plan", "dev")
    assert plan.exit_code == 0, plan.output
    lines = {line.split()[0]: line for line in plan.stdout.splitlines() if line.strip()}
    assert "breaking" in lines["second_order_aggregation.region_soa"]
    assert "breaking" in lines["feature_group.customer_refunds"]
    assert "metadata" in lines["feature_group.customer_spend"]
    res, summary = run_json(proj, "--env", "dev")
    assert res.exit_code == 0, res.output
    assert ran(summary) == {
        "second_order_aggregation.region_soa",
        "second_order_aggregation.region_flags",
        "feature_group.customer_refunds",
    }
    env_store = env_dir(proj, "dev") / STORE
    assert summary["feature_store"] == [
        "Consolidated entity 'customer': 4 feature group(s), 2 row(s) in "
        f"target/environments/dev/{STORE}/features.parquet"
    ]
    # the env's own group file, and the entity merged from it and production's other groups
    assert sorted(p.name for p in env_store.iterdir()) == [
        "_entity_catalog.json",
        "customer_refunds.parquet",
        "features.parquet",
    ]
    assert rounded(env_store / "customer_refunds.parquet") == [
        ("c1", 3, D(2024, 1, 20)),
        ("c2", 2, D(2024, 1, 3)),
        ("c3", 2, D(2024, 2, 1)),
        ("c4", 1, D(2024, 1, 15)),
    ]
    env_merged = rounded(env_store / "features.parquet")
    assert [row[4] for row in env_merged] == [{"refunds": None}, {"refunds": 1}]
    assert [row[5] for row in env_merged] == [row[5] for row in MERGED]  # production's spend
    env_soa = env_dir(proj, "dev") / "cache/second_order_aggregation/region_soa.parquet"
    assert columns(env_soa) == [SOA_COLUMNS[0], SOA_COLUMNS[1], SOA_COLUMNS[3], *SOA_COLUMNS[5:]]
    # an env run builds its nodes from the env's manifest: the written order comes through it
    env_flags = env_dir(proj, "dev") / "cache/second_order_aggregation/region_flags.parquet"
    assert columns(env_flags) == [*FLAGS_COLUMNS[:-1], "amount_SUM_0_11"]
    assert rounded(env_soa) == SOA_DEV
    # production is untouched until the promotion
    assert production_digests(proj) == before
    check_production(proj)

    env_copy = sha(env_store / "customer_refunds.parquet")
    merged_copy = sha(env_store / "features.parquet")
    catalog_copy = sha(env_store / "_entity_catalog.json")
    res = cli(proj, "promote", "dev")
    assert res.exit_code == 0, res.output
    assert sha(proj / STORE / "customer_refunds.parquet") == env_copy
    assert sha(proj / STORE / "features.parquet") == merged_copy
    assert sha(proj / STORE / "_entity_catalog.json") == catalog_copy
    assert not (env_store / "customer_refunds.parquet").exists()
    assert not (env_store / "features.parquet").exists()
    assert rounded(output(proj, "second_order_aggregation.region_soa")) == SOA_DEV
    res, summary = run_json(proj)
    assert res.exit_code == 0 and ran(summary) == set()
    assert summary["feature_store"] == []
    assert sha(proj / STORE / "features.parquet") == merged_copy


def test_promote_refuses_a_feature_store_file_changed_since_the_env_wrote_it(
    proj: Path,
) -> None:
    assert cli(proj, "run").exit_code == 0
    edit(proj, "seeknal/feature_groups/customer_refunds.yml", "SUM(is_refund)", "COUNT(*)")
    assert cli(proj, "plan", "dev").exit_code == 0
    assert cli(proj, "run", "--env", "dev").exit_code == 0
    rel = f"{STORE}/customer_refunds.parquet"
    damaged = env_dir(proj, "dev") / rel
    damaged.write_bytes(damaged.read_bytes()[:100])
    res = cli(proj, "promote", "dev")
    assert res.exit_code == 1, res.output
    assert f"target/environments/dev/{rel} of feature_group.customer_refunds" in res.stderr
    assert "Nothing was promoted" in res.stderr
    assert rounded(proj / rel) == REFUNDS


def test_feature_group_transform_reads_source_or_ref_and_needs_its_keys(proj: Path) -> None:
    write_tree(
        proj,
        {
            "seeknal/feature_groups/by_ref.yml": (
                "kind: feature_group\nname: by_ref\nentity:\n  name: shopper\n"
                "  join_keys: [customer_id, region]\n"
                "transform: |\n  SELECT customer_id, region, count(*) AS days\n"
                "  FROM ref('transform.txn_daily') GROUP BY ALL\n"
            ),
            "seeknal/feature_groups/plain.yml": (
                "kind: feature_group\nname: plain\ninputs:\n  - ref: source.txns\n"
            ),
            "seeknal/feature_groups/no_key.yml": (
                "kind: feature_group\nname: no_key\nentity: customer\n"
                "inputs:\n  - ref: source.txns\n"
                "transform: SELECT region, sum(amount) AS total FROM source GROUP BY region\n"
            ),
        },
    )
    res, summary = run_json(proj)
    assert res.exit_code == 1
    st = statuses(summary)
    assert st["feature_group.by_ref"] == "success"
    assert rows(proj / "target/feature_store/shopper/by_ref.parquet") == [
        ("c1", "north", 3),
        ("c2", "south", 2),
        ("c3", "north", 2),
        ("c4", "south", 1),
    ]
    # no entity: the input's rows as they are, in seeknal's cache
    assert st["feature_group.plain"] == "success"
    plain = output(proj, "feature_group.plain")
    assert rows(plain, "SELECT count(*), sum(amount) FROM t") == [(8, 245.0)]
    failed = next(n for n in summary["nodes"] if n["id"] == "feature_group.no_key")
    assert failed["status"] == "failed"
    assert "lack the join keys of entity 'customer' (customer_id)" in failed["error"]
    text = cli(proj, "run")
    assert text.exit_code == 1
    assert "seeknal/feature_groups/no_key.yml" in text.output
    assert "Return the key columns" in text.output


@pytest.mark.parametrize(
    ("rel", "text", "message"),
    [
        (
            "seeknal/feature_groups/f.yml",
            "kind: feature_group\nname: f\ninputs: [source.txns]\nentity:\n  join_keys: [id]\n",
            "seeknal/feature_groups/f.yml:4: entity needs a name and join_keys",
        ),
        (
            "seeknal/feature_groups/f.yml",
            "kind: feature_group\nname: f\nentity: {name: ../x, join_keys: [id]}\n",
            "entity name '../x' names a folder of the feature store",
        ),
        (
            "seeknal/aggregations/a.yml",
            "kind: aggregation\nname: a\nid_col: customer_id\nfeature_date_col: txn_date\n"
            "application_date_col: app_date\nsource: transform.txn_daily\nfeatures:\n"
            "  - name: amount\n    rolling:\n      - window: [1, 7]\n        aggs: [sum]\n",
            "seeknal/aggregations/a.yml:8: aggregation.a: feature amount: rolling windows are "
            "window functions over the grouped rows, so txn_date and amount must be in group_by",
        ),
        (
            "seeknal/aggregations/a.yml",
            "kind: aggregation\nname: a\nid_col: customer_id\nfeature_date_col: txn_date\n"
            "application_date_col: app_date\nsource: transform.txn_daily\n"
            "group_by: [txn_date, amount]\nfeatures:\n  - name: amount\n    rolling:\n"
            "      - window: [7]\n        aggs: [count]\n    ratio: {numerator: [7]}\n",
            "aggregation.a: feature amount: rolling aggregation 'count' (supported: avg, max, "
            "mean, min, sum)",
        ),
        (
            "seeknal/aggregations/a.yml",
            "kind: aggregation\nname: a\nid_col: customer_id\nfeature_date_col: txn_date\n"
            "application_date_col: app_date\nsource: transform.txn_daily\n"
            "group_by: [txn_date, amount]\nfeatures:\n  - name: amount\n"
            "    ratio: {numerator: [7]}\n",
            "aggregation.a: feature amount: ratio must be a list of {numerator, denominator, aggs}",
        ),
        (
            "seeknal/aggregations/a.yml",
            "kind: aggregation\nname: a\nid_col: customer_id\nfeature_date_col: txn_date\n"
            "application_date_col: app_date\nsource: transform.txn_daily\nfeatures:\n"
            "  - name: amount\n    basic: [median]\n",
            "feature amount: unknown aggregation 'median'",
        ),
        (
            "seeknal/second_order_aggregations/s.yml",
            "kind: second_order_aggregation\nname: s\nid_col: region\nfeature_date_col: d\n"
            "application_date_col: a\nsource: transform.txn_daily\nfeatures:\n"
            "  amount:\n    window: [7]\n    basic: [sum]\n",
            "seeknal/second_order_aggregations/s.yml:8: features.amount: window must be "
            "[lower, upper] in days",
        ),
        (
            "seeknal/second_order_aggregations/s.yml",
            "kind: second_order_aggregation\nname: s\nid_col: region\nfeature_date_col: d\n"
            "source: transform.nope\nfeatures:\n  amount:\n    basic: [sum]\n",
            "second_order_aggregation needs application_date_col",
        ),
    ],
)
def test_feature_kind_mistakes_are_load_problems(
    proj: Path, rel: str, text: str, message: str
) -> None:
    write_tree(proj, {rel: text})
    res = cli(proj, "plan")
    assert res.exit_code == 1, res.output
    assert message in res.stderr
    assert "Traceback" not in res.output


def test_model_fails_clearly_only_when_a_run_needs_it(proj: Path) -> None:
    write_tree(
        proj,
        {
            "seeknal/models/churn.yml": (
                "kind: model\nname: churn\ninputs:\n  - ref: feature_group.customer_spend\n"
                "training:\n  label_column: churned\n"
            )
        },
    )
    res, summary = run_json(proj)
    assert res.exit_code == 0, res.output
    assert statuses(summary)["model.churn"] == "unsupported"
    assert statuses(summary)["feature_group.customer_spend"] == "success"
    write_tree(
        proj,
        {
            "seeknal/transforms/scores.yml": (
                "kind: transform\nname: scores\ntransform: SELECT * FROM ref('model.churn')\n"
            )
        },
    )
    res = cli(proj, "run")
    assert res.exit_code == 1
    assert (
        "model.churn (seeknal/models/churn.yml): kind 'model' is not supported for execution yet"
        in res.output
    )
    assert "transform.scores" in res.output


def test_an_entity_that_cannot_be_merged_is_reported_not_failed(proj: Path) -> None:
    shop = "seeknal/feature_groups/shop_{}.yml"
    group = (
        "kind: feature_group\nname: shop_{name}\nentity:\n  name: shop\n  join_keys: [{keys}]\n"
        "inputs:\n  - ref: transform.txn_daily\n"
        "transform: SELECT {keys}, count(*) AS {name} FROM source GROUP BY ALL\n"
    )
    write_tree(proj, {shop.format("days"): group.format(name="days", keys="region")})
    res, summary = run_json(proj)
    # as in the older seeknal, merging needs an event_time column: the run itself succeeds
    assert res.exit_code == 0, res.output
    assert statuses(summary)["feature_group.shop_days"] == "success"
    problem = summary["feature_store"][1]  # entities in name order: customer, shop
    assert problem.startswith(
        "Entity 'shop' not consolidated into target/feature_store/shop/features.parquet: "
    )
    assert "event_time" in problem
    assert sorted(p.name for p in (proj / "target/feature_store/shop").iterdir()) == [
        "shop_days.parquet"
    ]
    assert (proj / STORE / "features.parquet").is_file()  # the other entity is merged
    text = cli(proj, "run")  # nothing runs, and the entity is still not merged: said again
    assert text.exit_code == 0
    assert "Warning: Entity 'shop' not consolidated" in text.stderr
    write_tree(proj, {shop.format("n"): group.format(name="n", keys="region, customer_id")})
    text = cli(proj, "run")
    assert text.exit_code == 0, text.output
    assert (
        "Warning: Entity 'shop' not consolidated into target/feature_store/shop/features.parquet: "
        "feature group shop_n has join_keys ['region', 'customer_id'] but shop_days has "
        "['region']" in text.stderr
    )


def test_an_entity_left_without_groups_loses_its_merged_files(proj: Path) -> None:
    assert cli(proj, "run").exit_code == 0
    assert (proj / STORE / "_entity_catalog.json").is_file()
    for name in ("customer_big", "customer_latest", "customer_refunds", "customer_spend"):
        (proj / f"seeknal/feature_groups/{name}.yml").unlink()
    res, summary = run_json(proj)
    assert res.exit_code == 0, res.output
    assert summary["feature_store"] == [
        "Removed target/feature_store/customer/features.parquet: entity 'customer' has no "
        "feature groups"
    ]
    assert list((proj / STORE).iterdir()) == []


@pytest.mark.parametrize(
    ("rel", "text", "message"),
    [
        (
            "seeknal/feature_groups/features.yml",
            "kind: feature_group\nname: features\nentity: customer\n"
            "inputs:\n  - ref: source.txns\n",
            "seeknal/feature_groups/features.yml:2: a feature group named 'features' would "
            "write over target/feature_store/customer/features.parquet",
        ),
        (
            "seeknal/exposures/x.yml",
            "kind: exposure\nname: x\ntype: file\ninputs:\n  - ref: source.txns\n"
            "params:\n  path: target/feature_store/customer/_entity_catalog.json\n"
            "  format: json\n",
            "target/feature_store/customer/_entity_catalog.json is an entity's consolidated "
            "feature store file",
        ),
    ],
)
def test_no_node_writes_the_merged_files(proj: Path, rel: str, text: str, message: str) -> None:
    write_tree(proj, {rel: text})
    res = cli(proj, "plan")
    assert res.exit_code == 1, res.output
    assert message in res.stderr


def test_an_env_removing_a_group_merges_the_rest_and_promote_moves_it(proj: Path) -> None:
    assert cli(proj, "run").exit_code == 0
    run_git(proj, "checkout", "-q", "-b", "dev")
    run_git(proj, "rm", "-q", "seeknal/feature_groups/customer_big.yml")
    commit_files(proj, {}, "drop customer_big")
    before = production_digests(proj)
    assert cli(proj, "plan", "dev").exit_code == 0
    res, summary = run_json(proj, "--env", "dev")
    assert res.exit_code == 0, res.output
    assert ran(summary) == set()  # nothing to compute: the merge reads production's groups
    env_store = env_dir(proj, "dev") / STORE
    merged = rounded(env_store / "features.parquet")
    assert [row[0] for row in merged] == ["c1", "c2", "c3", "c4"]  # customer_latest's rows
    assert columns(env_store / "features.parquet")[2:] == [
        "customer_latest",
        "customer_refunds",
        "customer_spend",
    ]
    assert production_digests(proj) == before
    res = cli(proj, "promote", "dev")
    assert res.exit_code == 0, res.output
    assert rounded(proj / STORE / "features.parquet") == merged
    assert not (proj / STORE / "customer_big.parquet").exists()
    groups = catalog(proj / STORE / "_entity_catalog.json")["feature_groups"]
    assert "customer_big" not in groups


def test_promote_refuses_a_merged_file_changed_since_the_env_wrote_it(proj: Path) -> None:
    assert cli(proj, "run").exit_code == 0
    edit(proj, "seeknal/feature_groups/customer_refunds.yml", "SUM(is_refund)", "COUNT(*)")
    assert cli(proj, "plan", "dev").exit_code == 0
    assert cli(proj, "run", "--env", "dev").exit_code == 0
    before = production_digests(proj)
    damaged = env_dir(proj, "dev") / STORE / "features.parquet"
    damaged.write_bytes(damaged.read_bytes()[:100])
    res = cli(proj, "promote", "dev")
    assert res.exit_code == 1, res.output
    assert (
        f"target/environments/dev/{STORE}/features.parquet of env 'dev' is missing or not what "
        "'seeknal run --env dev' wrote" in res.stderr
    )
    assert "Nothing was promoted" in res.stderr
    assert production_digests(proj) == before


def test_rollback_puts_production_merged_files_back(proj: Path) -> None:
    assert cli(proj, "run").exit_code == 0
    before = {name: sha(proj / STORE / name) for name in CONSOLIDATED}
    edit(proj, "seeknal/feature_groups/customer_refunds.yml", "SUM(is_refund)", "COUNT(*)")
    assert cli(proj, "plan", "dev").exit_code == 0
    assert cli(proj, "run", "--env", "dev").exit_code == 0
    env_store = env_dir(proj, "dev") / STORE
    promoted = {name: sha(env_store / name) for name in CONSOLIDATED}
    assert cli(proj, "promote", "dev").exit_code == 0
    assert {name: sha(proj / STORE / name) for name in CONSOLIDATED} == promoted
    res = cli(proj, "rollback")
    assert res.exit_code == 0, res.output
    assert {name: sha(proj / STORE / name) for name in CONSOLIDATED} == before
    # the env has them back, as they were checked: it can be promoted again
    assert {name: sha(env_store / name) for name in CONSOLIDATED} == promoted
    assert cli(proj, "promote", "dev").exit_code == 0
    assert {name: sha(proj / STORE / name) for name in CONSOLIDATED} == promoted


def test_a_group_without_an_output_is_named_as_left_out_of_the_merge(proj: Path) -> None:
    res, summary = run_json(proj, "--exclude", "feature_group.customer_latest")
    assert res.exit_code == 0, res.output
    (line,) = summary["feature_store"]
    assert line.startswith("Consolidated entity 'customer': 3 feature group(s), "), line
    assert line.endswith(
        f"in {STORE}/features.parquet; left out, no output yet: customer_latest "
        "(run them to add them)"
    ), line
    assert "customer_latest" not in catalog(proj / STORE / "_entity_catalog.json")["feature_groups"]
    res, summary = run_json(proj)  # the group runs now: merged with the others
    assert res.exit_code == 0, res.output
    assert summary["feature_store"] == [
        f"Consolidated entity 'customer': 4 feature group(s), 2 row(s) in {STORE}/features.parquet"
    ]
