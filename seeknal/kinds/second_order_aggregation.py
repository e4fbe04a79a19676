"""`kind: second_order_aggregation`: parsed, checked like any node and planned; not executable yet.

Executing it is on the roadmap (docs/roadmap.md); it will be added here.
"""

from __future__ import annotations

from seeknal.kinds.base import PlannedOnly
from seeknal.types import NodeKind


class SecondOrderAggregationSpec(PlannedOnly):
    kind = NodeKind.SECOND_ORDER_AGGREGATION
