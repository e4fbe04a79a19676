"""Change categories for an environment plan (docs/concepts.md): pure functions over two versions of a
project held in memory (no disk, no DuckDB)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

from seeknal.dag import Dag
from seeknal.errors import EnvError
from seeknal.planning.changes import EnvDecision, categorize
from seeknal.planning.fingerprint import NodeFingerprint, fingerprint_project
from seeknal.planning.manifest import build_manifest
from seeknal.project.loader import load_project
from seeknal.sql.compare import compare_sql
from seeknal.types import Project


class MemFiles:
    """Project files held in a dict (the ProjectFiles protocol the loader reads through)."""

    def __init__(self, files: Mapping[str, str]) -> None:
        self.files = {k: v.encode() for k, v in files.items()}

    def list_files(self, folder: str) -> list[str]:
        prefix = folder.rstrip("/") + "/"
        return sorted(k for k in self.files if k.startswith(prefix))

    def links(self, folder: str) -> list[tuple[str, str]]:
        return []

    def read(self, path: str) -> bytes | None:
        return self.files.get(path)

    def data_digest(self, table: str, memo: object) -> str | None:
        import hashlib

        data = self.files.get(table)
        return hashlib.sha256(data).hexdigest() if data is not None else None


BASE: dict[str, str] = {
    "seeknal_project.yml": "name: cat\nversion: 1.0.0\nprofile: default\nconfig-version: 1\n",
    "data/people.csv": "id,name,age,city\n1,Ann,34,Oslo\n2,Bob,17,Rome\n",
    "data/cities.csv": "city,country\nOslo,NO\nRome,IT\n",
    "seeknal/sources/people.yml": (
        "kind: source\nname: people\nsource: csv\ntable: data/people.csv\n"
    ),
    "seeknal/sources/cities.yml": (
        "kind: source\nname: cities\nsource: csv\ntable: data/cities.csv\n"
    ),
    "seeknal/transforms/adults.yml": """\
kind: transform
name: adults
description: People aged 18 or more.
owner: team-a
tags: [core]
columns:
  id: Person id
inputs:
  - ref: source.people
transform: |
  SELECT id, name, age, city
  FROM ref('source.people')
  WHERE age >= 18
""",
    # explicit columns from adults
    "seeknal/transforms/city_counts.yml": """\
kind: transform
name: city_counts
inputs:
  - ref: transform.adults
transform: |
  SELECT city, count(*) AS n FROM ref('transform.adults') GROUP BY city
""",
    # SELECT * from adults: new columns of adults flow into it
    "seeknal/transforms/adults_all.yml": """\
kind: transform
name: adults_all
inputs:
  - ref: transform.adults
transform: |
  SELECT * FROM ref('transform.adults')
""",
    # a join
    "seeknal/transforms/located.yml": """\
kind: transform
name: located
inputs:
  - ref: transform.adults
  - ref: source.cities
transform: |
  SELECT a.id, a.name, c.country
  FROM ref('transform.adults') a
  JOIN ref('source.cities') c ON c.city = a.city
""",
    # a CTE
    "seeknal/transforms/staged.yml": """\
kind: transform
name: staged
inputs:
  - ref: source.people
transform: |
  WITH base AS (
    SELECT id, age FROM ref('source.people') WHERE age >= 18
  )
  SELECT id, age FROM base
""",
    "seeknal/exposures/adults_export.yml": """\
kind: exposure
name: adults_export
type: file
depends_on:
  - ref: transform.adults
params:
  format: csv
  path: exports/adults.csv
