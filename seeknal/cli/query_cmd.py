"""`seeknal query`: one read-only SELECT over an environment's outputs (or production's), or
with `--metrics` a metric query over the project's semantic models."""

from __future__ import annotations

from pathlib import Path

import typer

from seeknal.cli.console import out
from seeknal.cli.main import handled
from seeknal.cli.options import ProjectPath
from seeknal.cli.result_view import FORMATS, TABLE_ROWS, footer, render
from seeknal.cli.scope import read_env

QueryEnv = typer.Option(
    None, "--env", help="Read this environment (default: the active env, else production)."
)
METRIC_ROWS = 100  # a metric query's LIMIT without --limit


def register(app: typer.Typer) -> None:
    app.command("query")(query)


@handled
def query(
    sql: str | None = typer.Argument(
        None, help="A SELECT; ref('kind.name') reads a node's output. Not with --metrics."
    ),
    env: str | None = QueryEnv,
    fmt: str = typer.Option("table", "--format", "-f", help="table, csv or json."),
    limit: int | None = typer.Option(
        None,
        "--limit",
        min=0,
        help=f"At most N rows (a table shows {TABLE_ROWS} by default; "
        f"a metric query returns {METRIC_ROWS}).",
    ),
    metrics: str | None = typer.Option(
        None, "--metrics", help="Comma-separated metric names of the semantic layer."
    ),
    dimensions: str | None = typer.Option(
        None, "--dimensions", help="With --metrics: group by these (e.g. status,order_date__month)."
    ),
    where: str | None = typer.Option(
        None, "--filter", help="With --metrics: a SQL condition on the model's rows."
    ),
    order_by: str | None = typer.Option(
        None, "--order-by", help="With --metrics: result columns to sort by (-name descending)."
    ),
    compile_only: bool = typer.Option(
        False, "--compile", help="With --metrics: print the SQL instead of running it."
    ),
    project_path: Path | None = ProjectPath,
) -> None:
    """Run a read-only SQL query over an environment's outputs (production's without one).

    Nodes the env did not change are read from production. Takes no lock, writes nothing.
    With --metrics, the SQL is compiled from the project's semantic models and metrics.
    """
    from seeknal.envs.read import run_query

    if fmt not in FORMATS:
        raise typer.BadParameter(
            f"'{fmt}' is not one of {', '.join(FORMATS)}", param_hint="--format"
        )
    if metrics is not None or sql is None:
        _metric_query(
            sql, metrics, dimensions, where, order_by, compile_only, limit, env, fmt, project_path
        )
        return
    extra = [o for o, v in _metric_options(dimensions, where, order_by, compile_only) if v]
    if extra:
        raise typer.BadParameter(f"{', '.join(extra)} go with --metrics", param_hint="SQL")
    ctx, chosen = read_env(project_path, env)
    shown = limit if limit is not None or fmt != "table" else TABLE_ROWS
    result = run_query(ctx, chosen, sql, shown)
    out(render(result.columns, result.rows, fmt, result.more))
    if fmt == "table":
        hint = "raise --limit" if limit is not None else "--limit N shows N, --format csv all"
        out(footer(len(result.rows), result.more, hint))


def _metric_options(*values: object) -> list[tuple[str, object]]:
    return list(zip(("--dimensions", "--filter", "--order-by", "--compile"), values, strict=True))


def _names(text: str | None) -> tuple[str, ...]:
    return tuple(n.strip() for n in (text or "").split(",") if n.strip())


def _metric_query(
    sql: str | None,
    metrics: str | None,
    dimensions: str | None,
    where: str | None,
    order_by: str | None,
    compile_only: bool,
    limit: int | None,
    env: str | None,
    fmt: str,
    project_path: Path | None,
) -> None:
    from seeknal.context import Context
    from seeknal.envs.metrics import compile_metrics, query_metrics
    from seeknal.planning.metrics import MetricQuery

    if sql is not None:
        raise typer.BadParameter("give either a SQL query or --metrics, not both", param_hint="SQL")
    if not _names(metrics):
        raise typer.BadParameter(
            "give a SQL query, or metric names with --metrics", param_hint="SQL"
        )
    request = MetricQuery(
        _names(metrics),
        _names(dimensions),
        (where,) if where else (),
        _names(order_by),
        METRIC_ROWS if limit is None else limit,
    )
    if compile_only:
        out(compile_metrics(Context(project_path), request).sql)
        return
    ctx, chosen = read_env(project_path, env)
    _, result = query_metrics(ctx, chosen, request)
    out(render(result.columns, result.rows, fmt, result.more))
    if fmt == "table":
        out(footer(len(result.rows), result.more, "raise --limit"))
