"""`seeknal query --metrics`: a metric query compiled from the project's semantic models
(planning/metrics.py) and answered over an env's outputs, or production's, as the resolver
sees them: the env's own output of the model's node when it computed it, else production's."""

from __future__ import annotations

from seeknal.context import Context
from seeknal.engine.base import QueryResult
from seeknal.envs.read import run_query
from seeknal.errors import EnvError
from seeknal.planning.metrics import Compiled, MetricQuery, compile_query, semantic_layer


def compile_metrics(ctx: Context, query: MetricQuery) -> Compiled:
    """The SQL answering `query`, from the project's files as they are now."""
    return compile_query(semantic_layer(ctx.load().project), query)


def query_metrics(
    ctx: Context, env: str | None, query: MetricQuery
) -> tuple[Compiled, QueryResult]:
    compiled = compile_metrics(ctx, query)
    try:
        return compiled, run_query(ctx, env, compiled.sql)
    except EnvError as exc:
        named = [m for m in compiled.models if m.model in exc.message] or compiled.models
        model = named[0]
        raise EnvError(
            f"Semantic model '{model.name}' ({model.file_path}) reads {model.model}: {exc.message}",
            exc.hint,
        ) from None
