"""Feature groups, aggregations and second-order aggregations execute (docs/concepts.md,
"Feature kinds"), on a project in the older seeknal's style (tests/projects/feature_kinds).

The expected rows were computed once by the older seeknal (2.13.0) on the same project
(bench/compare_feature_kinds.py runs both tools again); dates are DATE here where the older
tool's pandas step made them timestamps, and a second-order aggregation's columns come in
feature name order (docs/decisions.md).
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from conftest import cli, output, ran, rows, run_json, statuses, write_tree
from envkit import edit, env_dir, production_digests, sha
from gitkit import commit_files, ignore_target, run_git

PROJECT = Path(__file__).resolve().parent.parent / "projects" / "feature_kinds"
STORE = "target/feature_store/customer"
D = dt.date

SPEND = [
    ("c1", 35.0, 3, D(2024, 1, 20)),
    ("c2", 150.0, 2, D(2024, 1, 3)),
    ("c3", 20.0, 2, D(2024, 2, 1)),
    ("c4", 40.0, 1, D(2024, 1, 15)),
]
REFUNDS = [
    ("c1", 1.0, D(2024, 1, 20)),
    ("c2", 0.0, D(2024, 1, 3)),
    ("c3", 1.0, D(2024, 2, 1)),
    ("c4", 0.0, D(2024, 1, 15)),
]
LATEST = [
    ("c1", 5.0, D(2024, 1, 20)),
    ("c2", 50.0, D(2024, 1, 3)),
    ("c3", 12.5, D(2024, 2, 1)),
    ("c4", 40.0, D(2024, 1, 15)),
]
AGG_COLUMNS = [
    "customer_id",
    "app_date",
    "region",
    "amount_sum",
    "amount_avg",
    "amount_max",
    "amount_stddev",
    "amount_count",
    "is_refund_count_if",
    "is_refund_sum_if",
]
AGG = [
    ("c1", D(2024, 2, 1), "north", 35.0, 11.666666667, 20.0, 7.637626158, 3, 1, 1.0),
    ("c2", D(2024, 2, 1), "south", 150.0, 75.0, 100.0, 35.355339059, 2, 0, 0.0),
    ("c3", D(2024, 2, 1), "north", 20.0, 10.0, 12.5, 3.535533906, 2, 1, 1.0),
    ("c4", D(2024, 2, 1), "south", 40.0, 40.0, 40.0, None, 1, 0, 0.0),
]
SOA_COLUMNS = [
    "region",
    "amount_SUM",
    "amount_MEAN",
    "amount_MAX",
    "amount_STDDEV",
    "amount_SUM_1",  # recent_amount's sum over all rows: the name again, as the older tool
    "amount_SUM_0_20",
    "amount_SUM0_14_SUM15_60",
    "SINCE_COUNT_n_GEO_D",
]
SOA = [
    ("north", 55.0, 11.0, 20.0, 5.755432217, 55.0, 17.5, 0.466666667, 2),
    ("south", 190.0, 63.333333333, 100.0, 32.145502537, 190.0, 40.0, None, 0),
]
# amount without mean and stddev
SOA_DEV = [
    ("north", 55.0, 20.0, 55.0, 17.5, 0.466666667, 2),
    ("south", 190.0, 100.0, 190.0, 40.0, None, 0),
]
# features written out of name order, names asked for twice or three times: the older tool's
# columns, in its order (the written one), with its _1, _2 (which since: gets the _1 follows
# from the order: refunds' count is 2 in the north, busy_days' 0)
FLAGS_COLUMNS = [
    "region",
    "SINCE_COUNT_n_GEO_D",
    "SINCE_SUM_n_GEO_D",
    "SINCE_COUNT_n_GEO_D_1",
    "amount_SUM",
    "amount_SUM_1",
    "amount_MEAN",
    "amount_SUM_0_10",
    "amount_MEAN_0_10",
    "amount_SUM_2",
    "amount_SUM_0_10_1",
]
FLAGS = [
    ("north", 2, 2.0, 0, 55.0, 55.0, 11.0, 12.5, 12.5, 55.0, 12.5),
    ("south", 0, None, 0, 190.0, 190.0, 63.333333333, None, None, 190.0, None),
]


def columns(path: Path) -> list[str]:
    return [r[0] for r in rows(path, "SELECT column_name FROM (DESCRIBE SELECT * FROM t)")]


def rounded(path: Path) -> list[tuple[object, ...]]:
    """Rows ordered, doubles rounded to 9 places (the last digits of stddev vary by version)."""
    cols = rows(path, "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM t)")
    select = ", ".join(
        f'round("{name}", 9)' if kind == "DOUBLE" else f'"{name}"' for name, kind in cols
    )
    return rows(path, f"SELECT {select} FROM t ORDER BY ALL")


@pytest.fixture
def proj(git_project: Path) -> Path:
    shutil.copytree(PROJECT, git_project, dirs_exist_ok=True)
    ignore_target(git_project)  # commits the project with its .gitignore
    return git_project


def check_production(root: Path) -> None:
    assert rounded(root / STORE / "customer_spend.parquet") == SPEND
    assert rounded(root / STORE / "customer_refunds.parquet") == REFUNDS
    assert rounded(root / STORE / "customer_latest.parquet") == LATEST
    agg = output(root, "aggregation.customer_agg")
    assert columns(agg) == AGG_COLUMNS
    assert rounded(agg) == AGG
    soa = output(root, "second_order_aggregation.region_soa")
    assert columns(soa) == SOA_COLUMNS
    assert rounded(soa) == SOA
    flags = output(root, "second_order_aggregation.region_flags")
    assert columns(flags) == FLAGS_COLUMNS
    assert rounded(flags) == FLAGS


def test_feature_kinds_compute_the_older_tools_rows(proj: Path) -> None:
    plan = cli(proj, "plan")
    assert plan.exit_code == 0, plan.output
    assert "9 node(s) to run" in plan.stdout
    assert "not executable" not in plan.stdout
    res, summary = run_json(proj)
    assert res.exit_code == 0, res.output
    assert set(statuses(summary).values()) == {"success"}
    check_production(proj)
    # the feature store holds exactly the feature groups, one file each, under the entity
    assert sorted(p.name for p in (proj / STORE).iterdir()) == [
        "customer_latest.parquet",
        "customer_refunds.parquet",
        "customer_spend.parquet",
    ]
    res, summary = run_json(proj)
    assert res.exit_code == 0 and ran(summary) == set()
    # a deleted store file is written again; a removed group's file goes with it
    (proj / STORE / "customer_spend.parquet").unlink()
    (proj / "seeknal/feature_groups/customer_latest.yml").unlink()
    res, summary = run_json(proj)
    assert res.exit_code == 0, res.output
    assert ran(summary) == {"feature_group.customer_spend"}
    assert rounded(proj / STORE / "customer_spend.parquet") == SPEND
    assert not (proj / STORE / "customer_latest.parquet").exists()


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
    assert sorted(p.name for p in env_store.iterdir()) == ["customer_refunds.parquet"]
    assert rounded(env_store / "customer_refunds.parquet") == [
        ("c1", 3, D(2024, 1, 20)),
        ("c2", 2, D(2024, 1, 3)),
        ("c3", 2, D(2024, 2, 1)),
        ("c4", 1, D(2024, 1, 15)),
    ]
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
    res = cli(proj, "promote", "dev")
    assert res.exit_code == 0, res.output
    assert sha(proj / STORE / "customer_refunds.parquet") == env_copy
    assert not (env_store / "customer_refunds.parquet").exists()
    assert rounded(output(proj, "second_order_aggregation.region_soa")) == SOA_DEV
    res, summary = run_json(proj)
    assert res.exit_code == 0 and ran(summary) == set()


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
            "seeknal/aggregations/a.yml:8: feature amount: rolling windows of an aggregation "
            "are not supported",
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
