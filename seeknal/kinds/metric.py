"""`kind: metric`: parsed, checked like any node and planned; not executable yet.

Executing it is on the roadmap (docs/roadmap.md); it will be added here.
"""

from __future__ import annotations

from seeknal.kinds.base import PlannedOnly
from seeknal.types import NodeKind


class MetricSpec(PlannedOnly):
    kind = NodeKind.METRIC
