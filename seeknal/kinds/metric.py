"""`kind: metric`: a metric over the measures of the project's semantic models, answered by
`seeknal query --metrics` (planning/metrics.py); a run has nothing to compute for it."""

from __future__ import annotations

from typing import Any

from seeknal.kinds.base import FileChecks, PlannedOnly
from seeknal.kinds.semantic_defs import parse_metric
from seeknal.kinds.semantic_model import QUERIED
from seeknal.types import Node, NodeKind


class MetricSpec(PlannedOnly):
    kind = NodeKind.METRIC

    def check(self, data: dict[str, Any], checks: FileChecks) -> None:
        for problem in parse_metric(checks.path, data)[1].found:
            checks.problem(problem)

    def idle_reason(self, node: Node) -> str:
        return QUERIED
