"""A metric query (`seeknal query --metrics`) compiled to one SELECT over the nodes of the
semantic models it reads (joined as planning/metric_joins.py says). Pure: the SQL names the nodes
with ref(), so any env reads them through the resolver.

Dimensions group the rows (`name`, or `name__grain` for a time dimension truncated to a day,
week, month, quarter or year, named `name_grain` in the result); a metric's filter and
`--filter` restrict the rows before aggregation; a cumulative metric is a running total of its
measure along the model's time dimension, restarted at each `grain_to_date` period.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from seeknal.errors import SeeknalError
from seeknal.kinds.semantic_defs import (
    GRAINS,
    Agg,
    Measure,
    Metric,
    MetricType,
    SemanticModel,
    parse_metric,
    parse_model,
)
from seeknal.planning.metric_joins import from_clause
from seeknal.sql.quote import ident
from seeknal.sql.semantic import expression_problem, substitute_names
from seeknal.types import NodeKind, Project

DEFAULT_LIMIT = 100
_AGG = {
    Agg.SUM: "SUM({})",
    Agg.COUNT: "COUNT({})",
    Agg.COUNT_DISTINCT: "COUNT(DISTINCT {})",
    Agg.AVERAGE: "AVG({})",
    Agg.MIN: "MIN({})",
    Agg.MAX: "MAX({})",
}


class MetricQueryError(SeeknalError):
    """A metric query names something the semantic layer does not define, or cannot be
    answered from its definitions."""


@dataclass(frozen=True)
class MetricQuery:
    metrics: tuple[str, ...]
    dimensions: tuple[str, ...] = ()
    filters: tuple[str, ...] = ()
    order_by: tuple[str, ...] = ()  # output column names, `-name` for descending
    limit: int | None = DEFAULT_LIMIT


@dataclass(frozen=True)
class Compiled:
    sql: str
    models: tuple[SemanticModel, ...]  # the semantic models whose nodes the SQL reads


@dataclass(frozen=True)
class Layer:
    """Every semantic model and metric of a project. A metric name is taken by the first
    definition: metrics inside semantic models, then metric files, then one simple metric per
    measure (by file path within each)."""

    models: tuple[SemanticModel, ...]
    metrics: Mapping[str, Metric]


def semantic_layer(project: Project) -> Layer:
    nodes = sorted(project.nodes.values(), key=lambda n: n.file_path)
    models: list[SemanticModel] = []
    metrics: dict[str, Metric] = {}
    for node in nodes:
        if node.kind == NodeKind.SEMANTIC_MODEL:
            model = parse_model(node.id, node.file_path, node.config)[0]
            models.append(model)
            for metric in model.metrics:
                metrics.setdefault(metric.name, metric)
    for node in nodes:
        if node.kind == NodeKind.METRIC:
            metric = parse_metric(node.file_path, {"name": node.name, **node.config})[0]
            metrics.setdefault(metric.name, metric)
    for model in models:
        for measure in model.measures:
            auto = Metric(measure.name, MetricType.SIMPLE, model.file_path, measure=measure.name)
            metrics.setdefault(measure.name, auto)
    return Layer(tuple(models), metrics)


def compile_query(layer: Layer, query: MetricQuery) -> Compiled:
    """The SELECT answering `query`, or a MetricQueryError naming what is wrong."""
    if not layer.models:
        raise MetricQueryError(
            "The project has no semantic model.",
            "Add a kind: semantic_model file (e.g. seeknal/semantic_models/orders.yml).",
        )
    if not query.metrics:
        raise MetricQueryError("Name at least one metric.", _list_hint(layer))
    builder = _Builder(layer)
    dims = [_dimension(builder, spec) for spec in query.dimensions]
    for name in query.metrics:
        builder.metric(name)
    models = tuple(builder.models.values())
    for text, where in [(f, "--filter") for f in query.filters]:
        _check_fragment(text, where)
    builder.where.extend(query.filters)
    outputs = [alias for _, alias in dims] + list(query.metrics)
    tail = _tail(query, outputs)
    cumulative = [n for n in query.metrics if layer.metrics[n].type is MetricType.CUMULATIVE]
    if cumulative and dims:
        sql = _with_running_totals(builder, query, dims, cumulative) + tail
    else:
        selects = [f"{expr} AS {ident(alias)}" for expr, alias in dims]
        selects += [f"{builder.sql[n]} AS {ident(n)}" for n in query.metrics]
        sql = _select(selects, models, builder.where, [e for e, _ in dims]) + tail
    return Compiled(sql, models)


class _Builder:
    """The SQL of each metric a query names (and of the metrics they are derived from)."""

    def __init__(self, layer: Layer) -> None:
        self.layer = layer
        self.sql: dict[str, str] = {}
        self.models: dict[str, SemanticModel] = {}
        self.where: list[str] = []
        self.measures: dict[str, tuple[SemanticModel, Measure]] = {}
        self._open: list[str] = []

    def metric(self, name: str) -> str:
        if name in self.sql:
            return self.sql[name]
        metric = self.layer.metrics.get(name)
        if metric is None:
            known = sorted(self.layer.metrics)
            raise MetricQueryError(
                f"Unknown metric '{name}'{_closest(name, known)}.", _list_hint(self.layer)
            )
        if name in self._open:
            cycle = " -> ".join([*self._open[self._open.index(name) :], name])
            raise MetricQueryError(
                f"Metric '{name}' is derived from itself ({cycle}).",
                f"Fix the inputs of '{name}' in {metric.file_path}.",
            )
        _refuse_problems(metric.file_path, metric.problems)
        self._open.append(name)
        try:
            self.sql[name] = self._compile(metric)
        finally:
            self._open.pop()
        return self.sql[name]

    def _compile(self, metric: Metric) -> str:
        if metric.filter:
            _check_fragment(metric.filter, f"the filter of metric '{metric.name}'")
            self.where.append(metric.filter)
        if metric.type is MetricType.DERIVED:
            _check_fragment(metric.expr, f"the expr of metric '{metric.name}'")
            values = {i.alias: self.metric(i.metric) for i in metric.inputs}
            return substitute_names(metric.expr, values)
        if metric.type is MetricType.RATIO:
            num, den = (self.aggregate(metric, m) for m in metric.measures())
            return f"{num} / NULLIF({den}, 0)"
        total = self.aggregate(metric, metric.measure)
        if metric.type is MetricType.CUMULATIVE and metric.grain_to_date:
            # without dimensions: a running total row by row (the older seeknal's answer);
            # without a grain it is the plain total
            model, measure = self.measures[metric.measure]
            window = _running(f"SUM({measure.expr})", metric, model, model.default_time_dimension)
            return window or total
        return total

    def aggregate(self, metric: Metric, name: str) -> str:
        found = [(m, m.measure(name)) for m in self.layer.models if m.measure(name)]
        if not found:
            known = sorted({x.name for m in self.layer.models for x in m.measures})
            raise MetricQueryError(
                f"Metric '{metric.name}' ({metric.file_path}) reads measure '{name}', which no "
                f"semantic model defines{_closest(name, known)}.",
                f"Define the measure in a semantic model, or fix {metric.file_path}.",
            )
        model, measure = found[0]
        assert measure is not None
        _refuse_problems(model.file_path, model.problems)
        self.models[model.node_id] = model
        self.measures[name] = (model, measure)
        return aggregate_sql(measure)


def aggregate_sql(measure: Measure) -> str:
    where = f"measure '{measure.name}'"
    _check_fragment(measure.expr, f"the expr of {where}")
    expr = measure.expr
    if measure.filters:
        for text in measure.filters:
            _check_fragment(text, f"a filter of {where}")
        expr = f"CASE WHEN {' AND '.join(measure.filters)} THEN {expr} END"
    return _AGG[measure.agg].format(expr)


def _running(total: str, metric: Metric, model: SemanticModel, time: str) -> str | None:
    """A running total of `total` ordered by the `time` column, restarted at each
    grain_to_date period; None when the model has no time dimension to order by."""
    if not model.default_time_dimension:
        return None
    order = f"ORDER BY {time} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
    if metric.grain_to_date:
        period = f"date_trunc('{metric.grain_to_date}', {time})"
        return f"{total} OVER (PARTITION BY {period} {order})"
    return f"{total} OVER ({order})"


def _dimension(builder: _Builder, spec: str) -> tuple[str, str]:
    """(SQL, result column) of a `--dimensions` entry; its semantic model joins the query."""
    name, _, grain = spec.rpartition("__") if "__" in spec else (spec, "", "")
    if grain and grain.lower() not in GRAINS:
        name, grain = spec, ""
    owners = [(m, m.dimension(name)) for m in builder.layer.models if m.dimension(name)]
    if not owners:
        known = sorted({d for m in builder.layer.models for d in _dimension_names(m)})
        where = ", ".join(m.file_path for m in builder.layer.models)
        raise MetricQueryError(
            f"Unknown dimension '{name}'{_closest(name, known)}.",
            f"Dimensions: {', '.join(known) or 'none'} ({where}).",
        )
    model, dim = owners[0]
    assert dim is not None
    builder.models.setdefault(model.node_id, model)
    _check_fragment(dim.expr, f"the expr of dimension '{name}'")
    if not grain:
        return dim.expr, spec
    if not dim.time:
        raise MetricQueryError(
            f"Dimension '{name}' is not a time dimension: '{spec}' cannot truncate it.",
            f"Use '{name}' alone, or give it type: time in {model.file_path}.",
        )
    return f"date_trunc('{grain.lower()}', {dim.expr})", spec.replace("__", "_")


def _dimension_names(model: SemanticModel) -> list[str]:
    return [d.name for d in model.dimensions] + list(model.entities)


def _with_running_totals(
    builder: _Builder,
    query: MetricQuery,
    dims: list[tuple[str, str]],
    cumulative: list[str],
) -> str:
    """Totals per group first, then running totals over the groups along the time dimension."""
    metrics = builder.layer.metrics
    models = tuple(builder.models.values())
    inner = [f"{expr} AS {ident(alias)}" for expr, alias in dims]
    outer = [ident(alias) for _, alias in dims]
    for name in query.metrics:
        if name in cumulative:
            model, measure = builder.measures[metrics[name].measure]
            time = _time_column(model, query, dims, name)
            inner.append(f"{aggregate_sql(measure)} AS {ident('_base_' + name)}")
            base = f"SUM({ident('_base_' + name)})"
            window = _running(base, metrics[name], model, time) if time else None
            outer.append(f"{window or ident('_base_' + name)} AS {ident(name)}")
        else:
            inner.append(f"{builder.sql[name]} AS {ident(name)}")
            outer.append(ident(name))
    base_sql = _select(inner, models, builder.where, [e for e, _ in dims], indent="  ")
    return f"WITH _base AS (\n  {base_sql}\n)\nSELECT\n  " + ",\n  ".join(outer) + "\nFROM _base"


def _time_column(
    model: SemanticModel, query: MetricQuery, dims: list[tuple[str, str]], metric: str
) -> str | None:
    time = model.default_time_dimension
    if not time:
        return None
    for spec, (_, alias) in zip(query.dimensions, dims, strict=True):
        if spec == time or spec.startswith(time + "__"):
            return ident(alias)
    raise MetricQueryError(
        f"Cumulative metric '{metric}' runs along the time dimension '{time}' of "
        f"semantic model '{model.name}', which --dimensions does not include.",
        f"Add '{time}' (or '{time}__month', ...) to --dimensions, or query it without dimensions.",
    )


def _select(
    selects: list[str],
    models: tuple[SemanticModel, ...],
    where: list[str],
    group: list[str],
    indent: str = "",
) -> str:
    sep = ",\n  " + indent
    lines = [f"SELECT\n  {indent}{sep.join(selects)}", *from_clause(models).split("\n")]
    if where:
        lines.append("WHERE " + " AND ".join(f"({w})" for w in dict.fromkeys(where)))
    if group:
        lines.append("GROUP BY " + ", ".join(group))
    return ("\n" + indent).join(lines)


def _tail(query: MetricQuery, outputs: list[str]) -> str:
    terms = []
    for term in query.order_by:
        name = term[1:] if term.startswith("-") else term
        if name not in outputs:
            raise MetricQueryError(
                f"--order-by '{name}' is not a column of the result{_closest(name, outputs)}.",
                f"Order by one of: {', '.join(outputs)} (prefix - for descending).",
            )
        terms.append(f"{ident(name)} {'DESC' if term.startswith('-') else 'ASC'}")
    tail = f"\nORDER BY {', '.join(terms)}" if terms else ""
    return tail + (f"\nLIMIT {int(query.limit)}" if query.limit is not None else "")


def _check_fragment(text: str, where: str) -> None:
    problem = expression_problem(text)
    if problem:
        raise MetricQueryError(
            f"{where[0].upper()}{where[1:]} ({text!r}) is not one SQL expression: {problem}.",
            "Write a condition or expression over the model's columns, e.g. status = 'PAID'.",
        )


def _refuse_problems(path: str, problems: tuple[str, ...]) -> None:
    if problems:
        raise MetricQueryError(
            f"{path} cannot be queried: {'; '.join(problems)}.", f"Fix {path}, then query again."
        )


def _closest(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.5)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _list_hint(layer: Layer) -> str:
    return f"Known metrics: {', '.join(sorted(layer.metrics)) or 'none'}."
