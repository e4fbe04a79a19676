"""Pure decisions: which nodes a production run executes, and why."""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass
from typing import Any

from seeknal.dag import Dag
from seeknal.kinds import spec_for
from seeknal.planning.fingerprint import NodeFingerprint
from seeknal.types import Node, Project

WEAK = "~"  # a reason the propagation pass may replace with a more precise one


@dataclass(frozen=True)
class Decision:
    node_id: str
    run: bool
    reason: str
    unsupported: bool = False  # a kind that cannot execute yet, and nothing in the run needs it


def direct_change_reason(
    node: Node, fp: NodeFingerprint, previous: Mapping[str, Any] | None
) -> str:
    """Why a node whose fingerprint moved changed, as far as the last manifest tells."""
    if previous is None:
        return "definition changed"
    if previous.get("content_hash") == fp.content:
        return ""
    before = (previous.get("python") or {}).get("code")
    if node.python is not None and before != node.python.code:
        return "Python code changed"
    return spec_for(node.kind).change_reason(previous, fp.data_digest)


def unneeded_unsupported(project: Project, to_run: list[str]) -> set[str]:
    """Nodes of kinds that cannot execute yet, which no executable node in this run reads.

    They stay in the DAG and in plans; they only fail ("not supported for execution yet")
    when a run really needs them.
    """
    running = set(to_run)
    kids: dict[str, list[str]] = {}
    for node_id in to_run:
        for up in project.nodes[node_id].inputs:
            if up in running:
                kids.setdefault(up, []).append(node_id)
    keep: set[str] = set()
    for node_id in reversed(to_run):
        node = project.nodes[node_id]
        if _runs(node) or any(k in keep for k in kids.get(node_id, [])):
            keep.add(node_id)
    return running - keep


def production_decisions(
    project: Project,
    dag: Dag,
    fingerprints: Mapping[str, NodeFingerprint],
    run_state_nodes: Mapping[str, Any],
    manifest_nodes: Mapping[str, Any],
    outputs_present: Set[str],
    full: bool = False,
    selected: Set[str] | None = None,
    changed_outputs: Set[str] = frozenset(),
    allowed: Set[str] | None = None,
    option: str = "--nodes",
) -> list[Decision]:
    """Which nodes a production run executes, in run order (`allowed`: no other node runs)."""
    direct: dict[str, str] = {}
    if selected is not None:
        for node_id in selected:
            direct[node_id] = f"selected with {option}"
    else:
        for node_id in project.order:
            reason = _direct_reason(
                project,
                node_id,
                fingerprints[node_id],
                run_state_nodes.get(node_id),
                manifest_nodes.get(node_id),
                node_id in outputs_present,
                full,
                node_id in changed_outputs,
            )
            if reason:
                direct[node_id] = reason
    decisions: list[Decision] = []
    running: set[str] = set()
    for node_id in project.order:
        reason = direct.get(node_id, "")
        if not reason or reason.startswith(WEAK):
            ups = [up for up in project.nodes[node_id].inputs if up in running]
            reason = f"upstream {ups[0]} runs" if ups else reason.removeprefix(WEAK)
        held = bool(reason) and allowed is not None and node_id not in allowed
        if reason and not held:
            running.add(node_id)
            decisions.append(Decision(node_id, True, reason))
        elif held or selected is not None:
            decisions.append(Decision(node_id, False, f"not selected ({option})"))
        else:
            decisions.append(Decision(node_id, False, "unchanged"))
    idle = unneeded_unsupported(project, [d.node_id for d in decisions if d.run])
    return [
        Decision(
            d.node_id,
            False,
            f"{_idle(project.nodes[d.node_id])}; nothing in this run reads it",
            unsupported=True,
        )
        if d.node_id in idle
        else d
        for d in decisions
    ]


def _direct_reason(
    project: Project,
    node_id: str,
    fp: NodeFingerprint,
    state: Mapping[str, Any] | None,
    previous: Mapping[str, Any] | None,
    output_present: bool,
    full: bool,
    output_changed: bool = False,
) -> str:
    if full:
        return "--full"
    if state is None:
        return "new node"
    status = state.get("status")
    if status in ("failed", "skipped"):
        return f"last run {'failed' if status == 'failed' else 'skipped it'}"
    if state.get("hash") != fp.fingerprint:
        node = project.nodes[node_id]
        reason = direct_change_reason(node, fp, previous)
        if reason:
            return reason
        # only the upstream moved: the propagation pass names the upstream when it runs now
        return WEAK + "inputs changed since its last run"
    if not output_present:
        return "output file changed since its last run" if output_changed else "output file missing"
    return ""


def _runs(node: Node) -> bool:
    return spec_for(node.kind).executable(node)


def _idle(node: Node) -> str:
    return spec_for(node.kind).idle_reason(node)