""",
}

ADULTS = "seeknal/transforms/adults.yml"
ADULTS_DOWNSTREAM = {
    "transform.city_counts",
    "transform.adults_all",
    "transform.located",
    "exposure.adults_export",
}


def edit(files: Mapping[str, str], path: str, old: str, new: str) -> dict[str, str]:
    assert old in files[path], f"{old!r} not in {path}"
    return {**files, path: files[path].replace(old, new)}


def load(files: Mapping[str, str]) -> tuple[Project, Dag, dict[str, NodeFingerprint]]:
    project = load_project(Path("/mem/project"), files=MemFiles(files))
    dag = Dag({nid: n.inputs for nid, n in project.nodes.items()})
    digests = {
        node.id: hashlib.sha256(files[str(node.config["table"])].encode()).hexdigest()
        for node in project.nodes.values()
        if node.kind.value == "source"
    }
    return project, dag, fingerprint_project(project, digests)


def decide(
    new: Mapping[str, str],
    old: Mapping[str, str] = BASE,
    breaking: Iterable[str] = (),
    non_breaking: Iterable[str] = (),
    valid: set[str] | None = None,
) -> EnvDecision:
    old_project, _, old_fps = load(old)
    prod_nodes = build_manifest(old_project, old_fps, "test", "2024-01-01T00:00:00Z")["nodes"]
    project, dag, fps = load(new)
    return categorize(
        project,
        dag,
        fps,
        prod_nodes,
        set(old_project.nodes) if valid is None else valid,
        set(breaking),
        set(non_breaking),
    )


def executed(decision: EnvDecision) -> set[str]:
    return set(decision.nodes_to_execute)


# ---------------------------------------------------------------------------------------------
# compare_sql: the SQL-level table

OLD = "SELECT id, name, age FROM ref('source.people') WHERE age >= 18"


@pytest.mark.parametrize(
    ("new", "non_breaking", "reason_has"),
    [
        (OLD.replace("age FROM", "age, age * 2 AS age2 FROM"), True, ["`age2`"]),
        (OLD.replace("age FROM", "age, 1 AS a, 2 AS b FROM"), True, ["`a`", "`b`", "columns"]),
        (OLD.replace("SELECT id", "SELECT age * 2 AS age2, id"), True, ["`age2`"]),
        (OLD.replace(">= 18", ">= 21"), False, ["filter", "age"]),
        (OLD + " AND name <> 'x'", False, ["filter"]),
        (OLD.replace(" WHERE age >= 18", ""), False, ["filter"]),
        (OLD.replace("id, name, age", "id, name"), False, ["`age`", "removed"]),
        (OLD.replace("name,", "name AS full_name,"), False, ["renamed", "`name`", "`full_name`"]),
        (OLD.replace("name,", "upper(name) AS name,"), False, ["expression", "`name`"]),
        (OLD.replace("SELECT id", "SELECT DISTINCT id"), False, ["DISTINCT"]),
        (OLD + " LIMIT 5", False, ["LIMIT"]),
        # adding a column while also changing another is not "only new columns"
        (OLD.replace("name, age", "lower(name) AS name, age, 1 AS x"), False, ["SQL changed"]),
        # SELECT * in the new query: columns cannot be compared
        (OLD.replace("age FROM", "age, * FROM"), False, ["SQL changed"]),
        ("SELECT id FROM (", False, ["SQL changed"]),
    ],
)
def test_compare_sql_table(new: str, non_breaking: bool, reason_has: list[str]) -> None:
    change = compare_sql(OLD, new)
    assert change.non_breaking is non_breaking, change
    for text in reason_has:
        assert text in change.reason, change.reason


def test_compare_sql_join_changes_are_breaking() -> None:
    old = (
        "SELECT p.id, c.country FROM ref('source.people') p "
        "JOIN ref('source.cities') c ON c.city = p.city"
    )
    for new in (
        old.replace("JOIN", "LEFT JOIN"),
        old.replace("c.city = p.city", "c.name = p.city"),
        old + " JOIN ref('source.extra') e ON e.id = p.id",
    ):
        change = compare_sql(old, new)
        assert not change.non_breaking
        assert "join" in change.reason, change.reason


def test_compare_sql_changed_literal_is_breaking() -> None:
    change = compare_sql("SELECT id, 'eu' AS region FROM t", "SELECT id, 'us' AS region FROM t")
    assert not change.non_breaking
    assert "`region`" in change.reason


def test_compare_sql_cte_edits() -> None:
    old = (
        "WITH b AS (SELECT id, age FROM ref('source.people') WHERE age >= 18) SELECT id, age FROM b"
    )
    change = compare_sql(old, old.replace(">= 18", ">= 30"))
    assert not change.non_breaking
    assert "filter" in change.reason and "CTE `b`" in change.reason
    # a column added inside the CTE only, not to the output
    change = compare_sql(
        old, old.replace("SELECT id, age FROM ref", "SELECT id, age, 1 AS x FROM ref")
    )
    assert not change.non_breaking
    assert "CTE `b`" in change.reason
    # a column added to the final SELECT over an unchanged CTE
    change = compare_sql(
        old, old.replace("SELECT id, age FROM b", "SELECT id, age, age + 1 AS nxt FROM b")
    )
    assert change.non_breaking and "`nxt`" in change.reason


@pytest.mark.parametrize(
    ("old", "new"),
    [
        # DISTINCT over one more column returns more rows
        ("SELECT DISTINCT city FROM t", "SELECT DISTINCT city, age FROM t"),
        # GROUP BY ALL groups by the new column too
        (
            "SELECT city, count(*) AS n FROM t GROUP BY ALL",
            "SELECT city, age, count(*) AS n FROM t GROUP BY ALL",
        ),
        # positional GROUP BY / ORDER BY now points at the new column
        (
            "SELECT city, count(*) AS n FROM t GROUP BY 1",
            "SELECT age, city, count(*) AS n FROM t GROUP BY 1",
        ),
        (
            "SELECT id, name FROM t ORDER BY 1 LIMIT 3",
            "SELECT age, id, name FROM t ORDER BY 1 LIMIT 3",
        ),
        # unnest multiplies rows
        ("SELECT id FROM t", "SELECT id, unnest([1, 2]) AS x FROM t"),
        # an aggregate collapses a plain query to one row
        ("SELECT 1 AS one FROM t", "SELECT 1 AS one, count(*) AS n FROM t"),
    ],
    ids=["distinct", "group-by-all", "group-by-position", "order-by-position", "unnest", "agg"],
)
def test_new_column_that_changes_existing_rows_is_breaking(old: str, new: str) -> None:
    change = compare_sql(old, new)
    assert not change.non_breaking, change


def test_compare_sql_new_aggregate_in_grouped_query_is_non_breaking() -> None:
    old = "SELECT city, count(*) AS n FROM t GROUP BY city"
    change = compare_sql(old, old.replace("AS n", "AS n, avg(age) AS mean_age"))
    assert change.non_breaking and "`mean_age`" in change.reason
    # appending after positional references leaves them pointing where they did
    old = "SELECT city, count(*) AS n FROM t GROUP BY 1 ORDER BY 1"
    assert compare_sql(old, old.replace("AS n", "AS n, max(age) AS oldest")).non_breaking


# ---------------------------------------------------------------------------------------------
# categorize: nodes and their downstream


def test_added_column_is_non_breaking_and_only_star_children_run() -> None:
    new = edit(BASE, ADULTS, "age, city", "age, city, age * 12 AS age_months")
    d = decide(new)
    assert d.categories["transform.adults"] == "non_breaking"
    assert "`age_months`" in d.reasons["transform.adults"]
    assert d.direct == {"transform.adults": "non_breaking"}
    for child in ADULTS_DOWNSTREAM:
        assert d.categories[child] == "indirect_non_breaking", child
    # SELECT * and exposures pass the new column on: they run
    assert "SELECT *" in d.reasons["transform.adults_all"]
    assert "gains columns" in d.reasons["exposure.adults_export"]
    # explicit columns: production data kept
    assert "production data kept" in d.reasons["transform.city_counts"]
    assert executed(d) == {"transform.adults", "transform.adults_all", "exposure.adults_export"}
    assert {"transform.city_counts", "transform.located"} <= set(d.refs)
    assert d.nodes_to_execute.index("transform.adults") < d.nodes_to_execute.index(
        "transform.adults_all"
    )
    assert d.added == [] and d.removed == []


def test_filter_change_is_breaking_and_everything_downstream_runs() -> None:
    d = decide(edit(BASE, ADULTS, "age >= 18", "age >= 21"))
    assert d.categories["transform.adults"] == "breaking"
    assert "filter" in d.reasons["transform.adults"]
    for child in ADULTS_DOWNSTREAM:
        assert d.categories[child] == "indirect_breaking", child
        assert "transform.adults" in d.reasons[child]
    assert executed(d) == {"transform.adults"} | ADULTS_DOWNSTREAM
    # unrelated nodes are neither categorised nor executed: they are read from production
    assert set(d.refs) == {"source.people", "source.cities", "transform.staged"}
    assert set(d.categories) == {"transform.adults"} | ADULTS_DOWNSTREAM


def test_join_change_is_breaking() -> None:
    path = "seeknal/transforms/located.yml"
    d = decide(edit(BASE, path, "JOIN ref('source.cities')", "LEFT JOIN ref('source.cities')"))
    assert d.categories == {"transform.located": "breaking"}
    assert "join" in d.reasons["transform.located"]
    assert executed(d) == {"transform.located"}


def test_removed_and_renamed_columns_are_breaking_and_named() -> None:
    d = decide(edit(BASE, ADULTS, "SELECT id, name, age, city", "SELECT id, name, city"))
    assert d.categories["transform.adults"] == "breaking"
    assert "`age`" in d.reasons["transform.adults"] and "removed" in d.reasons["transform.adults"]
    d = decide(edit(BASE, ADULTS, "SELECT id, name, age", "SELECT id, name AS who, age"))
    assert d.categories["transform.adults"] == "breaking"
    assert "renamed" in d.reasons["transform.adults"]
    assert "`who`" in d.reasons["transform.adults"]
    assert executed(d) == {"transform.adults"} | ADULTS_DOWNSTREAM


def test_changed_literal_is_breaking() -> None:
    d = decide(edit(BASE, ADULTS, "SELECT id, name", "SELECT id, 'x' || name AS name"))
    assert d.categories["transform.adults"] == "breaking"
    assert "`name`" in d.reasons["transform.adults"]


def test_edits_inside_a_cte() -> None:
    path = "seeknal/transforms/staged.yml"
    d = decide(edit(BASE, path, "age >= 18", "age >= 65"))
    assert d.categories == {"transform.staged": "breaking"}
    assert "CTE `base`" in d.reasons["transform.staged"]
    d = decide(
        edit(BASE, path, "SELECT id, age FROM base", "SELECT id, age, age > 60 AS senior FROM base")
    )
    assert d.categories == {"transform.staged": "non_breaking"}
    assert "`senior`" in d.reasons["transform.staged"]


def test_whitespace_comment_and_keyword_case_edits_change_nothing() -> None:
    new = edit(
        BASE,
        ADULTS,
        "  SELECT id, name, age, city\n  FROM ref('source.people')\n  WHERE age >= 18\n",
        "  -- adults only\n  select   id,\n         name, age,   city\n\n"
        "  from ref('source.people')   /* people */\n  where age>=18\n",
    )
    old_fps, new_fps = load(BASE)[2], load(new)[2]
    assert old_fps == new_fps
    d = decide(new)
    assert d.categories == {} and d.reasons == {}
    assert d.nodes_to_execute == []
    assert len(d.refs) == len(old_fps)


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("description: People aged 18 or more.", "description: Grown-ups.", "description"),
        ("owner: team-a", "owner: team-b", "owner"),
        ("tags: [core]", "tags: [core, pii]", "tags"),
        ("  id: Person id", "  id: Identifier of the person", "column descriptions"),
    ],
)
def test_metadata_only_edits_execute_nothing(old: str, new: str, field: str) -> None:
    changed = edit(BASE, ADULTS, old, new)
    assert load(changed)[2]["transform.adults"].fingerprint == (
        load(BASE)[2]["transform.adults"].fingerprint
    )
    d = decide(changed)
    assert d.categories == {"transform.adults": "metadata"}
    assert field in d.reasons["transform.adults"]
    assert d.nodes_to_execute == []


def test_metadata_change_below_a_breaking_change_runs_and_keeps_both_reasons() -> None:
    new = edit(BASE, ADULTS, "age >= 18", "age >= 21")
    new = {
        **new,
        "seeknal/transforms/city_counts.yml": "description: Adults per city.\n"
        + new["seeknal/transforms/city_counts.yml"],
    }
    d = decide(new)
    assert d.categories["transform.city_counts"] == "indirect_breaking"
    assert "description changed" in d.reasons["transform.city_counts"]
    assert "transform.city_counts" in executed(d)


def test_source_data_change_is_breaking() -> None:
    new = {**BASE, "data/people.csv": BASE["data/people.csv"] + "3,Cid,40,Oslo\n"}
    d = decide(new)
    assert d.categories["source.people"] == "breaking"
    assert d.reasons["source.people"] == "source data changed"
    assert (
        executed(d)
        == {
            "source.people",
            "transform.adults",
            "transform.staged",
        }
        | ADULTS_DOWNSTREAM
    )
    assert d.refs == ["source.cities"]


def test_new_input_is_breaking() -> None:
    path = "seeknal/transforms/adults_all.yml"
    new = edit(
        BASE,
        path,
        "  - ref: transform.adults\n",
        "  - ref: transform.adults\n  - ref: source.cities\n",
    )
    d = decide(new)
    assert d.categories["transform.adults_all"] == "breaking"
    assert "inputs" in d.reasons["transform.adults_all"]


def test_breaking_override_makes_a_non_breaking_change_rerun_downstream() -> None:
    new = edit(BASE, ADULTS, "age, city", "age, city, 1 AS one")
    d = decide(new, breaking=["transform.adults"])
    assert d.categories["transform.adults"] == "breaking"
    assert "--breaking" in d.reasons["transform.adults"]
    assert all(d.categories[c] == "indirect_breaking" for c in ADULTS_DOWNSTREAM)
    assert executed(d) == {"transform.adults"} | ADULTS_DOWNSTREAM


def test_non_breaking_override_keeps_explicit_children_on_production_data() -> None:
    new = edit(BASE, ADULTS, "age >= 18", "age >= 21")
    d = decide(new, non_breaking=["transform.adults"])
    assert d.categories["transform.adults"] == "non_breaking"
    assert "--non-breaking" in d.reasons["transform.adults"]
    assert executed(d) == {"transform.adults", "transform.adults_all", "exposure.adults_export"}
    assert d.categories["transform.city_counts"] == "indirect_non_breaking"


@pytest.mark.parametrize(
    ("flag", "node", "state"),
    [
        ("breaking", "transform.staged", "unchanged"),
        ("non_breaking", "source.cities", "unchanged"),
        # only downstream of the change: its own definition is unchanged
        ("breaking", "transform.city_counts", "unchanged"),
        ("non_breaking", "transform.located", "metadata"),
    ],
)
def test_override_of_a_node_not_directly_changed_is_a_clear_error(
    flag: str, node: str, state: str
) -> None:
    new = edit(BASE, ADULTS, "age >= 18", "age >= 21")
    new = edit(new, "seeknal/transforms/located.yml", "name: located", "name: located\nowner: x")
    with pytest.raises(EnvError) as err:
        decide(new, **{flag: [node]})
    message = str(err.value)
    assert node in message and "not directly changed" in message
    if state == "unchanged":
        assert "its own file did not change" in message
    else:
        assert f"it is {state}" in message
    assert "--" + flag.replace("_", "-") in message
    assert err.value.hint


def test_added_and_removed_nodes() -> None:
    new = dict(BASE)
    del new["seeknal/transforms/city_counts.yml"]
    new["seeknal/transforms/teens.yml"] = (
        "kind: transform\nname: teens\ninputs:\n  - ref: source.people\n"
        "transform: SELECT id FROM ref('source.people') WHERE age < 18\n"
    )
    new["seeknal/transforms/teen_count.yml"] = (
        "kind: transform\nname: teen_count\ninputs:\n  - ref: transform.teens\n"
        "transform: SELECT count(*) AS n FROM ref('transform.teens')\n"
    )
    d = decide(new)
    assert d.added == ["transform.teens", "transform.teen_count"] or set(d.added) == {
        "transform.teens",
        "transform.teen_count",
    }
    assert d.categories["transform.teens"] == "added"
    assert d.reasons["transform.teens"] == "new node"
    assert d.removed == ["transform.city_counts"]
    assert d.categories["transform.city_counts"] == "removed"
    assert "deleted on promote" in d.reasons["transform.city_counts"]
    assert executed(d) == {"transform.teens", "transform.teen_count"}
    assert "transform.city_counts" not in d.refs


def test_every_node_is_added_without_production() -> None:
    project, dag, fps = load(BASE)
    d = categorize(project, dag, fps, {}, set())
    assert set(d.categories.values()) == {"added"}
    assert d.nodes_to_execute == list(project.order)
    assert d.refs == []


def test_node_without_a_valid_production_output_is_computed_in_the_env() -> None:
    valid = set(load(BASE)[0].nodes) - {"transform.staged"}
    d = decide(dict(BASE), valid=valid)
    assert d.categories == {}
    assert d.nodes_to_execute == ["transform.staged"]
    assert "no valid output" in d.reasons["transform.staged"]


# ---------------------------------------------------------------------------------------------
# a non-breaking change meets a breaking one; results that depend on the set of columns


def test_non_breaking_change_below_a_breaking_one_rebuilds_its_downstream() -> None:
    """New source rows reach adults, which also gains a column: adults' existing columns
    change, so city_counts (explicit columns) cannot keep production's data."""
    new = {**BASE, "data/people.csv": BASE["data/people.csv"] + "3,Cid,40,Oslo\n"}
    new = edit(new, ADULTS, "age, city", "age, city, age * 12 AS age_months")
    d = decide(new)
    assert d.categories["transform.adults"] == "indirect_breaking"
    assert d.reasons["transform.adults"] == (
        "upstream source.people is breaking; also only new column `age_months` added"
    )
    assert d.direct["transform.adults"] == "non_breaking"
    for child in ADULTS_DOWNSTREAM:
        assert d.categories[child] == "indirect_breaking", child
    assert ADULTS_DOWNSTREAM <= executed(d)


def _child(sql: str) -> dict[str, str]:
    new = edit(BASE, ADULTS, "age, city", "age, city, age * 12 AS age_months")
    inputs = "  - ref: transform.adults\n  - ref: source.cities\n"
    return {
        **new,
        "seeknal/transforms/child.yml": (
            f"kind: transform\nname: child\ninputs:\n{inputs}transform: |\n  {sql}\n"
        ),
    }


ADULTS_REF = "ref('transform.adults')"


@pytest.mark.parametrize(
    ("sql", "why"),
    [
        (
            f"WITH d AS (SELECT DISTINCT * FROM {ADULTS_REF}) SELECT count(*) AS n FROM d",
            "`*` inside the query",
        ),
        (f"SELECT count(*) AS n FROM (SELECT DISTINCT * FROM {ADULTS_REF})", "`*` inside"),
        (f"SELECT id, md5(a::VARCHAR) AS h FROM {ADULTS_REF} a", "whole rows"),
        (f"SELECT to_json(a) AS j FROM {ADULTS_REF} a", "whole rows"),
        (f"SELECT max(COLUMNS(*)) FROM {ADULTS_REF}", "`*` inside"),
        (f"SELECT max(COLUMNS('a.*')) FROM {ADULTS_REF}", "by pattern"),
        (f"SELECT city FROM {ADULTS_REF} NATURAL JOIN ref('source.cities')", "NATURAL"),
        (f"PIVOT {ADULTS_REF} ON city USING count(*)", "last statement is not a query"),
        (f"SELECT count(*) AS n FROM (PIVOT {ADULTS_REF} ON city USING count(*))", "pivots"),
        (f"SELECT id FROM {ADULTS_REF} WHERE ({ADULTS_REF}.*) IS NOT NULL", "`*` inside"),
    ],
)
def test_results_that_depend_on_the_set_of_columns_are_recomputed(sql: str, why: str) -> None:
    d = decide(_child(sql), old=_child(sql) | {ADULTS: BASE[ADULTS]})
    assert d.categories["transform.child"] == "indirect_non_breaking"
    assert why in d.reasons["transform.child"], d.reasons["transform.child"]
    assert "transform.adults gains columns" in d.reasons["transform.child"]
    assert "transform.child" in executed(d)


