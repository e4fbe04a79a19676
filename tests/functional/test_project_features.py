"""Project format features, driven through `seeknal run` on real projects."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pytest
from conftest import (
    cli,
    manifest,
    output,
    ran,
    rows,
    run_json,
    run_state,
    small_project,
    statuses,
    write_tree,
)

from seeknal.kinds import profile as profile_kind
from seeknal.state import tool_cache

COMMON = {
    "seeknal/common/sources.yml": (
        "sources:\n- id: people\n  ref: source.people\n  params:\n    ageCol: age\n"
    ),
    "seeknal/common/rules.yml": 'rules:\n- id: grown\n  value: "age >= 18"\n',
    "seeknal/common/transformations.yml": ('transformations:\n- id: shout\n  sql: "upper(name)"\n'),
}


def transform(name: str, sql: str, inputs: tuple[str, ...] = ()) -> dict[str, str]:
    ins = "".join(f"  - ref: {i}\n" for i in inputs)
    body = "".join(f"  {line}\n" for line in sql.strip().splitlines())
    text = f"kind: transform\nname: {name}\n" + (f"inputs:\n{ins}" if ins else "")
    return {f"seeknal/transforms/{name}.yml": text + f"transform: |\n{body}"}


# -- placeholders --------------------------------------------------------------------------


def test_common_placeholders(git_project: Path) -> None:
    small_project(
        git_project,
        {
            **COMMON,
            **transform(
                "ph",
                "SELECT {{ transforms.shout }} AS n, {{ people.ageCol }} AS a\n"
                "FROM {{ people }} WHERE {{ rules.grown }}",
                ("source.people",),
            ),
        },
    )
    res = cli(git_project, "run")
    assert res.exit_code == 0, res.output
    assert rows(output(git_project, "transform.ph")) == [("ANN", 34), ("CID", 45), ("EVE", 29)]
    sql = manifest(git_project)["nodes"]["transform.ph"]["sql"]
    assert "upper(name)" in sql and "age >= 18" in sql and "ref('source.people')" in sql


def test_env_placeholder_with_default(git_project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    small_project(
        git_project,
        transform("envy", "SELECT '{{ env:SEEKNAL_TEST_REGION|nowhere }}' AS region", ()),
    )
    monkeypatch.delenv("SEEKNAL_TEST_REGION", raising=False)
    assert cli(git_project, "run").exit_code == 0
    assert rows(output(git_project, "transform.envy")) == [("nowhere",)]
    monkeypatch.setenv("SEEKNAL_TEST_REGION", "eu-west")
    _, summary = run_json(git_project)
    assert ran(summary) == {"transform.envy"}
    assert rows(output(git_project, "transform.envy")) == [("eu-west",)]


def test_builtin_date_and_run_id_placeholders(git_project: Path) -> None:
    small_project(
        git_project,
        transform(
            "dates",
            "SELECT DATE '{{ today }}' AS today, DATE '{{ yesterday }}' AS yesterday, "
            "'{{ run_id }}' AS run_id",
            (),
        ),
    )
    res, summary = run_json(git_project)
    assert res.exit_code == 0, res.output
    today = dt.datetime.now(dt.UTC).date()
    ((got_today, got_yesterday, got_run_id),) = rows(output(git_project, "transform.dates"))
    assert got_today in (today, today - dt.timedelta(days=1))  # a run across UTC midnight
    assert got_yesterday == got_today - dt.timedelta(days=1)
    assert got_run_id == summary["run_id"]


def test_params_option(git_project: Path) -> None:
    small_project(
        git_project,
        transform(
            "older",
            "SELECT name FROM input_0 WHERE age > {{ min_age }} AND city = '{{ city }}'",
            ("source.people",),
        ),
    )
    res = cli(git_project, "run", "--params", '{"min_age": 30, "city": "Rome"}')
    assert res.exit_code == 0, res.output
    assert rows(output(git_project, "transform.older")) == [("Cid",)]
    # other values change the SQL, so the node runs again
    _, summary = run_json(git_project, "--params", '{"min_age": 10, "city": "Oslo"}')
    assert ran(summary) == {"transform.older"}
    assert rows(output(git_project, "transform.older")) == [("Ann",), ("Bob",)]


def test_unknown_placeholder_key_names_the_closest_known_key(git_project: Path) -> None:
    small_project(
        git_project,
        {
            **COMMON,
            **transform("typo", "SELECT * FROM input_0 WHERE {{ rules.grwn }}", ("source.people",)),
        },
    )
    res = cli(git_project, "run")
    assert res.exit_code == 1
    assert "seeknal/transforms/typo.yml" in res.stderr
    assert "rules.grwn" in res.stderr and "did you mean 'rules.grown'" in res.stderr
    res = cli(git_project, "run", "--params", '{"min_age": 3}')
    assert res.exit_code == 1


def test_unknown_param_suggests_the_given_param(git_project: Path) -> None:
    small_project(
        git_project,
        transform("p", "SELECT * FROM input_0 WHERE age > {{ min_agee }}", ("source.people",)),
    )
    res = cli(git_project, "run", "--params", '{"min_age": 3}')
    assert res.exit_code == 1
    assert "min_agee" in res.stderr and "did you mean 'min_age'" in res.stderr


# -- SQL -------------------------------------------------------------------------------------


def test_positional_inputs_and_this(git_project: Path) -> None:
    small_project(
        git_project,
        {
            **transform(
                "joined",
                "SELECT input_0.name, input_1.name AS shout FROM input_0 JOIN input_1 USING (id)",
                ("transform.adults", "transform.names"),
            ),
            **transform("counted", "SELECT count(*) AS n FROM __THIS__", ("transform.adults",)),
        },
    )
    res = cli(git_project, "run")
    assert res.exit_code == 0, res.output
    assert rows(output(git_project, "transform.joined")) == [
        ("Ann", "ANN"),
        ("Cid", "CID"),
        ("Eve", "EVE"),
    ]
    assert rows(output(git_project, "transform.counted")) == [(3,)]


def test_multi_statement_transform_outputs_its_last_statement(git_project: Path) -> None:
    small_project(
        git_project,
        transform(
            "multi",
            "CREATE TABLE grown AS SELECT * FROM input_0 WHERE age >= 18;\n"
            "CREATE TABLE per_city AS SELECT city, count(*) AS n FROM grown GROUP BY city;\n"
            "SELECT * FROM per_city WHERE n >= 1 ORDER BY city;",
            ("source.people",),
        ),
    )
    res = cli(git_project, "run")
    assert res.exit_code == 0, res.output
    assert rows(output(git_project, "transform.multi")) == [("Lima", 1), ("Oslo", 1), ("Rome", 1)]


def test_two_multi_statement_transforms_may_use_the_same_table_names(git_project: Path) -> None:
    sql = "CREATE TABLE tmp AS SELECT * FROM input_0;\nSELECT count(*) AS n FROM tmp"
    small_project(
        git_project,
        {
            **transform("m1", sql, ("transform.adults",)),
            **transform("m2", sql, ("transform.names",)),
        },
    )
    res = cli(git_project, "run", "--parallel", "--max-workers", "2")
    assert res.exit_code == 0, res.output
    assert rows(output(git_project, "transform.m1")) == [(3,)]
    assert rows(output(git_project, "transform.m2")) == [(5,)]


def test_sql_ref_missing_from_inputs_is_added_without_a_warning(git_project: Path) -> None:
    small_project(
        git_project,
        transform(
            "implicit",
            "SELECT a.name FROM ref('transform.adults') a JOIN ref('transform.names') n USING (id)",
            ("transform.adults",),
        ),
    )
    res = cli(git_project, "run")
    assert res.exit_code == 0, res.output
    assert "warning" not in res.stderr  # a ref() in SQL declares the edge by itself
    edges = {(e["from"], e["to"]) for e in manifest(git_project)["edges"]}
    assert ("transform.names", "transform.implicit") in edges
    assert len(rows(output(git_project, "transform.implicit"))) == 3
    # the added edge is a real dependency: changing names reruns implicit
    path = git_project / "seeknal/transforms/names.yml"
    path.write_text(path.read_text().replace("upper(name)", "lower(name)"))
    _, summary = run_json(git_project)
    assert ran(summary) == {"transform.names", "transform.implicit"}


# -- sources, profiles, exposures ------------------------------------------------------------


def test_json_jsonl_and_parquet_sources(git_project: Path) -> None:
    small_project(
        git_project,
        {
            "data/things.json": json.dumps([{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]),
            "data/events.jsonl": '{"e": 1, "k": "p"}\n{"e": 2, "k": "q"}\n{"e": 3, "k": "p"}\n',
            "seeknal/sources/things.yml": "kind: source\nname: things\nsource: json\n"
            "table: data/things.json\n",
            "seeknal/sources/events.yml": "kind: source\nname: events\nsource: jsonl\n"
            "table: data/events.jsonl\n",
            "seeknal/sources/numbers.yml": "kind: source\nname: numbers\nsource: parquet\n"
            "table: data/numbers.parquet\n",
        },
    )
    con = duckdb.connect()
    con.execute(
        "COPY (SELECT range AS i, range * 2 AS j FROM range(7)) "
        f"TO '{git_project / 'data' / 'numbers.parquet'}' (FORMAT parquet)"
    )
    con.close()
    res = cli(git_project, "run")
    assert res.exit_code == 0, res.output
    assert rows(output(git_project, "source.things")) == [(1, "x"), (2, "y")]
    assert rows(output(git_project, "source.events")) == [(1, "p"), (2, "q"), (3, "p")]
    assert rows(output(git_project, "source.numbers"), "SELECT count(*), sum(j) FROM t") == [
        (7, 42)
    ]


def test_csv_source_options(git_project: Path) -> None:
    small_project(
        git_project,
        {
            "data/semi.csv": "id;label\n1;a\n2;b\n",
            "seeknal/sources/semi.yml": "kind: source\nname: semi\nsource: csv\n"
            "table: data/semi.csv\nparams:\n  delimiter: ';'\n"
            "  header: true\n",
        },
    )
    assert cli(git_project, "run").exit_code == 0
    assert rows(output(git_project, "source.semi")) == [(1, "a"), (2, "b")]


# A profile's rows: the table's row count, then per column (in the input's order) its null
# count and percent and distinct count, then min/max/avg/sum/stddev/quartiles for numbers,
# min/max/freshness for dates and times, and the most frequent values for the rest.
ADULTS_PROFILE = [
    ("_table_", "row_count", "3", None),
    ("id", "null_count", "0", None),
    ("id", "null_percent", "0.0", None),
    ("id", "distinct_count", "3", None),
    ("id", "min", "1", None),
    ("id", "max", "5", None),
    ("id", "avg", "3.0", None),
    ("id", "sum", "9.0", None),
    ("id", "stddev", "2.0", None),
    ("id", "p25", "2", None),
    ("id", "p50", "3", None),
    ("id", "p75", "4", None),
    ("name", "null_count", "0", None),
    ("name", "null_percent", "0.0", None),
    ("name", "distinct_count", "3", None),
    ("name", "top_values", None, "Ann Cid Eve"),
    ("age", "null_count", "0", None),
    ("age", "null_percent", "0.0", None),
    ("age", "distinct_count", "3", None),
    ("age", "min", "29", None),
    ("age", "max", "45", None),
    ("age", "avg", "36.0", None),
    ("age", "sum", "108.0", None),
    ("age", "stddev", "8.18535277187245", None),
    ("age", "p25", "30", None),
    ("age", "p50", "34", None),
    ("age", "p75", "42", None),
    ("city", "null_count", "0", None),
    ("city", "null_percent", "0.0", None),
    ("city", "distinct_count", "3", None),
    ("city", "top_values", None, "Lima Oslo Rome"),
]


def test_profile_node_output(git_project: Path) -> None:
    small_project(
        git_project,
        {
            "seeknal/profiles/adults_profile.yml": (
                "kind: profile\nname: adults_profile\ninputs:\n  - ref: transform.adults\n"
            ),
        },
    )
    assert cli(git_project, "run").exit_code == 0
    profile = output(git_project, "profile.adults_profile")
    types = rows(profile, "SELECT column_name, column_type FROM (DESCRIBE t)")
    assert types == [(c, "VARCHAR") for c in ("column_name", "metric", "value", "detail")]
    stats = rows(profile, "SELECT * FROM t")
    tops = {s[0]: json.loads(s[3]) for s in stats if s[1] == "top_values"}
    assert tops["city"] == [
        {"value": c, "count": 1, "percent": 33.33} for c in ("Lima", "Oslo", "Rome")
    ]
    named = [s[:3] + (" ".join(v["value"] for v in tops[s[0]]) if s[3] else None,) for s in stats]
    assert named == ADULTS_PROFILE
    assert run_state(git_project)["nodes"]["profile.adults_profile"]["row_count"] == len(stats)


def test_profile_written_in_another_layout_is_recomputed(
    git_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    small_project(
        git_project,
        {
            "seeknal/profiles/adults_profile.yml": (
                "kind: profile\nname: adults_profile\ninputs:\n  - ref: transform.adults\n"
            ),
        },
    )
    # production as a seeknal writing another profile layout left it (another version: its
    # tool cache is not this version's)
    monkeypatch.setattr(profile_kind, "LAYOUT", "summarize")
    monkeypatch.setattr(tool_cache, "__version__", "0.0-summarize")
    assert cli(git_project, "run").exit_code == 0
    monkeypatch.undo()
    plan = cli(git_project, "plan")
    assert plan.exit_code == 0, plan.output
    assert "profile.adults_profile" in plan.stdout
    res, summary = run_json(git_project)
    assert res.exit_code == 0, res.output
    now = {n["id"]: n["status"] for n in summary["nodes"]}
    assert now.pop("profile.adults_profile") == "success"
    assert set(now.values()) == {"cached"}


def test_profile_max_top_values_lists_the_most_frequent_values(git_project: Path) -> None:
    small_project(
        git_project,
        {
            "seeknal/profiles/cities.yml": (
                "kind: profile\nname: cities\ninputs:\n  - ref: source.people\n"
                "profile:\n  columns: [city, age, height]\n  params:\n    max_top_values: 2\n"
            ),
        },
    )
    res = cli(git_project, "run")
    assert res.exit_code == 0, res.output
    assert "profile.columns height not in the input" in res.output
    stats = rows(output(git_project, "profile.cities"), "SELECT * FROM t")
    # listed columns come in the input's order; only text columns get top values
    assert [s[:2] for s in stats if s[1] in ("row_count", "null_count", "top_values")] == [
        ("_table_", "row_count"),
        ("age", "null_count"),
        ("city", "null_count"),
        ("city", "top_values"),
    ]
    (detail,) = [s[3] for s in stats if s[1] == "top_values"]
    assert json.loads(detail) == [
        {"value": "Oslo", "count": 2, "percent": 40.0},
        {"value": "Rome", "count": 2, "percent": 40.0},
    ]
    assert ("age", "stddev", "12.409673645990857", None) in stats


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ("  params:\n    bins: 9\n", "profile.params.bins: not a profile option"),
        ("  sample: 10\n", "profile.sample: not a profile option"),
        (
            "  params:\n    max_top_values: 0\n",
            "profile.params.max_top_values must be a positive integer",
        ),
    ],
)
def test_profile_options_it_cannot_honour_are_refused_at_load(
    git_project: Path, options: str, message: str
) -> None:
    small_project(
        git_project,
        {
            "seeknal/profiles/p.yml": (
                f"kind: profile\nname: p\ninputs:\n  - ref: source.people\nprofile:\n{options}"
            ),
        },
    )
    res = cli(git_project, "plan")
    assert res.exit_code == 1
    assert f"seeknal/profiles/p.yml:5: {message}" in res.stderr


@pytest.mark.parametrize("fmt", ["csv", "parquet", "json"])
def test_exposure_depends_on_writes_the_upstream_output(git_project: Path, fmt: str) -> None:
    small_project(
        git_project,
        {
            "seeknal/exposures/export.yml": (
                "kind: exposure\nname: export\ntype: file\ndepends_on:\n"
                f"  - ref: transform.city_counts\nparams:\n  format: {fmt}\n"
                f"  path: exports/city_counts.{fmt}\n"
            ),
        },
    )
    res, summary = run_json(git_project)
    assert res.exit_code == 0, res.output
    assert statuses(summary)["exposure.export"] == "success"
    path = git_project / "exports" / f"city_counts.{fmt}"
    assert rows(path) == [("Lima", 1), ("Oslo", 1), ("Rome", 1)]
    assert run_state(git_project)["nodes"]["exposure.export"]["output_path"] == (
        f"exports/city_counts.{fmt}"
    )
    # the exposure follows its upstream
    src = git_project / "seeknal/transforms/adults.yml"
    src.write_text(src.read_text().replace("age >= 18", "age >= 40"))
    _, summary = run_json(git_project)
    assert ran(summary) == {"transform.adults", "transform.city_counts", "exposure.export"}
    assert rows(path) == [("Rome", 1)]


# -- what is not executed ---------------------------------------------------------------------


def test_python_files_without_nodes_are_reported_not_dropped(git_project: Path) -> None:
    small_project(git_project, {"seeknal/transforms/scorer.py": "def run(df):\n    return df\n"})
    for args in (["plan"], ["run"]):
        res = cli(git_project, *args)
        assert res.exit_code == 0, res.output
        assert "seeknal/transforms/scorer.py: defines no node" in res.stderr


def test_unsupported_kinds_plan_but_fail_only_when_run(git_project: Path) -> None:
    small_project(
        git_project,
        {
            "seeknal/models/person_model.yml": "kind: model\nname: person_model\n",
            "seeknal/metrics/adult_count.yml": (
                "kind: metric\nname: adult_count\ninputs:\n  - ref: model.person_model\n"
            ),
        },
    )
    plan = cli(git_project, "plan")
    assert plan.exit_code == 0, plan.output
    assert "model.person_model" in plan.stdout
    assert "metric.adult_count" in plan.stdout

    # a run that leaves them out succeeds
    res, summary = run_json(git_project, "--nodes", "source.people")
    assert res.exit_code == 0, res.output
    assert ran(summary) == {
        "source.people",
        "transform.adults",
        "transform.city_counts",
        "transform.names",
    }

    # a full run leaves them out too: nothing executable reads them
    res, summary = run_json(git_project)
    assert res.exit_code == 0, res.output
    idle = {n["id"]: n for n in summary["nodes"] if n["id"].startswith(("model", "metric"))}
    assert {n["status"] for n in idle.values()} == {"unsupported"}
    assert "2 not executable yet" in cli(git_project, "run").stdout
    assert "not supported for execution yet" in idle["model.person_model"]["reason"]
    # they are counted apart: not executable is not cached
    assert "0 node(s) to run, 4 cached, 2 not executable yet." in cli(git_project, "plan").stdout
    rerun = cli(git_project, "run").stdout
    assert "Running 0 node(s), 4 cached, 2 not executable yet" in rerun

    # once an executable node reads one, the run needs it and fails clearly
    write_tree(
        git_project,
        {
            "seeknal/transforms/from_features.yml": (
                "kind: transform\nname: from_features\n"
                "inputs:\n  - ref: model.person_model\n"
                "transform: SELECT * FROM ref('model.person_model')\n"
            )
        },
    )
    res, summary = run_json(git_project)
    assert res.exit_code == 1
    st = statuses(summary)
    assert st["model.person_model"] == "failed"
    assert st["transform.from_features"] == "skipped"
    failed = next(n for n in summary["nodes"] if n["id"] == "model.person_model")
    assert "not supported for execution yet" in failed["error"]
    assert "model" in failed["error"]


def test_rule_type_null_unquoted_is_the_null_rule(git_project: Path) -> None:
    small_project(
        git_project,
        {
            "data/people.csv": "id,name,age,city\n1,Ann,34,Oslo\n2,Bob,17,\n",
            "seeknal/rules/city_set.yml": (
                "kind: rule\nname: city_set\ninputs:\n  - ref: source.people\n"
                "rule:\n  type: null\n  column: city\nparams:\n  severity: warn\n"
            ),
        },
    )
    res = cli(git_project, "run")
    assert res.exit_code == 0, res.output
    assert rows(output(git_project, "rule.city_set"), "SELECT rule_type, violations FROM t") == [
        ("null", 1)
    ]


def test_write_tree_helper_writes_bytes_and_text(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a/b.txt": "x", "c.bin": b"\x00\x01"})
    assert (tmp_path / "a" / "b.txt").read_text() == "x"
    assert (tmp_path / "c.bin").read_bytes() == b"\x00\x01"


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT count(*) AS n FROM input_0 -- trailing comment",
        "SELECT count(*) AS n FROM input_0; -- done\n-- the end",
        "SELECT count(*) AS n FROM input_0 /* block */ ;",
        "CREATE TABLE x AS SELECT * FROM input_0; -- staged\nSELECT count(*) AS n FROM x -- last",
    ],
    ids=["line-comment", "semicolon-then-comments", "block-comment", "multi-statement"],
)
def test_sql_ending_in_a_comment_or_semicolon(git_project: Path, sql: str) -> None:
    small_project(git_project, transform("commented", sql, ("source.people",)))
    res = cli(git_project, "run")
    assert res.exit_code == 0, res.output
    assert rows(output(git_project, "transform.commented")) == [(5,)]


def test_rule_sql_ending_in_a_comment(git_project: Path) -> None:
    small_project(
        git_project,
        {
            "seeknal/rules/teens.yml": (
                "kind: rule\nname: teens\ninputs:\n  - ref: source.people\nrule:\n"
                "  type: sql_assertion\n  sql: |\n"
                "    SELECT * FROM ref('source.people') WHERE age < 18 -- minors\n"
                "params:\n  severity: warn\n"
            ),
            "seeknal/rules/sane.yml": (
                "kind: rule\nname: sane\ninputs:\n  - ref: source.people\nrule:\n"
                "  type: custom\n  expression: age < 100 -- nobody is that old\n"
            ),
        },
    )
    res = cli(git_project, "run")
    assert res.exit_code == 0, res.output
    assert rows(output(git_project, "rule.teens"), "SELECT violations FROM t") == [(2,)]
    assert rows(output(git_project, "rule.sane"), "SELECT violations FROM t") == [(0,)]


def test_non_file_exposure_only_documents_and_writes_nothing(git_project: Path) -> None:
    """A dashboard exposure documents a consumer (as in dbt): it never runs, never fails."""
    small_project(
        git_project,
        {
            "seeknal/exposures/dash.yml": (
                "kind: exposure\nname: dash\ntype: dashboard\ndepends_on:\n"
                "  - ref: transform.adults\nurl: https://bi.example/dash\n"
            ),
        },
    )
    before = sorted(p.name for p in git_project.iterdir())
    res, summary = run_json(git_project)
    assert res.exit_code == 0, res.output
    dash = next(n for n in summary["nodes"] if n["id"] == "exposure.dash")
    assert dash["status"] == "unsupported"
    assert "exposure type 'dashboard' documents a consumer; nothing to run" in dash["reason"]
    assert statuses(summary)["transform.city_counts"] == "success"
    # an env plan over it works and can be promoted
    assert cli(git_project, "plan", "dev").exit_code == 0
    assert cli(git_project, "run", "--env", "dev").exit_code == 0
    assert sorted(p.name for p in git_project.iterdir()) == sorted([*before, "target"])
