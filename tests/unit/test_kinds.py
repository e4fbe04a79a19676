"""The kind registry: every kind has a spec, each spec checks its own files, and a kind that
only the registry knows loads, plans and executes like the built-in ones."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import PEOPLE_CSV, cli, minimal_project, output, rows, run_json, run_state

from seeknal import kinds
from seeknal.context import Context
from seeknal.errors import ProjectError, SeeknalError
from seeknal.kinds.base import Executed, ExecutionIO, FileChecks, KindSpec, PlannedOnly
from seeknal.planning.changes import categorize
from seeknal.planning.production import production_decisions
from seeknal.project.loader import load_project
from seeknal.project.shapes import Shape
from seeknal.types import Node, NodeKind

RUNS = {
    "source",
    "transform",
    "rule",
    "exposure",
    "profile",
    "feature_group",
    "aggregation",
    "second_order_aggregation",
}


def test_every_node_kind_has_its_spec_in_the_order_users_see() -> None:
    assert kinds.kind_names() == [k.value for k in NodeKind]
    for kind in NodeKind:
        spec = kinds.spec_for(kind.value)
        assert spec.kind is kind
        assert spec.runs == (kind.value in RUNS)
        assert type(spec).__module__ == f"seeknal.kinds.{kind.value}"
    assert {s.kind for s in kinds.all_specs() if s.passes_columns_through} == {
        NodeKind.EXPOSURE,
        NodeKind.PROFILE,
    }


def test_an_unknown_kind_is_a_clear_error() -> None:
    assert kinds.find("widget") is None
    with pytest.raises(SeeknalError) as info:
        kinds.spec_for("widget")
    assert "Unknown node kind 'widget'" in info.value.message
    assert "source, transform" in info.value.message


# ---------------------------------------------------------------------------------------------
# A kind seeknal does not ship: the first `limit` rows of its input


class SampleSpec(KindSpec):
    kind = "sample"

    def shape_problems(self, data: dict[str, Any]) -> list[tuple[str, str]]:
        shape = Shape()
        limit = data.get("limit")
        ok = isinstance(limit, int) and not isinstance(limit, bool)
        shape.expect("limit", "limit", limit, ok, "a whole number")
        return shape.found

    def check(self, data: dict[str, Any], checks: FileChecks) -> None:
        if data.get("limit") is None:
            checks.problem("sample needs 'limit: <rows>'", 1)
        elif data["limit"] < 0:
            checks.problem("limit must not be negative", checks.line("limit"))

    def execute(self, node: Node, io: ExecutionIO) -> Executed:
        source = io.relation(self.this_input(node))
        limit = int(node.config["limit"])
        return Executed(io.write(f"SELECT * FROM {source} ORDER BY id LIMIT {limit}"))


class SketchSpec(PlannedOnly):
    kind = "sketch"


@pytest.fixture
def new_kinds() -> Iterator[None]:
    kinds.register(SampleSpec())
    kinds.register(SketchSpec())
    try:
        yield
    finally:
        kinds.unregister("sample")
        kinds.unregister("sketch")
    assert kinds.find("sample") is None


SOURCE = "kind: source\nname: people\nsource: csv\ntable: data/people.csv\n"
SAMPLE = "kind: sample\nname: first\ninputs:\n  - ref: source.people\nlimit: {limit}\n"
SKETCH = "kind: sketch\nname: s\ninputs:\n  - ref: sample.first\n"


def sample_project(root: Path, limit: Any = 2) -> Path:
    return minimal_project(
        root,
        {
            "data/people.csv": PEOPLE_CSV,
            "seeknal/sources/people.yml": SOURCE,
            "seeknal/samples/first.yml": SAMPLE.format(limit=limit),
            "seeknal/sketches/s.yml": SKETCH,
        },
    )


def load_errors(root: Path) -> list[str]:
    with pytest.raises(ProjectError) as info:
        load_project(root)
    return [str(p) for p in info.value.problems]


def test_a_kind_only_the_registry_knows_is_unknown_until_registered(tmp_path: Path) -> None:
    sample_project(tmp_path)
    errors = load_errors(tmp_path)
    assert errors[0] == (
        "seeknal/samples/first.yml:1: unknown kind 'sample' (known: source, transform, rule, "
        "exposure, profile, feature_group, aggregation, second_order_aggregation, model, "
        "semantic_model, metric)"
    )


def test_a_registered_kind_loads_with_its_own_checks(tmp_path: Path, new_kinds: None) -> None:
    project = load_project(sample_project(tmp_path))
    first = project.nodes["sample.first"]
    assert (first.kind, first.inputs, first.config["limit"]) == ("sample", ("source.people",), 2)
    assert kinds.spec_for(first.kind).executable(first)
    sketch = project.nodes["sketch.s"]
    assert not kinds.spec_for(sketch.kind).executable(sketch)
    assert project.order == ("source.people", "sample.first", "sketch.s")

    sample_project(tmp_path, limit="many")
    assert load_errors(tmp_path) == [  # the sketch reading it is not reported again
        "seeknal/samples/first.yml:5: limit must be a whole number, not the text 'many'",
    ]
    sample_project(tmp_path, limit=-1)
    assert load_errors(tmp_path) == ["seeknal/samples/first.yml:5: limit must not be negative"]


def test_a_registered_kind_plans_and_executes(tmp_path: Path, new_kinds: None) -> None:
    root = sample_project(tmp_path)
    loaded = Context(root).load()
    decisions = {
        d.node_id: d
        for d in production_decisions(
            loaded.project, loaded.dag, loaded.fingerprints, {}, {}, set()
        )
    }
    assert decisions["sample.first"].run
    assert decisions["sketch.s"].reason == (
        "kind sketch is not supported for execution yet; nothing in this run reads it"
    )

    res = cli(root, "run")
    assert res.exit_code == 0, res.output
    assert rows(output(root, "sample.first"), "SELECT id FROM t") == [(1,), (2,)]
    state = run_state(root)["nodes"]
    assert state["sample.first"]["output_path"] == "target/cache/sample/first.parquet"
    assert "sketch.s" not in state

    prod = loaded.manifest()["nodes"]
    sample_project(root, limit=3)
    changed = Context(root).load()
    decision = categorize(
        changed.project, changed.dag, changed.fingerprints, prod, set(prod) - {"sketch.s"}
    )
    assert decision.categories["sample.first"] == "breaking"
    assert decision.reasons["sample.first"] == "sample limit changed"
    assert decision.nodes_to_execute == ["sample.first"]

    res, summary = run_json(root)
    assert res.exit_code == 0, res.output
    assert {n["id"]: n["reason"] for n in summary["nodes"]}["sample.first"] == "definition changed"
    assert rows(output(root, "sample.first"), "SELECT count(*) FROM t") == [(3,)]


# ---------------------------------------------------------------------------------------------
# What each built-in kind checks

PROBLEMS = [
    (
        "sources/s.yml",
        "kind: source\nname: s\nsource: xls\ntable: data/people.csv\n",
        "seeknal/sources/s.yml:3: unsupported source type 'xls' "
        "(supported: csv, parquet, json, jsonl, postgresql, iceberg)",
    ),
    (
        "sources/s.yml",
        "kind: source\nname: s\nsource: csv\n",
        "seeknal/sources/s.yml:3: csv source needs 'table: <path>'",
    ),
    (
        "sources/s.yml",
        "kind: source\nname: s\nsource: postgresql\n",
        "seeknal/sources/s.yml:3: postgresql source needs 'table:' or 'params.query'",
    ),
    (
        "sources/s.yml",
        "kind: source\nname: s\nsource: iceberg\ntable: db.orders\n",
        "seeknal/sources/s.yml:3: iceberg source needs 'table: catalog.namespace.table'",
    ),
    (
        "transforms/t.yml",
        "kind: transform\nname: t\ninputs:\n  - ref: source.people\n",
        "seeknal/transforms/t.yml:1: transform has no SQL: add a 'transform: |' block",
    ),
    (
        "rules/r.yml",
        "kind: rule\nname: r\ninputs: [source.people]\nrule: not_null\n",
        "seeknal/rules/r.yml:1: rule needs a 'rule:' mapping (or list) with a 'type'",
    ),
    (
        "rules/r.yml",
        "kind: rule\nname: r\ninputs: [source.people]\nrule: {type: null, column: id}\n"
        "params: {severity: fatal}\n",
        "seeknal/rules/r.yml:5: severity must be 'error' or 'warn', not 'fatal'",
    ),
    (
        "rules/r.yml",
        "kind: rule\nname: r\ninputs: [source.people]\n"
        "rule: {type: null, column: id, params: {max_null_percentage: lots}}\n",
        "seeknal/rules/r.yml:4: rule.params.max_null_percentage must be a number from 0 to 100, "
        "not the text 'lots'",
    ),
    (
        "exposures/e.yml",
        "kind: exposure\nname: e\ninputs: [source.people]\nparams: {format: csv}\n",
        "seeknal/exposures/e.yml:4: file exposure needs params.path",
    ),
    (
        "exposures/e.yml",
        "kind: exposure\nname: e\ninputs: [source.people]\nparams:\n  path: target/e.csv\n",
        "seeknal/exposures/e.yml:5: params.path target/e.csv is inside target/, seeknal's own "
        "state folder; write exports to exports/ or target/exports/",
    ),
    (
        "exposures/e.yml",
        "kind: exposure\nname: e\ninputs: [source.people]\nparams:\n  path: [a, b]\n",
        "seeknal/exposures/e.yml:4: params.path must be a file path, not a list",
    ),
    (
        "profiles/p.yml",
        "kind: profile\nname: p\ninputs: [source.people]\nprofile:\n  columns: age\n",
        "seeknal/profiles/p.yml:4: profile.columns must be a list of names, e.g. [a, b], "
        "not the text 'age'",
    ),
]


@pytest.mark.parametrize(("rel", "text", "problem"), PROBLEMS)
def test_each_kind_reports_its_own_problems(
    tmp_path: Path, rel: str, text: str, problem: str
) -> None:
    minimal_project(
        tmp_path,
        {
            "data/people.csv": PEOPLE_CSV,
            "seeknal/sources/people.yml": SOURCE,
            f"seeknal/{rel}": text,
        },
    )
    assert load_errors(tmp_path) == [problem]


def test_kind_specific_fields_load_into_the_node(tmp_path: Path) -> None:
    minimal_project(
        tmp_path,
        {
            "data/people.csv": PEOPLE_CSV,
            "seeknal/sources/people.yml": SOURCE,
            # unquoted `type: null` is YAML's null, read as the null rule type
            "seeknal/rules/r.yml": (
                "kind: rule\nname: r\ninputs: [source.people]\n"
                "rule:\n  - {type: null, column: id}\n"
                "  - {type: sql_assertion, sql: \"SELECT * FROM ref('transform.t') WHERE false\"}\n"
            ),
            "seeknal/transforms/t.yml": (
                "kind: transform\nname: t\ntransform: SELECT * FROM ref('source.people')\n"
            ),
            "seeknal/profiles/p.yml": (
                "kind: profile\nname: p\ninputs: [source.people]\nprofile: {params: {max_top_values: 2}}\n"
            ),
            "seeknal/semantic/m.yml": "kind: semantic_model\nname: m\nmodel: ref('transform.t')\n",
            "seeknal/metrics/x.yml": "kind: metric\nname: x\ndepends_on: [semantic_model.m]\n",
        },
    )
    project = load_project(tmp_path)
    rule = project.nodes["rule.r"]
    assert rule.config["rule"][0]["type"] == "null"
    assert rule.inputs == ("source.people", "transform.t")
    assert project.nodes["transform.t"].sql == "SELECT * FROM ref('source.people')"
    assert project.nodes["semantic_model.m"].inputs == ("transform.t",)
    assert project.warnings == ()  # a ref() in SQL is an input by itself
    metric = project.nodes["metric.x"]
    assert not kinds.spec_for(metric.kind).executable(metric)
    assert (
        kinds.spec_for(metric.kind).idle_reason(metric) == "metadata for 'seeknal query --metrics'"
    )


def test_only_file_exposures_execute_and_they_write_outside_the_cache(tmp_path: Path) -> None:
    spec = kinds.spec_for("exposure")
    base = {"id": "exposure.e", "kind": NodeKind.EXPOSURE, "name": "e", "file_path": "e.yml"}
    file = Node(**base, line=1, inputs=(), config={"params": {"path": "out/e.csv"}}, meta={})
    board = Node(**base, line=1, inputs=(), config={"type": "dashboard"}, meta={})
    assert spec.executable(file) and not spec.executable(board)
    assert spec.output_file(file) == "out/e.csv"
    assert spec.idle_reason(board) == (
        "exposure type 'dashboard' documents a consumer; nothing to run"
    )
    assert kinds.spec_for("transform").output_file(file) is None
