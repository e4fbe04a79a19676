"""`kind: metric`: a metric over the measures of the project's semantic models, answered by
`seeknal query --metrics` (planning/metrics.py); a run has nothing to compute for it."""

from __future__ import annotations

from typing import Any

from seeknal.kinds.base import FileChecks, PlannedOnly
from seeknal.kinds.semantic_model import QUERIED
from seeknal.types import Node, NodeKind


class MetricSpec(PlannedOnly):
    kind = NodeKind.METRIC
    keys = ("type", "measure", "numerator", "denominator", "expr", "filter", "grain_to_date")

    def prepare(self, data: dict[str, Any]) -> dict[str, Any]:
        # a derived metric's `inputs` name metrics ({metric: x}), not nodes: kept apart from
        # the node refs every kind's `inputs` holds
        entries = data.get("inputs")
        if not isinstance(entries, list):
            return data
        named = [e for e in entries if isinstance(e, dict) and "metric" in e and "ref" not in e]
        if not named:
            return data
        refs = [e for e in entries if not any(e is n for n in named)]
        from seeknal.kinds.semantic_defs import METRIC_INPUTS  # only for metric files: lazily

        return {**data, "inputs": refs, METRIC_INPUTS: named}

    def check(self, data: dict[str, Any], checks: FileChecks) -> None:
        # semantic_defs is imported here: a plan whose nodes are remembered checks no file
        from seeknal.kinds.semantic_defs import parse_metric

        for problem in parse_metric(checks.path, data)[1].found:
            checks.problem(problem)

    def idle_reason(self, node: Node) -> str:
        return QUERIED
