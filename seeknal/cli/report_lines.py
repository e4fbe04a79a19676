"""Short plan summaries for hook output (one line per changed node)."""

from __future__ import annotations

from typing import Any


def plan_summary_lines(env: str, planned: Any) -> list[str]:
    d = planned.decision
    direct = {n: c for n, c in d.categories.items() if not c.startswith("indirect")}
    indirect = len(d.categories) - len(direct)
    head = (
        f"seeknal: {env}: {len(direct)} changed node(s), {indirect} downstream, "
        f"{len(d.nodes_to_execute)} to execute (against {planned.base} @ {planned.merge_base[:8]})"
    )
    lines = [head]
    for node_id, category in list(direct.items())[:20]:
        lines.append(f"  {category:<13} {node_id}: {d.reasons.get(node_id, '')}")
    if len(direct) > 20:
        lines.append(f"  ... and {len(direct) - 20} more")
    if d.nodes_to_execute:
        lines.append(
            "seeknal: 'seeknal run' on the branch computes it; merging promotes an applied env"
        )
    else:
        lines.append("seeknal: nothing to compute; merging promotes it without running a node")
    return lines
