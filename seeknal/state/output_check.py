"""Whether outputs are exactly what their last run wrote: a stat each, and the digest memo keyed
by those stats (a file read only when its stats are new). `plan`, `run` and `ls` ask it for
thousands of nodes, so it builds no `Path` objects."""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from typing import Any

from seeknal.digest import file_digest
from seeknal.state.layout import Target
from seeknal.state.records import NodeState
from seeknal.types import Project


def valid_outputs(
    target: Target, project: Project, state_nodes: Mapping[str, NodeState], memo: dict[str, Any]
) -> set[str]:
    """Nodes whose output file exists and is exactly what the last run wrote."""
    return output_states(target, project, state_nodes, memo)[0]


def output_states(
    target: Target, project: Project, state_nodes: Mapping[str, NodeState], memo: dict[str, Any]
) -> tuple[set[str], set[str]]:
    """(outputs exactly as the last run wrote them, outputs that exist but were changed)."""
    valid: set[str] = set()
    changed: set[str] = set()
    for node_id, node in project.nodes.items():
        entry = state_nodes.get(node_id)
        if not entry:
            continue
        path = target.output(node).location  # a string: thousands of nodes
        try:
            st = os.stat(path)  # one stat for "is it a file" and the digest memo's key
        except OSError:
            continue
        if not stat.S_ISREG(st.st_mode):
            continue
        recorded = entry.output_digest
        if recorded is None or file_digest(path, memo, st) == recorded:
            valid.add(node_id)
        else:
            changed.add(node_id)
    return valid, changed
