"""The decorators of Python node files (docs/concepts.md, "Python nodes").

    from seeknal.pipeline import transform

    @transform(name="clean_orders")
    def clean_orders(ctx):
        orders = ctx.ref("source.orders")
        return ctx.duckdb.sql("SELECT * FROM orders WHERE amount > 0")

seeknal never runs these decorators to learn what a file defines: it reads the node's kind,
name, arguments and `ctx.ref(...)` calls from the file's syntax tree when the project loads.
When a node executes, its file runs as a module and each decorator only marks its function.
Standard library only: the same file is the `seeknal.pipeline` an isolated `uv run` imports.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

NODE_ATTRIBUTE = "_seeknal_node"
KINDS = ("source", "transform", "feature_group", "second_order_aggregation")


def _marker(kind: str) -> Callable[..., Callable[[Callable[..., Any]], Callable[..., Any]]]:
    def decorator_factory(*args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], Any]:
        def mark(func: Callable[..., Any]) -> Callable[..., Any]:
            setattr(func, NODE_ATTRIBUTE, {"kind": kind, "args": kwargs})
            return func

        return mark

    decorator_factory.__name__ = kind
    decorator_factory.__doc__ = f"Marks a function as a `{kind}` node (arguments: its fields)."
    return decorator_factory


source = _marker("source")
transform = _marker("transform")
feature_group = _marker("feature_group")
second_order_aggregation = _marker("second_order_aggregation")


def materialize(**kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """One entry of the node's `materializations:`; stackable."""

    def mark(func: Callable[..., Any]) -> Callable[..., Any]:
        return func

    return mark


__all__ = ["feature_group", "materialize", "second_order_aggregation", "source", "transform"]
