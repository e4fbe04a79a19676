"""`kind: semantic_model`: parsed, checked like any node and planned; not executable yet.

Its `model:` names the node it describes, which makes an edge. Executing it is on the roadmap
(docs/roadmap.md); it will be added here.
"""

from __future__ import annotations

from typing import Any

from seeknal.kinds.base import PlannedOnly
from seeknal.sql.refs import strip_ref_call
from seeknal.types import NodeKind


class SemanticModelSpec(PlannedOnly):
    kind = NodeKind.SEMANTIC_MODEL

    def declared_refs(self, data: dict[str, Any]) -> list[str]:
        model = data.get("model")
        return [strip_ref_call(model)] if isinstance(model, str) else []
