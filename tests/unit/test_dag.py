"""The node graph: order, downstream and cycles."""

from __future__ import annotations

from seeknal.dag import Dag, format_cycle

GRAPH = {
    "source.a": (),
    "source.b": (),
    "transform.c": ("source.a",),
    "transform.d": ("transform.c", "source.b"),
    "transform.e": ("source.b",),
}


def test_order_puts_upstream_first_and_is_deterministic() -> None:
    order = Dag(GRAPH).order()
    assert order == Dag(dict(reversed(list(GRAPH.items())))).order()
    for node, ups in GRAPH.items():
        for up in ups:
            assert order.index(up) < order.index(node)


def test_downstream() -> None:
    dag = Dag(GRAPH)
    assert dag.downstream(["source.a"]) == {"transform.c", "transform.d"}
    assert dag.downstream(["source.b"]) == {"transform.d", "transform.e"}
    assert dag.downstream(["transform.d"]) == set()
    assert dag.downstream(["no.such"]) == set()


def test_no_cycles_in_a_dag() -> None:
    assert Dag(GRAPH).cycles() == []


def test_cycle_is_a_closed_path_from_its_smallest_id() -> None:
    dag = Dag({"t.b": ("t.a",), "t.a": ("t.c",), "t.c": ("t.b",), "t.x": ()})
    (cycle,) = dag.cycles()
    assert cycle == ["t.a", "t.b", "t.c", "t.a"]
    assert format_cycle(cycle) == "t.a -> t.b -> t.c -> t.a"


def test_two_node_cycle_and_self_loop_each_reported_once() -> None:
    dag = Dag({"a": ("b",), "b": ("a",), "s": ("s",), "ok": ()})
    assert [format_cycle(c) for c in dag.cycles()] == ["a -> b -> a", "s -> s"]


def test_refs_to_unknown_nodes_are_not_edges() -> None:
    dag = Dag({"a": ("missing",)})
    assert dag.downstream(["missing"]) == set()
    assert dag.order() == ["a"]
