"""The node graph (networkx): order, batches, downstream sets and cycles."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import networkx as nx


class Dag:
    """Edges point from an upstream node to the node that reads it."""

    def __init__(self, inputs: Mapping[str, Sequence[str]]) -> None:
        graph: nx.DiGraph = nx.DiGraph()
        graph.add_nodes_from(sorted(inputs))
        for node_id, ups in inputs.items():
            for up in ups:
                if up in inputs:
                    graph.add_edge(up, node_id)
        self.graph = graph

    def cycles(self) -> list[list[str]]:
        """Each cycle once, as a closed path `a, b, a`, starting from its smallest id."""
        found: list[list[str]] = []
        for component in nx.strongly_connected_components(self.graph):
            if len(component) == 1:
                (only,) = component
                if not self.graph.has_edge(only, only):
                    continue
            sub = self.graph.subgraph(component)
            start = min(component)
            cycle = [edge[0] for edge in nx.find_cycle(sub, source=start)]
            pivot = cycle.index(min(cycle))
            cycle = cycle[pivot:] + cycle[:pivot]
            found.append(cycle + [cycle[0]])
        return sorted(found)

    def order(self) -> list[str]:
        return list(nx.lexicographical_topological_sort(self.graph))

    def batches(self, nodes: Iterable[str] | None = None) -> list[list[str]]:
        graph = self.graph if nodes is None else self.graph.subgraph(nodes)
        return [sorted(gen) for gen in nx.topological_generations(graph)]

    def downstream(self, node_ids: Iterable[str]) -> set[str]:
        result: set[str] = set()
        for node_id in node_ids:
            if node_id in self.graph and node_id not in result:
                result |= nx.descendants(self.graph, node_id)
        return result

    def upstream(self, node_id: str) -> list[str]:
        return sorted(self.graph.predecessors(node_id))

    def children(self, node_id: str) -> list[str]:
        return sorted(self.graph.successors(node_id))

    def edges(self) -> list[tuple[str, str]]:
        return sorted(self.graph.edges())


def format_cycle(cycle: Sequence[str]) -> str:
    return " -> ".join(cycle)
