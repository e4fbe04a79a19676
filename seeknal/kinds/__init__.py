"""Node kinds: one module per kind, found through this registry.

`spec_for(kind)` is the `KindSpec` saying how nodes of that kind load, plan and execute. A new
kind is a module here with a `KindSpec` subclass, listed in `_BUILT_IN` below; nothing else
changes. A kind defined outside the package joins with `register()`.

Pure and light: the kind modules import no database or SQL parser at module level, so the
hook path may load projects.
"""

from __future__ import annotations

from seeknal.errors import SeeknalError
from seeknal.kinds import (
    aggregation,
    exposure,
    feature_group,
    metric,
    model,
    profile,
    rule,
    second_order_aggregation,
    semantic_model,
    source,
    transform,
)
from seeknal.kinds.base import KindSpec

_KNOWN: dict[str, KindSpec] = {}


def register(spec: KindSpec) -> None:
    """Make a kind known; a spec for a kind already known replaces it."""
    if not spec.kind:
        raise ValueError(f"{type(spec).__name__} names no kind")
    _KNOWN[str(spec.kind)] = spec


def unregister(kind: str) -> None:
    _KNOWN.pop(str(kind), None)


def find(kind: str) -> KindSpec | None:
    """The spec of a kind, or None when no kind has that name."""
    return _KNOWN.get(str(kind))


def spec_for(kind: str) -> KindSpec:
    spec = _KNOWN.get(str(kind))
    if spec is None:
        raise SeeknalError(
            f"Unknown node kind '{kind}' (known: {', '.join(kind_names())}).",
            "A plan or state file may come from another seeknal version; plan again.",
        )
    return spec


def all_specs() -> tuple[KindSpec, ...]:
    """Every known kind, the built-in ones first, in the order they are listed to users."""
    return tuple(_KNOWN.values())


def kind_names() -> list[str]:
    return [str(spec.kind) for spec in _KNOWN.values()]


_BUILT_IN: tuple[type[KindSpec], ...] = (
    source.SourceSpec,
    transform.TransformSpec,
    rule.RuleSpec,
    exposure.ExposureSpec,
    profile.ProfileSpec,
    feature_group.FeatureGroupSpec,
    aggregation.AggregationSpec,
    second_order_aggregation.SecondOrderAggregationSpec,
    model.ModelSpec,
    semantic_model.SemanticModelSpec,
    metric.MetricSpec,
)
for _spec_class in _BUILT_IN:
    register(_spec_class())

__all__ = ["KindSpec", "all_specs", "find", "kind_names", "register", "spec_for", "unregister"]
