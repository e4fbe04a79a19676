"""Node kinds: one module per kind, found through this registry.

`spec_for(kind)` is the `KindSpec` saying how nodes of that kind load, plan and execute. A new
kind is a module here, named as its kind, with a `KindSpec` subclass, listed in `_BUILT_IN`
below; nothing else changes. A kind defined outside the package joins with `register()`.

Pure and light: the kind modules import no database or SQL parser at module level, so the
hook path may load projects. Each is imported the first time its kind is asked for, not with
this package: a command reads profiles (which read `kinds.materializations`), and a promotion
of transforms needs the transform kind, not all eleven.
"""

from __future__ import annotations

from seeknal.errors import SeeknalError
from seeknal.kinds.base import KindSpec

# the kinds seeknal ships, in the order they are listed to users: kind (its module's name) and
# its KindSpec class, imported the first time a node of that kind is asked for
_BUILT_IN = {
    "source": "SourceSpec",
    "transform": "TransformSpec",
    "rule": "RuleSpec",
    "exposure": "ExposureSpec",
    "profile": "ProfileSpec",
    "feature_group": "FeatureGroupSpec",
    "aggregation": "AggregationSpec",
    "second_order_aggregation": "SecondOrderAggregationSpec",
    "model": "ModelSpec",
    "semantic_model": "SemanticModelSpec",
    "metric": "MetricSpec",
}
_KNOWN: dict[str, KindSpec | None] = dict.fromkeys(_BUILT_IN)  # None: not imported yet


def _spec(kind: str) -> KindSpec | None:
    spec = _KNOWN.get(kind)
    if spec is None and kind in _KNOWN:
        import importlib

        module = importlib.import_module(f"seeknal.kinds.{kind}")
        spec = _KNOWN[kind] = getattr(module, _BUILT_IN[kind])()
    return spec


def register(spec: KindSpec) -> None:
    """Make a kind known; a spec for a kind already known replaces it."""
    if not spec.kind:
        raise ValueError(f"{type(spec).__name__} names no kind")
    _KNOWN[str(spec.kind)] = spec


def unregister(kind: str) -> None:
    _KNOWN.pop(str(kind), None)


def find(kind: str) -> KindSpec | None:
    """The spec of a kind, or None when no kind has that name."""
    return _spec(str(kind))


def spec_for(kind: str) -> KindSpec:
    spec = _spec(str(kind))
    if spec is None:
        raise SeeknalError(
            f"Unknown node kind '{kind}' (known: {', '.join(kind_names())}).",
            "A plan or state file may come from another seeknal version; plan again.",
        )
    return spec


def all_specs() -> tuple[KindSpec, ...]:
    """Every known kind, the built-in ones first, in the order they are listed to users."""
    return tuple(spec for kind in list(_KNOWN) if (spec := _spec(kind)) is not None)


def kind_names() -> list[str]:
    return list(_KNOWN)


__all__ = ["KindSpec", "all_specs", "find", "kind_names", "register", "spec_for", "unregister"]
