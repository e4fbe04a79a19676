"""Node selection over a project and its DAG (seeknal/planning/select.py)."""

from __future__ import annotations

import pytest

from seeknal.dag import Dag
from seeknal.planning.select import (
    SelectArgs,
    SelectionError,
    resolve,
    select_ids,
    within,
)
from seeknal.types import Node, Project

# source.people -> transform.adults -> transform.city_counts ; people -> transform.names
# source.shops (another source with a node named like a transform: "names")
SHAPE = {
    "source.people": ((), "seeknal/sources/people.yml", ["raw"]),
    "source.shops": ((), "seeknal/sources/shops.yml", ["raw"]),
    "transform.adults": (("source.people",), "seeknal/marts/adults.yml", ["daily"]),
    "transform.city_counts": (("transform.adults",), "seeknal/marts/deep/cc.yml", []),
    "transform.names": (("source.people",), "seeknal/transforms/names.yml", ["daily"]),
    "rule.names": (("transform.names",), "seeknal/rules/names.yml", []),
}


def _project() -> tuple[Project, Dag]:
    nodes = {
        node_id: Node(
            id=node_id,
            kind=node_id.split(".")[0],
            name=node_id.split(".")[1],
            file_path=path,
            line=1,
            inputs=inputs,
            config={},
            meta={"tags": tags} if tags else {},
        )
        for node_id, (inputs, path, tags) in SHAPE.items()
    }
    dag = Dag({n: node.inputs for n, node in nodes.items()})
    return Project("/p", "p", {}, nodes, order=tuple(dag.order())), dag


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("transform.adults", {"transform.adults"}),
        ("adults", {"transform.adults"}),
        ("+city_counts", {"transform.city_counts", "transform.adults", "source.people"}),
        ("adults+", {"transform.adults", "transform.city_counts"}),
        ("+adults+", {"source.people", "transform.adults", "transform.city_counts"}),
        ("tag:daily", {"transform.adults", "transform.names"}),
        ("kind:source", {"source.people", "source.shops"}),
        ("path:seeknal/marts", {"transform.adults", "transform.city_counts"}),
        ("path:seeknal/marts/", {"transform.adults", "transform.city_counts"}),
        ("path:seeknal/marts/adults.yml", {"transform.adults"}),
        ("transform.*", {"transform.adults", "transform.city_counts", "transform.names"}),
        ("*.names", {"transform.names", "rule.names"}),
        ("tag:raw,adults", {"source.people", "source.shops", "transform.adults"}),
    ],
)
def test_selectors(selector: str, expected: set[str]) -> None:
    project, dag = _project()
    assert select_ids(project, dag, [selector]) == expected


def test_path_is_a_folder_prefix_not_a_string_prefix() -> None:
    project, dag = _project()
    with pytest.raises(SelectionError, match="No node matches 'path:seeknal/mar'"):
        select_ids(project, dag, ["path:seeknal/mar"])


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        ("names", "is the name of several nodes"),
        ("adultz", "did you mean transform.adults"),
        ("tag:nope", "No node matches 'tag:nope'"),
        ("color:red", "Unknown selector method 'color:'"),
        ("+", "names no node"),
    ],
)
def test_bad_selectors_say_why(selector: str, message: str) -> None:
    project, dag = _project()
    with pytest.raises(SelectionError, match=message) as info:
        select_ids(project, dag, [selector])
    assert info.value.hint


def test_nodes_keep_their_downstream_select_does_not() -> None:
    project, dag = _project()
    by_nodes = resolve(project, dag, SelectArgs.of(nodes=["adults"]))
    assert by_nodes is not None
    assert by_nodes.direct == {"transform.adults"} and by_nodes.allowed is None
    planned = set(project.nodes)
    assert within(dag, by_nodes, planned) == {"transform.adults", "transform.city_counts"}
    by_select = resolve(project, dag, SelectArgs.of(select=["adults"]))
    assert by_select is not None
    assert within(dag, by_select, planned) == {"transform.adults"}


def test_exclude_takes_nodes_out_of_either() -> None:
    project, dag = _project()
    sel = resolve(project, dag, SelectArgs.of(nodes=["people"], exclude=["city_counts"]))
    assert sel is not None
    assert within(dag, sel, set(project.nodes)) == {
        "source.people",
        "transform.adults",
        "transform.names",
        "rule.names",
    }
    only_exclude = resolve(project, dag, SelectArgs.of(exclude=["kind:rule"]))
    assert only_exclude is not None and only_exclude.direct is None
    assert within(dag, only_exclude, {"rule.names", "transform.names"}) == {"transform.names"}


def test_within_keeps_to_the_candidates() -> None:
    project, dag = _project()
    sel = resolve(project, dag, SelectArgs.of(nodes=["people"]))
    assert sel is not None
    assert within(dag, sel, {"transform.names", "rule.names"}) == {"transform.names", "rule.names"}


def test_no_selection_and_refusals() -> None:
    project, dag = _project()
    assert resolve(project, dag, SelectArgs()) is None
    with pytest.raises(SelectionError, match="two ways to choose nodes"):
        resolve(project, dag, SelectArgs.of(nodes=["adults"], select=["names"]))
    with pytest.raises(SelectionError, match="No node selected"):
        resolve(project, dag, SelectArgs.of(nodes=[" , "]))
    with pytest.raises(SelectionError, match="leaves no node to run"):
        resolve(project, dag, SelectArgs.of(select=["adults"], exclude=["tag:daily"]))


def test_nodes_do_not_reach_past_an_excluded_node() -> None:
    project, dag = _project()
    sel = resolve(project, dag, SelectArgs.of(nodes=["people"], exclude=["adults"]))
    assert sel is not None
    assert within(dag, sel, set(project.nodes)) == {
        "source.people",
        "transform.names",
        "rule.names",
    }
