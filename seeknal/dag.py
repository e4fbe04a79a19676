"""The node graph: order, downstream sets and cycles.

Ordering and traversal are plain Kahn/BFS over adjacency sets, because importing networkx costs
more (50-90 ms) than a no-change plan of a thousand nodes is allowed to take; networkx is only
imported to name the cycles of a graph that has them.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterable, Mapping, Sequence


class Dag:
    """Edges point from an upstream node to the node that reads it."""

    def __init__(self, inputs: Mapping[str, Sequence[str]]) -> None:
        self.parents: dict[str, list[str]] = {}
        self.kids: dict[str, list[str]] = {n: [] for n in inputs}
        for node_id, ups in inputs.items():
            known = [u for u in dict.fromkeys(ups) if u in inputs]
            self.parents[node_id] = known
            for up in known:
                self.kids[up].append(node_id)
        self._order: list[str] | None = None

    def _kahn(self) -> list[str]:
        indegree = {n: len(ps) for n, ps in self.parents.items()}
        ready = [n for n, d in indegree.items() if d == 0]
        heapq.heapify(ready)
        order: list[str] = []
        while ready:
            node = heapq.heappop(ready)
            order.append(node)
            for kid in self.kids[node]:
                indegree[kid] -= 1
                if indegree[kid] == 0:
                    heapq.heappush(ready, kid)
        return order

    def has_cycle(self) -> bool:
        return len(self.order()) != len(self.parents)

    def cycles(self) -> list[list[str]]:
        """Each cycle once, as a closed path `a, b, a`, starting from its smallest id."""
        if not self.has_cycle():
            return []
        import networkx as nx

        graph: nx.DiGraph = nx.DiGraph()
        graph.add_nodes_from(self.parents)
        graph.add_edges_from((p, n) for n, ps in self.parents.items() for p in ps)
        found: list[list[str]] = []
        for component in nx.strongly_connected_components(graph):
            if len(component) == 1:
                (only,) = component
                if not graph.has_edge(only, only):
                    continue
            start = min(component)
            cycle = [edge[0] for edge in nx.find_cycle(graph.subgraph(component), source=start)]
            pivot = cycle.index(min(cycle))
            cycle = cycle[pivot:] + cycle[:pivot]
            found.append(cycle + [cycle[0]])
        return sorted(found)

    def order(self) -> list[str]:
        """Dependency order; ties broken by id so the order is the same on every machine."""
        if self._order is None:
            self._order = self._kahn()
        return list(self._order)

    def downstream(self, node_ids: Iterable[str]) -> set[str]:
        return _reach(self.kids, node_ids)

    def upstream(self, node_ids: Iterable[str]) -> set[str]:
        return _reach(self.parents, node_ids)


def format_cycle(cycle: Sequence[str]) -> str:
    return " -> ".join(cycle)


def _reach(edges: Mapping[str, Sequence[str]], node_ids: Iterable[str]) -> set[str]:
    """Every node reached from `node_ids` along `edges`, not counting the start nodes."""
    seen: set[str] = set()
    queue = deque(n for n in node_ids if n in edges)
    while queue:
        for nxt in edges[queue.popleft()]:
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen
