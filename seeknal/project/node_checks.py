"""Checks of a loaded project's nodes as a whole: refs to nodes that exist, no cycles."""

from __future__ import annotations

import difflib
from collections.abc import Mapping

from seeknal.dag import Dag, format_cycle
from seeknal.errors import Problem
from seeknal.project.yaml_nodes import find_line
from seeknal.types import Node


def ref_problems(
    nodes: Mapping[str, Node], broken_files: Mapping[str, str], texts: Mapping[str, str]
) -> list[Problem]:
    """A problem for each ref to a node the project does not have (none when the file that
    would define it failed to load: that problem is reported already)."""
    problems = []
    for node in nodes.values():
        for ref in node.inputs:
            if ref in nodes:
                continue
            name = ref.rsplit(".", 1)[-1]
            if name in broken_files:
                continue
            others = [n for n in nodes if n != node.id]
            # a bare name (`ref('orders')`) is the node of that name, whatever its kind
            named = [n for n in others if "." not in ref and n.rsplit(".", 1)[-1] == ref]
            close = named or difflib.get_close_matches(ref, others, n=1, cutoff=0.4)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            message = f"ref to unknown node '{ref}'{hint}"
            line = find_line(texts.get(node.file_path, ""), ref) or node.line
            problems.append(Problem(node.file_path, message, line))
    return problems


def graph_order(nodes: Mapping[str, Node], problems: list[Problem]) -> list[str]:
    """The nodes in the order they run, or [] with a problem for each cycle."""
    dag = Dag({nid: n.inputs for nid, n in nodes.items()})
    cycles = dag.cycles()
    for cycle in cycles:
        first = nodes[cycle[0]]
        problems.append(Problem(first.file_path, f"cycle: {format_cycle(cycle)}"))
    return [] if cycles else dag.order()