@pytest.mark.parametrize(
    "sql",
    [
        f"SELECT city, count(*) AS n FROM {ADULTS_REF} GROUP BY city",
        f"WITH d AS (SELECT id, city FROM {ADULTS_REF}) SELECT DISTINCT * FROM d",
        f"SELECT c.*, a.name FROM ref('source.cities') c JOIN {ADULTS_REF} a USING (city)",
        f"SELECT count(*) OVER () AS n, id FROM {ADULTS_REF}",
    ],
)
def test_results_that_cannot_depend_on_the_set_of_columns_keep_production(sql: str) -> None:
    d = decide(_child(sql), old=_child(sql) | {ADULTS: BASE[ADULTS]})
    assert d.categories["transform.child"] == "indirect_non_breaking"
    assert "production data kept" in d.reasons["transform.child"], d.reasons["transform.child"]
    assert "transform.child" not in executed(d)


def test_a_column_named_like_a_new_one_is_recomputed() -> None:
    """adults gains `country`; a child naming cities' `country` without a table would now
    bind ambiguously: it runs (and fails in the env, before production), while one that
    qualifies it keeps production's data."""
    new = edit(BASE, ADULTS, "age, city", "age, city, 'NO' AS country")
    join = f"FROM {ADULTS_REF} a JOIN ref('source.cities') c ON c.city = a.city"
    files = {
        "seeknal/transforms/bare.yml": (
            "kind: transform\nname: bare\ninputs:\n  - ref: transform.adults\n"
            f"  - ref: source.cities\ntransform: SELECT a.id, country {join}\n"
        ),
        "seeknal/transforms/qualified.yml": (
            "kind: transform\nname: qualified\ninputs:\n  - ref: transform.adults\n"
            f"  - ref: source.cities\ntransform: SELECT a.id, c.country {join}\n"
        ),
    }
    d = decide({**new, **files}, old={**BASE, **files})
    assert d.categories["transform.adults"] == "non_breaking"
    assert "names `country` without a table" in d.reasons["transform.bare"]
    assert "transform.bare" in executed(d)
    assert "production data kept" in d.reasons["transform.qualified"]
    assert "transform.qualified" not in executed(d)


def test_new_columns_passed_on_by_select_star_are_known_downstream() -> None:
    """adults_all passes adults' new `country` on; its own child naming `country` bare (from
    a join) is recomputed too."""
    new = edit(BASE, ADULTS, "age, city", "age, city, 'NO' AS country")
    child = (
        "kind: transform\nname: grand\ninputs:\n  - ref: transform.adults_all\n"
        "  - ref: source.cities\ntransform: SELECT x.id, country FROM "
        "ref('transform.adults_all') x JOIN ref('source.cities') c ON c.city = x.city\n"
    )
    files = {"seeknal/transforms/grand.yml": child}
    d = decide({**new, **files}, old={**BASE, **files})
    assert "transform.adults_all" in executed(d)
    assert "names `country` without a table" in d.reasons["transform.grand"]
