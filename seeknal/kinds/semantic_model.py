"""`kind: semantic_model`: entities, dimensions, measures and metrics over one node's output,
answered by `seeknal query --metrics` (planning/metrics.py); a run has nothing to compute for it.

Its `model:` names the node it describes, which makes an edge.
"""

from __future__ import annotations

from typing import Any

from seeknal.kinds.base import FileChecks, PlannedOnly
from seeknal.sql.refs import strip_ref_call
from seeknal.types import Node, NodeKind

QUERIED = "metadata for 'seeknal query --metrics'"


class SemanticModelSpec(PlannedOnly):
    kind = NodeKind.SEMANTIC_MODEL
    keys = (
        *("model", "measures", "dimensions", "entities", "joins", "metrics"),
        "default_time_dimension",
    )

    def declared_refs(self, data: dict[str, Any]) -> list[str]:
        model = data.get("model")
        return [strip_ref_call(model)] if isinstance(model, str) else []

    def check(self, data: dict[str, Any], checks: FileChecks) -> None:
        # semantic_defs is imported here: a plan whose nodes are remembered checks no file
        from seeknal.kinds.semantic_defs import parse_model

        name = str(data.get("name") or "")
        for problem in parse_model(f"semantic_model.{name}", checks.path, data)[1].found:
            checks.problem(problem)

    def idle_reason(self, node: Node) -> str:
        return QUERIED
