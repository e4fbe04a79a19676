"""Production runs execute only what changed, and everything downstream of it."""

from __future__ import annotations

from pathlib import Path

from conftest import (
    SMALL_ROWS,
    cli,
    manifest,
    output,
    ran,
    rows,
    run_json,
    run_state,
    statuses,
)

ADULTS = "seeknal/transforms/adults.yml"


def edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def first_run(root: Path) -> None:
    res, summary = run_json(root)
    assert res.exit_code == 0, res.output
    assert ran(summary) == set(SMALL_ROWS)


def test_second_run_executes_nothing(small: Path) -> None:
    first_run(small)
    before = {nid: output(small, nid).read_bytes() for nid in SMALL_ROWS}
    res = cli(small, "run")
    assert res.exit_code == 0, res.output
    assert "Nothing to do" in res.stdout
    assert "Running 0 node(s), 4 cached" in res.stdout
    assert {nid: output(small, nid).read_bytes() for nid in SMALL_ROWS} == before
    state = run_state(small)
    assert {e["status"] for e in state["nodes"].values()} == {"cached"}
    # cached entries keep what the run that produced them recorded
    assert state["nodes"]["transform.adults"]["row_count"] == 3


def test_editing_a_transform_runs_it_and_its_downstream_only(small: Path) -> None:
    first_run(small)
    edit(small, ADULTS, "age >= 18", "age >= 30")
    res, summary = run_json(small)
    assert res.exit_code == 0, res.output
    assert statuses(summary) == {
        "source.people": "cached",
        "transform.adults": "success",
        "transform.city_counts": "success",
        "transform.names": "cached",
    }
    reasons = {n["id"]: n["reason"] for n in summary["nodes"]}
    assert reasons["transform.adults"] == "SQL or config changed"
    assert reasons["transform.city_counts"] == "upstream transform.adults runs"
    assert rows(output(small, "transform.adults"), "SELECT name FROM t ORDER BY 1") == [
        ("Ann",),
        ("Cid",),
    ]
    assert rows(output(small, "transform.city_counts")) == [("Oslo", 1), ("Rome", 1)]
    # and the run after that is quiet again
    assert ran(run_json(small)[1]) == set()


def test_changing_source_data_reruns_the_source_and_downstream(small: Path) -> None:
    first_run(small)
    with (small / "data" / "people.csv").open("a") as handle:
        handle.write("6,Fay,61,Lima\n")
    res, summary = run_json(small)
    assert res.exit_code == 0, res.output
    assert ran(summary) == set(SMALL_ROWS)
    reasons = {n["id"]: n["reason"] for n in summary["nodes"]}
    assert reasons["source.people"] == "source data changed"
    assert rows(output(small, "transform.city_counts")) == [("Lima", 2), ("Oslo", 1), ("Rome", 1)]


def test_same_size_edit_of_source_data_is_noticed(small: Path) -> None:
    first_run(small)
    path = small / "data" / "people.csv"
    size = path.stat().st_size
    edit(small, "data/people.csv", "5,Eve,29,Lima", "5,Eve,12,Lima")
    assert path.stat().st_size == size
    res, summary = run_json(small)
    assert ran(summary) == set(SMALL_ROWS)
    assert rows(output(small, "transform.city_counts")) == [("Oslo", 1), ("Rome", 1)]


def test_deleted_output_reruns_that_node_and_downstream(small: Path) -> None:
    first_run(small)
    output(small, "transform.adults").unlink()
    res, summary = run_json(small)
    assert res.exit_code == 0, res.output
    assert ran(summary) == {"transform.adults", "transform.city_counts"}
    reasons = {n["id"]: n["reason"] for n in summary["nodes"]}
    assert reasons["transform.adults"] == "output file missing"
    assert rows(output(small, "transform.adults"), "SELECT count(*) FROM t") == [(3,)]


def test_tampered_output_reruns_that_node(small: Path) -> None:
    first_run(small)
    names = output(small, "transform.names")
    good = names.read_bytes()
    names.write_bytes(output(small, "source.people").read_bytes())
    res, summary = run_json(small)
    assert ran(summary) == {"transform.names"}
    assert names.read_bytes() == good


def test_metadata_only_edit_runs_nothing(small: Path) -> None:
    first_run(small)
    edit(
        small,
        ADULTS,
        "description: People aged 18 or more.",
        "description: Grown-ups.\nowner: someone\ntags: [x]\ncolumns:\n  id: The id",
    )
    res = cli(small, "run")
    assert res.exit_code == 0, res.output
    assert "Nothing to do" in res.stdout
    # the manifest still picks up the new description
    assert manifest(small)["nodes"]["transform.adults"]["description"] == "Grown-ups."
    assert manifest(small)["nodes"]["transform.adults"]["owner"] == "someone"


def test_sql_reformatting_runs_nothing(small: Path) -> None:
    first_run(small)
    edit(
        small,
        ADULTS,
        "  SELECT id, name, age, city\n  FROM ref('source.people')\n",
        "  -- reformatted\n  select id,\n         name, age, city\n  from   ref('source.people')\n",
    )
    assert ran(run_json(small)[1]) == set()


def test_new_node_runs_alone(small: Path) -> None:
    first_run(small)
    (small / "seeknal" / "transforms" / "oslo.yml").write_text(
        "kind: transform\nname: oslo\ninputs:\n  - ref: transform.adults\n"
        "transform: SELECT * FROM input_0 WHERE city = 'Oslo'\n"
    )
    res, summary = run_json(small)
    assert statuses(summary)["transform.oslo"] == "success"
    assert ran(summary) == {"transform.oslo"}
    assert {n["id"]: n["reason"] for n in summary["nodes"]}["transform.oslo"] == "new node"


def test_deleted_node_has_its_output_removed(small: Path) -> None:
    first_run(small)
    gone = output(small, "transform.names")
    assert gone.is_file()
    (small / "seeknal" / "transforms" / "names.yml").unlink()
    res = cli(small, "run")
    assert res.exit_code == 0, res.output
    assert not gone.exists()
    assert "Removed output of deleted node: target/cache/transform/names.parquet" in res.stdout
    assert "transform.names" not in run_state(small)["nodes"]
    assert "transform.names" not in manifest(small)["nodes"]


def test_changing_a_common_value_reruns_the_nodes_that_use_it(small: Path) -> None:
    (small / "seeknal" / "common").mkdir()
    (small / "seeknal" / "common" / "rules.yml").write_text(
        "rules:\n- id: grown\n  value: age >= 18\n"
    )
    edit(small, ADULTS, "WHERE age >= 18", "WHERE {{ rules.grown }}")
    first_run(small)
    (small / "seeknal" / "common" / "rules.yml").write_text(
        "rules:\n- id: grown\n  value: age >= 40\n"
    )
    res, summary = run_json(small)
    assert ran(summary) == {"transform.adults", "transform.city_counts"}
    assert rows(output(small, "transform.adults"), "SELECT name FROM t") == [("Cid",)]


def test_renaming_a_column_by_case_reruns_and_renames_the_output_column(small: Path) -> None:
    edit(small, "seeknal/transforms/names.yml", "upper(name) AS name", "upper(name) AS Shout")
    first_run(small)
    edit(small, "seeknal/transforms/names.yml", "AS Shout", "AS shout")
    _, summary = run_json(small)
    assert ran(summary) == {"transform.names"}
    columns = rows(output(small, "transform.names"), "SELECT column_name FROM (DESCRIBE t)")
    assert columns == [("id",), ("shout",)]
