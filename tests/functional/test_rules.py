"""Rule kinds beyond the basics: the older tool's profile_check, and sql_assertion joins."""

from __future__ import annotations

from pathlib import Path

from conftest import cli, rows, run_json, write_tree

PROJECT = {
    "seeknal_project.yml": "name: rules\nversion: 1.0.0\n",
    "data/products.csv": "product_id,price,category\n1,10.5,a\n2,,b\n3,99,a\n",
    "data/orders.csv": "order_id,product_id\n10,1\n11,2\n12,7\n",
    "seeknal/sources/products.yml": (
        "kind: source\nname: products\nsource: csv\ntable: data/products.csv\n"
    ),
    "seeknal/sources/orders.yml": "kind: source\nname: orders\nsource: csv\ntable: data/orders.csv\n",
    "seeknal/profiles/products_stats.yml": (
        "kind: profile\nname: products_stats\ninputs:\n  - ref: source.products\n"
    ),
}

PROFILE_CHECK = """kind: rule
name: products_quality
inputs:
  - ref: profile.products_stats
rule:
  type: profile_check
  checks:
    - metric: row_count
      fail: "= 0"
    - column: price
      metric: avg
      warn: "> 50"
    - column: price
      metric: null_percent
      fail: "{null_limit}"
    - column: category
      metric: distinct_count
      fail: "< 2"
"""


def test_profile_check_warns_and_fails_on_profile_statistics(git_project: Path) -> None:
    write_tree(
        git_project,
        {**PROJECT, "seeknal/rules/products_quality.yml": PROFILE_CHECK.format(null_limit="> 50")},
    )
    res, summary = run_json(git_project)
    assert res.exit_code == 0, res.output
    quality = next(n for n in summary["nodes"] if n["id"] == "rule.products_quality")
    assert quality["status"] == "success"
    assert quality["warnings"] == [
        "rule rule.products_quality found violations (avg(price) = 54.75 must not be > 50)"
    ]
    out = git_project / "target/cache/rule/products_quality.parquet"
    checks = rows(out, "SELECT check_description, passed, severity FROM t ORDER BY 1")
    assert checks == [
        ("avg(price) = 54.75 must not be > 50", False, "warn"),
        ("distinct_count(category) = 2 must not be < 2", True, "error"),
        ("null_percent(price) = 33.3333 must not be > 50", True, "error"),
        ("row_count = 3 must not be = 0", True, "error"),
    ]

    # a tighter fail threshold makes the rule fail the run
    write_tree(
        git_project, {"seeknal/rules/products_quality.yml": PROFILE_CHECK.format(null_limit="> 20")}
    )
    res = cli(git_project, "run")
    assert res.exit_code == 1
    assert "null_percent(price) = 33.3333 must not be > 20" in res.output


def test_profile_check_judges_each_check_once_as_the_older_tool_does(git_project: Path) -> None:
    checks = [
        ("row_count", None, {"warn": "between 1 and 5"}),  # met: warns
        ("top_values", "category", {"warn": "> 0"}),  # a NULL statistic meets any condition
        ("max", "price", {"fail": "> 100", "warn": "> 50"}),  # fail not met, warn met
        ("min", "price", {"fail": "< 20", "warn": "< 50"}),  # fail met: warn not looked at
        ("distinct_count", "price", {"fail": "< 2"}),  # not met: passes
        ("p99", "price", {"fail": "> 0"}),  # no such metric
        ("distinct_count", "ghost", {"fail": "= 0"}),  # no such column
    ]
    listed = "".join(
        f"    - metric: {metric}\n"
        + (f"      column: {column}\n" if column else "")
        + "".join(f'      {level}: "{cond}"\n' for level, cond in conditions.items())
        for metric, column, conditions in checks
    )
    rule = (
        "kind: rule\nname: products_quality\ninputs:\n  - ref: profile.products_stats\n"
        f"rule:\n  type: profile_check\n  checks:\n{listed}params:\n  severity: warn\n"
    )
    write_tree(git_project, {**PROJECT, "seeknal/rules/products_quality.yml": rule})
    res = cli(git_project, "run")
    assert res.exit_code == 0, res.output
    out = git_project / "target/cache/rule/products_quality.parquet"
    found = rows(out, "SELECT check_description, violations, passed FROM t ORDER BY 1")
    assert found == [
        ("distinct_count(ghost): no such statistic in the profile", 1, False),
        ("distinct_count(price) = 2 must not be < 2", 0, True),
        ("max(price) = 99 must not be > 50", 1, False),
        ("min(price) = 10.5 must not be < 20", 1, False),
        ("p99(price): no such statistic in the profile", 1, False),
        ("row_count = 3 must not be between 1 and 5", 1, False),
        ("top_values(category) = NULL must not be > 0", 1, False),
    ]


def test_sql_assertion_may_join_another_node(git_project: Path) -> None:
    write_tree(
        git_project,
        {
            **PROJECT,
            "seeknal/rules/orders_have_products.yml": (
                "kind: rule\nname: orders_have_products\n"
                "inputs:\n  - ref: source.orders\n"
                "rule:\n  type: sql_assertion\n"
                "  sql: >\n"
                "    SELECT o.* FROM __THIS__ o\n"
                "    LEFT JOIN ref('source.products') p USING (product_id)\n"
                "    WHERE p.product_id IS NULL\n"
                "params:\n  severity: warn\n"
            ),
        },
    )
    res, summary = run_json(git_project)
    assert res.exit_code == 0, res.output
    rule = next(n for n in summary["nodes"] if n["id"] == "rule.orders_have_products")
    assert rule["status"] == "success"
    assert "1 violating row(s)" in rule["warnings"][0]
