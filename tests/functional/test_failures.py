"""Failed nodes: exit 1, the message names the node and DuckDB's error, downstream is skipped,
independent branches go on, and the next run tries again."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import cli, output, ran, rows, run_json, run_state, statuses, write_tree

ADULTS = "seeknal/transforms/adults.yml"
GOOD_SQL = "  SELECT id, name, age, city\n"
BAD_SQL = "  SELECT id, name, age, city, no_such_column\n"


def break_adults(root: Path) -> None:
    path = root / ADULTS
    path.write_text(path.read_text().replace(GOOD_SQL, BAD_SQL))


def fix_adults(root: Path) -> None:
    path = root / ADULTS
    path.write_text(path.read_text().replace(BAD_SQL, GOOD_SQL))


@pytest.mark.parametrize("parallel", [False, True], ids=["sequential", "parallel"])
def test_failed_node_skips_downstream_and_independent_branch_succeeds(
    small: Path, parallel: bool
) -> None:
    break_adults(small)
    args = ["run"] + (["--parallel", "--max-workers", "2"] if parallel else [])
    res = cli(small, *args)
    assert res.exit_code == 1
    assert "transform.adults" in res.output
    assert "no_such_column" in res.output and "Binder Error" in res.output
    assert "seeknal/transforms/adults.yml" in res.output
    assert "1 failed, 1 skipped" in res.stdout

    state = run_state(small)["nodes"]
    assert state["transform.adults"]["status"] == "failed"
    assert "no_such_column" in state["transform.adults"]["error"]
    assert state["transform.city_counts"]["status"] == "skipped"
    assert state["transform.names"]["status"] == "success"
    assert state["source.people"]["status"] == "success"
    assert not output(small, "transform.adults").exists()
    assert not output(small, "transform.city_counts").exists()
    assert rows(output(small, "transform.names"), "SELECT count(*) FROM t") == [(5,)]


def test_json_summary_reports_failure(small: Path) -> None:
    break_adults(small)
    res, summary = run_json(small)
    assert res.exit_code == 1
    assert summary["ok"] is False
    assert summary["counts"] == {
        "success": 2,
        "cached": 0,
        "failed": 1,
        "skipped": 1,
        "unsupported": 0,
    }
    assert statuses(summary)["transform.city_counts"] == "skipped"
    failed = next(n for n in summary["nodes"] if n["id"] == "transform.adults")
    assert "no_such_column" in failed["error"]


def test_next_run_retries_the_failed_node(small: Path) -> None:
    break_adults(small)
    assert cli(small, "run").exit_code == 1
    # still broken: it is tried again, not cached
    res, summary = run_json(small)
    assert res.exit_code == 1
    assert ran(summary) == {"transform.adults", "transform.city_counts"}
    assert statuses(summary)["transform.adults"] == "failed"
    reasons = {n["id"]: n["reason"] for n in summary["nodes"]}
    assert reasons["transform.adults"] == "last run failed"
    assert reasons["transform.city_counts"] == "last run skipped it"
    # fixed: the failed node and its skipped downstream run, nothing else
    fix_adults(small)
    res, summary = run_json(small)
    assert res.exit_code == 0, res.output
    assert ran(summary) == {"transform.adults", "transform.city_counts"}
    assert set(statuses(summary).values()) == {"success", "cached"}
    assert rows(output(small, "transform.city_counts")) == [("Lima", 1), ("Oslo", 1), ("Rome", 1)]


def test_a_failure_after_a_good_run_keeps_downstream_skipped_until_fixed(small: Path) -> None:
    assert cli(small, "run").exit_code == 0
    break_adults(small)
    res, summary = run_json(small)
    assert res.exit_code == 1
    assert statuses(summary) == {
        "source.people": "cached",
        "transform.adults": "failed",
        "transform.city_counts": "skipped",
        "transform.names": "cached",
    }
    fix_adults(small)
    _, summary = run_json(small)
    assert ran(summary) == {"transform.adults", "transform.city_counts"}


def test_sql_syntax_error_is_a_load_error_naming_file_line_and_parser_message(
    small: Path,
) -> None:
    write_tree(
        small,
        {
            "seeknal/transforms/typo.yml": (
                "kind: transform\nname: typo\ninputs:\n  - ref: source.people\n"
                "transform: SELEC id FROM ref('source.people')\n"
            )
        },
    )
    res = cli(small, "run")
    assert res.exit_code == 1
    assert (
        'seeknal/transforms/typo.yml:5: SQL does not parse: syntax error at or near "SELEC"'
        in res.stderr
    ), res.stderr
    assert "Nothing was executed" in res.stderr
    assert not (small / "target" / "run_state.json").exists()


def test_error_rule_failure_fails_the_run_and_skips_downstream(small: Path) -> None:
    write_tree(
        small,
        {
            "seeknal/rules/not_too_old.yml": (
                "kind: rule\nname: not_too_old\ninputs:\n  - ref: transform.adults\n"
                "rule:\n  type: range\n  column: age\n  params:\n    max_val: 40\n"
                "params:\n  severity: error\n  error_message: someone is over 40\n"
            ),
            "seeknal/exposures/after_rule.yml": (
                "kind: exposure\nname: after_rule\ntype: file\ndepends_on:\n"
                "  - ref: rule.not_too_old\nparams:\n  format: csv\n  path: out/after_rule.csv\n"
            ),
        },
    )
    res, summary = run_json(small)
    assert res.exit_code == 1
    st = statuses(summary)
    assert st["rule.not_too_old"] == "failed"
    assert st["exposure.after_rule"] == "skipped"
    assert st["transform.city_counts"] == "success"
    failed = next(n for n in summary["nodes"] if n["id"] == "rule.not_too_old")
    assert "someone is over 40" in failed["error"] and "1 violating row(s)" in failed["error"]
    assert not (small / "out" / "after_rule.csv").exists()


def test_warn_rule_failure_is_reported_but_the_run_succeeds(small: Path) -> None:
    write_tree(
        small,
        {
            "seeknal/rules/no_teens.yml": (
                "kind: rule\nname: no_teens\ninputs:\n  - ref: source.people\n"
                "rule:\n  type: range\n  column: age\n  params:\n    min_val: 18\n"
                "params:\n  severity: warn\n"
            ),
        },
    )
    res = cli(small, "run")
    assert res.exit_code == 0, res.output
    assert "rule.no_teens" in res.stderr and "2 violating row(s)" in res.stderr
    entry = run_state(small)["nodes"]["rule.no_teens"]
    assert entry["status"] == "success" and entry["warnings"]
    assert rows(output(small, "rule.no_teens"), "SELECT passed, violations FROM t") == [(False, 2)]


@pytest.mark.parametrize(
    ("rule", "violations"),
    [
        ("type: null\n  column: city", 0),
        ("type: uniqueness\n  columns: [city]", 2),
        ("type: sql_assertion\n  sql: SELECT * FROM ref('source.people') WHERE age < 16", 1),
        ("type: custom\n  expression: age BETWEEN 16 AND 50", 1),
    ],
    ids=["null", "uniqueness", "sql_assertion", "custom"],
)
def test_rule_types_count_violations(small: Path, rule: str, violations: int) -> None:
    write_tree(
        small,
        {
            "seeknal/rules/r.yml": (
                "kind: rule\nname: r\ninputs:\n  - ref: source.people\n"
                f"rule:\n  {rule}\nparams:\n  severity: warn\n"
            ),
        },
    )
    res = cli(small, "run")
    assert res.exit_code == 0, res.output
    assert rows(output(small, "rule.r"), "SELECT violations FROM t") == [(violations,)]
