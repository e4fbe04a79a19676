"""The project loader: YAML node files → a validated Project, every problem reported at once."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import minimal_project, small_project, write_tree

from seeknal.errors import ProjectError, SeeknalError
from seeknal.project.files import find_root
from seeknal.project.loader import load_project
from seeknal.sql.refs import sql_refs
from seeknal.types import NodeKind


def load_errors(root: Path) -> list[str]:
    with pytest.raises(ProjectError) as info:
        load_project(root)
    return [str(p) for p in info.value.problems]


def test_small_project_loads_nodes_kinds_inputs_and_order(tmp_path: Path) -> None:
    project = load_project(small_project(tmp_path))
    assert project.name == "small"
    assert sorted(project.nodes) == [
        "source.people",
        "transform.adults",
        "transform.city_counts",
        "transform.names",
    ]
    adults = project.nodes["transform.adults"]
    assert adults.kind is NodeKind.TRANSFORM
    assert adults.inputs == ("source.people",)
    assert adults.file_path == "seeknal/transforms/adults.yml"
    assert "FROM ref('source.people')" in (adults.sql or "")
    assert adults.meta == {"description": "People aged 18 or more."}
    assert "description" not in adults.config
    order = list(project.order)
    assert order.index("source.people") < order.index("transform.adults")
    assert order.index("transform.adults") < order.index("transform.city_counts")
    assert project.warnings == ()


def test_kind_comes_from_the_file_not_the_folder(tmp_path: Path) -> None:
    small_project(
        tmp_path,
        {
            "seeknal/sources/looks_like_a_source.yml": (
                "kind: transform\nname: misplaced\ninputs:\n  - ref: source.people\n"
                "transform: SELECT * FROM ref('source.people')\n"
            )
        },
    )
    project = load_project(tmp_path)
    assert project.nodes["transform.misplaced"].kind is NodeKind.TRANSFORM
    assert not any(nid.endswith("looks_like_a_source") for nid in project.nodes)


def test_common_folder_is_not_read_as_nodes_and_yaml_extension_is(tmp_path: Path) -> None:
    small_project(
        tmp_path,
        {
            "seeknal/common/rules.yml": "rules:\n- id: adult\n  value: age >= 18\n",
            "seeknal/transforms/long_ext.yaml": (
                "kind: transform\nname: long_ext\ntransform: SELECT * FROM ref('source.people')\n"
            ),
        },
    )
    project = load_project(tmp_path)
    assert "transform.long_ext" in project.nodes
    assert all(not n.file_path.startswith("seeknal/common/") for n in project.nodes.values())


def test_sql_refs_are_edges_and_missing_inputs_are_added(tmp_path: Path) -> None:
    small_project(
        tmp_path,
        {
            "seeknal/transforms/both.yml": (
                "kind: transform\nname: both\ninputs:\n  - ref: transform.adults\n"
                "transform: |\n  SELECT * FROM ref('transform.adults')\n"
                '  JOIN ref("transform.names") USING (id)\n'
            )
        },
    )
    project = load_project(tmp_path)
    assert project.nodes["transform.both"].inputs == ("transform.adults", "transform.names")
    assert project.warnings == ()  # a ref() in SQL declares the edge by itself


def test_depends_on_and_semantic_model_refs_are_edges(tmp_path: Path) -> None:
    small_project(
        tmp_path,
        {
            "seeknal/exposures/e.yml": (
                "kind: exposure\nname: e\ntype: file\ndepends_on:\n  - ref: transform.adults\n"
                "params:\n  format: csv\n  path: out/e.csv\n"
            ),
            "seeknal/semantic/sm.yml": (
                "kind: semantic_model\nname: sm\nmodel: \"ref('transform.city_counts')\"\n"
            ),
        },
    )
    project = load_project(tmp_path)
    assert project.nodes["exposure.e"].inputs == ("transform.adults",)
    assert project.nodes["semantic_model.sm"].inputs == ("transform.city_counts",)


def test_python_files_without_nodes_are_reported_as_warnings(tmp_path: Path) -> None:
    small_project(
        tmp_path, {"seeknal/transforms/py_node.py": "def transform(df):\n    return df\n"}
    )
    project = load_project(tmp_path)
    assert len(project.warnings) == 1
    assert "seeknal/transforms/py_node.py: defines no node" in project.warnings[0]


def test_unexecutable_kinds_load(tmp_path: Path) -> None:
    small_project(
        tmp_path,
        {
            "seeknal/fg/fg.yml": (
                "kind: feature_group\nname: fg\ninputs:\n  - ref: transform.adults\n"
                "entity: person\n"
            ),
            "seeknal/models/m.yml": "kind: model\nname: m\ninputs:\n  - ref: feature_group.fg\n",
        },
    )
    project = load_project(tmp_path)
    assert project.nodes["feature_group.fg"].kind is NodeKind.FEATURE_GROUP
    assert project.nodes["model.m"].inputs == ("feature_group.fg",)


def test_sql_refs_parses_both_quote_styles_once_each() -> None:
    sql = "SELECT * FROM ref('a.b') JOIN ref(\"c.d\") JOIN ref( 'a.b' ) JOIN ref('x.y\")"
    assert sql_refs(sql) == ["a.b", "c.d"]


def test_find_root_walks_up(tmp_path: Path) -> None:
    small_project(tmp_path)
    deep = tmp_path / "seeknal" / "transforms"
    assert find_root(deep) == tmp_path.resolve()


def test_find_root_outside_a_project_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(SeeknalError) as info:
        find_root(tmp_path)
    assert "seeknal_project.yml" in info.value.message
    assert "seeknal init" in info.value.hint


# -- load problems ------------------------------------------------------------------------


def test_invalid_yaml_names_file_and_line(tmp_path: Path) -> None:
    small_project(
        tmp_path,
        {"seeknal/transforms/bad.yml": "kind: transform\nname: bad\ntransform: [oops\n"},
    )
    (problem,) = load_errors(tmp_path)
    assert problem.startswith("seeknal/transforms/bad.yml:")
    assert "invalid YAML" in problem


@pytest.mark.parametrize(
    ("text", "what"), [("- a\n- b\n", "list"), ("just words\n", "str"), ("", "empty")]
)
def test_node_file_that_is_not_a_mapping(tmp_path: Path, text: str, what: str) -> None:
    small_project(tmp_path, {"seeknal/transforms/odd.yml": text})
    (problem,) = load_errors(tmp_path)
    assert problem.startswith("seeknal/transforms/odd.yml")
    assert "mapping" in problem and what in problem


def test_every_problem_is_reported_together(tmp_path: Path) -> None:
    small_project(
        tmp_path,
        {
            "seeknal/transforms/no_kind.yml": "name: x\ntransform: SELECT 1\n",
            "seeknal/transforms/no_name.yml": "kind: transform\ntransform: SELECT 1\n",
            "seeknal/transforms/weird.yml": "kind: wizard\nname: w\n",
            "seeknal/transforms/dup.yml": "kind: transform\nname: adults\ntransform: SELECT 1\n",
            "seeknal/sources/xl.yml": "kind: source\nname: xl\nsource: excel\ntable: a.xlsx\n",
        },
    )
    problems = load_errors(tmp_path)
    assert len(problems) == 5, problems
    text = "\n".join(problems)
    assert "no_kind.yml:1: missing 'kind'" in text
    assert "no_name.yml:1: missing 'name'" in text
    assert "weird.yml:1: unknown kind 'wizard'" in text
    assert "dup.yml" in text and "adults.yml" in text
    assert "xl.yml:3: unsupported source type 'excel'" in text


def test_cycle_is_printed_as_a_path(tmp_path: Path) -> None:
    small_project(
        tmp_path,
        {
            "seeknal/transforms/a.yml": (
                "kind: transform\nname: a\ntransform: SELECT * FROM ref('transform.b')\n"
            ),
            "seeknal/transforms/b.yml": (
                "kind: transform\nname: b\ntransform: SELECT * FROM ref('transform.a')\n"
            ),
        },
    )
    (problem,) = load_errors(tmp_path)
    assert "transform.a -> transform.b -> transform.a" in problem


def test_self_reference_is_a_cycle(tmp_path: Path) -> None:
    small_project(
        tmp_path,
        {
            "seeknal/transforms/me.yml": "kind: transform\nname: me\n"
            "transform: SELECT * FROM ref('transform.me')\n"
        },
    )
    (problem,) = load_errors(tmp_path)
    assert "transform.me -> transform.me" in problem


def test_duplicate_input_is_not_called_a_cycle(tmp_path: Path) -> None:
    small_project(
        tmp_path,
        {
            "seeknal/transforms/twice.yml": (
                "kind: transform\nname: twice\ninputs:\n  - ref: source.people\n"
                "  - ref: source.people\ntransform: SELECT * FROM input_0\n"
            )
        },
    )
    (problem,) = load_errors(tmp_path)
    assert "twice" in problem and "source.people" in problem
    assert "cycle" not in problem.lower()


def test_unknown_ref_suggests_the_closest_node(tmp_path: Path) -> None:
    small_project(
        tmp_path,
        {
            "seeknal/transforms/t.yml": "kind: transform\nname: t\ninputs:\n"
            "  - ref: transform.adultz\ntransform: SELECT * FROM input_0\n"
        },
    )
    (problem,) = load_errors(tmp_path)
    assert "transform.adultz" in problem and "did you mean 'transform.adults'" in problem


def test_unsafe_table_path_is_rejected(tmp_path: Path) -> None:
    small_project(
        tmp_path,
        {
            "seeknal/sources/q.yml": "kind: source\nname: q\nsource: csv\n"
            'table: "data/x.csv\'); DROP TABLE t; --"\n'
        },
    )
    (problem,) = load_errors(tmp_path)
    assert problem.startswith("seeknal/sources/q.yml:4")
    assert "quote" in problem


def test_missing_data_file_is_a_load_error(tmp_path: Path) -> None:
    small_project(
        tmp_path,
        {
            "seeknal/sources/gone.yml": "kind: source\nname: gone\nsource: csv\n"
            "table: data/gone.csv\n"
        },
    )
    (problem,) = load_errors(tmp_path)
    assert "data/gone.csv" in problem and "does not exist" in problem


def test_non_utf8_file_is_named(tmp_path: Path) -> None:
    small_project(
        tmp_path,
        {"seeknal/transforms/latin.yml": "kind: transform\nname: caf\xe9\n".encode("latin-1")},
    )
    (problem,) = load_errors(tmp_path)
    assert problem.startswith("seeknal/transforms/latin.yml")
    assert "UTF-8" in problem


def test_empty_project_is_an_error(tmp_path: Path) -> None:
    minimal_project(tmp_path, {})
    (problem,) = load_errors(tmp_path)
    assert "no nodes" in problem


def test_bad_rule_and_exposure_definitions(tmp_path: Path) -> None:
    small_project(
        tmp_path,
        {
            "seeknal/rules/r.yml": (
                "kind: rule\nname: r\ninputs:\n  - ref: source.people\nrule:\n  type: sometimes\n"
            ),
            "seeknal/exposures/e.yml": (
                "kind: exposure\nname: e\ndepends_on:\n  - ref: source.people\n"
                "params:\n  format: xlsx\n  path: ../outside.xlsx\n"
            ),
        },
    )
    text = "\n".join(load_errors(tmp_path))
    assert "unknown rule type 'sometimes'" in text
    assert "exposure format 'xlsx'" in text
    assert "inside the project" in text


def test_unknown_placeholder_names_file_line_and_closest_key(tmp_path: Path) -> None:
    small_project(
        tmp_path,
        {
            "seeknal/common/rules.yml": "rules:\n- id: adult\n  value: age >= 18\n",
            "seeknal/transforms/r.yml": (
                "kind: transform\nname: r\ninputs:\n  - ref: source.people\n"
                "transform: |\n  SELECT * FROM input_0\n  WHERE {{ rules.adlt }}\n"
            ),
        },
    )
    (problem,) = load_errors(tmp_path)
    assert problem.startswith("seeknal/transforms/r.yml:7:")
    assert "rules.adlt" in problem and "rules.adult" in problem


def test_placeholder_line_is_where_the_placeholder_is(tmp_path: Path) -> None:
    # the key 'k' also appears in 'kind' on line 1: the line must be the placeholder's own
    small_project(
        tmp_path,
        {
            "seeknal/transforms/k.yml": (
                "kind: transform\nname: k\ninputs:\n  - ref: source.people\n"
                "transform: SELECT '{{ k }}' AS k FROM input_0\n"
            ),
        },
    )
    (problem,) = load_errors(tmp_path)
    assert problem.startswith("seeknal/transforms/k.yml:5:"), problem


def test_project_file_must_have_a_name(tmp_path: Path) -> None:
    small_project(tmp_path)
    write_tree(tmp_path, {"seeknal_project.yml": "version: 1\n"})
    (problem,) = load_errors(tmp_path)
    assert problem.startswith("seeknal_project.yml") and "name" in problem


@pytest.mark.parametrize(
    "name", ["../../escape", "a/b", "a\\\\b", ".hidden", "with space", "it's", "-dash"]
)
def test_node_names_that_are_not_safe_file_names_are_rejected(tmp_path: Path, name: str) -> None:
    small_project(
        tmp_path,
        {"seeknal/transforms/x.yml": (f'kind: transform\nname: "{name}"\ntransform: SELECT 1\n')},
    )
    (problem,) = load_errors(tmp_path)
    assert problem.startswith("seeknal/transforms/x.yml:2:")
    assert "may only contain" in problem


def test_usual_node_names_are_accepted(tmp_path: Path) -> None:
    small_project(
        tmp_path,
        {
            "seeknal/transforms/x.yml": (
                "kind: transform\nname: daily_revenue-v2.eu\ntransform: SELECT 1\n"
            )
        },
    )
    assert "transform.daily_revenue-v2.eu" in load_project(tmp_path).nodes


def test_unquoted_null_rule_type_is_the_null_rule(tmp_path: Path) -> None:
    rule = (
        "kind: rule\nname: r\ninputs:\n  - ref: source.people\nrule:\n  type: {t}\n  column: city\n"
    )
    small_project(tmp_path / "a", {"seeknal/rules/r.yml": rule.format(t="null")})
    small_project(tmp_path / "b", {"seeknal/rules/r.yml": rule.format(t='"null"')})
    a = load_project(tmp_path / "a").nodes["rule.r"]
    b = load_project(tmp_path / "b").nodes["rule.r"]
    assert a.config["rule"]["type"] == "null"
    assert a.config == b.config


def test_a_remembered_node_equals_the_one_built(tmp_path: Path) -> None:
    root = small_project(tmp_path)
    cache: dict[str, object] = {}
    built = load_project(root, parse_cache=cache)
    assert any(key.startswith("node:") for key in cache)
    assert load_project(root, parse_cache=cache).nodes == built.nodes


def test_a_remembered_node_of_another_shape_is_built_again(tmp_path: Path) -> None:
    root = small_project(tmp_path)
    cache: dict[str, object] = {}
    built = load_project(root, parse_cache=cache)
    for key, entry in list(cache.items()):
        if key.startswith("node:"):
            assert isinstance(entry, tuple)
            # as written by a version whose Node had other fields
            cache[key] = (("id", "kind"), entry[1][:2], ())
    assert load_project(root, parse_cache=cache).nodes == built.nodes
