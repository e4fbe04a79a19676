"""`ref('kind.name')` is found in SQL code only: never in comments, strings or quoted names."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import manifest, output, rows, run_json, small_project

from seeknal.sql.compare import compare_sql
from seeknal.sql.refs import replace_refs, sql_refs, strip_ref_call


def bound(sql: str) -> str:
    return replace_refs(sql, lambda node_id: f"<{node_id}>")


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM ref('a.b') -- was: ref('x.old')",
        "SELECT * FROM ref('a.b') --ref('x.old')\n",
        "-- ref('x.old')\nSELECT * FROM ref('a.b')",
        "SELECT * FROM /* ref('x.old') */ ref('a.b')",
        "SELECT * FROM ref('a.b') /* multi\nline ref('x.old')\n*/",
        "/* outer /* nested ref('x.old') */ still a comment ref('x.old') */ SELECT * FROM ref('a.b')",
        "SELECT 'ref(\"x.old\")' AS note FROM ref('a.b')",
        "SELECT 'it''s ref(''x.old'')' AS note FROM ref('a.b')",
        "SELECT E'it\\'s ref(\"x.old\")' AS note FROM ref('a.b')",
        "SELECT \"ref('x.old')\" FROM ref('a.b')",
        "SELECT $$ ref('x.old') $$ AS s, $q$ref('x.old')$q$ AS t FROM ref('a.b')",
        "SELECT * FROM ref('a.b') WHERE note = 'ref(\"x.old\") /* not a comment */'",
        "SELECT myref('x.old') FROM ref('a.b')",
    ],
)
def test_refs_outside_code_are_text(sql: str) -> None:
    assert sql_refs(sql) == ["a.b"]
    # only the ref in code is replaced; comments and strings are kept byte for byte
    assert bound(sql) == sql.replace("ref('a.b')", "<a.b>", 1)
    assert sql.count("x.old") == bound(sql).count("x.old")


def test_both_quote_styles_and_whitespace_inside_the_call() -> None:
    sql = "SELECT * FROM ref('a.b') JOIN ref(\"c.d\") JOIN ref ( 'e.f' ) JOIN ref(\n\t\"a.b\"\n)"
    assert sql_refs(sql) == ["a.b", "c.d", "e.f"]
    assert bound(sql) == "SELECT * FROM <a.b> JOIN <c.d> JOIN <e.f> JOIN <a.b>"


def test_replace_keeps_every_other_byte() -> None:
    sql = "  SELECT\t'ref(''x'')' AS \"Ref\", -- ref('y.z')\r\n  ref_count FROM ref('a.b') ;  \n"
    assert bound(sql) == sql.replace("ref('a.b')", "<a.b>")
    assert replace_refs("SELECT 1 -- no refs here", str.upper) == "SELECT 1 -- no refs here"


def test_malformed_calls_are_not_refs() -> None:
    assert sql_refs("SELECT ref('x.y\") FROM t") == []
    assert sql_refs("SELECT ref(/* c */ 'x.y') FROM t") == []
    assert sql_refs("SELECT ref(x.y) FROM t") == []
    assert sql_refs("SELECT * FROM t WHERE s = 'unterminated ref('x.y')") == []
    assert sql_refs("SELECT 1 /* unterminated ref('x.y')") == []


def test_strip_ref_call() -> None:
    assert strip_ref_call(" ref('a.b') ") == "a.b"
    assert strip_ref_call('ref("a.b")') == "a.b"
    assert strip_ref_call("  a.b\n") == "a.b"


def test_sql_comparison_ignores_refs_in_comments() -> None:
    old = "SELECT id FROM ref('a.b')"
    new = "SELECT id, 1 AS one FROM ref('a.b') -- was: ref('x.old')"
    change = compare_sql(old, new)
    assert change.non_breaking, change.reason
    assert change.reason == "only new column `one` added"


def test_a_commented_ref_no_longer_breaks_loading_and_the_node_runs(tmp_path: Path) -> None:
    root = small_project(
        tmp_path,
        {
            "seeknal/transforms/commented.yml": (
                "kind: transform\nname: commented\ninputs:\n  - ref: source.people\n"
                "transform: |\n"
                "  SELECT id, 'see ref(\"transform.gone\")' AS note\n"
                "  FROM ref('source.people') -- was: ref('transform.old_t')\n"
                "  /* ref('transform.older') */\n"
                "  WHERE age >= 18\n"
            )
        },
    )
    res, summary = run_json(root)
    assert res.exit_code == 0, res.output
    assert {n["id"]: n["status"] for n in summary["nodes"]}["transform.commented"] == "success"
    assert rows(output(root, "transform.commented")) == [
        (1, 'see ref("transform.gone")'),
        (3, 'see ref("transform.gone")'),
        (5, 'see ref("transform.gone")'),
    ]
    # neither an edge nor a warning about a ref missing from inputs
    assert "old_t" not in res.output and "older" not in res.output, res.output
    assert manifest(root)["nodes"]["transform.commented"]["inputs"] == ["source.people"]
