"""Semantic models and metrics as values: what `kind: semantic_model` and `kind: metric` files
define, parsed and checked. Pure; the SQL a metric query needs is built in planning/metrics.py.

A semantic model describes one node's output: entities (its keys), dimensions (columns to group
by, time dimensions truncated to a grain), measures (an aggregation of an expression) and,
optionally, metrics. Metrics are simple (one measure), ratio (numerator / denominator),
cumulative (a running total of a measure along the model's time dimension) or derived (an
expression over other metrics).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from seeknal.sql.refs import strip_ref_call

GRAINS = ("day", "week", "month", "quarter", "year")


class Agg(StrEnum):
    SUM = "sum"
    COUNT = "count"
    COUNT_DISTINCT = "count_distinct"
    AVERAGE = "average"
    MIN = "min"
    MAX = "max"


AGG_ALIASES = {"avg": Agg.AVERAGE}


class MetricType(StrEnum):
    SIMPLE = "simple"
    RATIO = "ratio"
    CUMULATIVE = "cumulative"
    DERIVED = "derived"


METRIC_INPUTS = "metric_inputs"  # a metric file's `inputs` naming metrics, once loaded
DIMENSION_TYPES = ("time", "categorical", "string", "number", "boolean")
ENTITY_TYPES = ("primary", "foreign", "unique")
RELATIONSHIPS = ("one_to_one", "one_to_many", "many_to_one")


@dataclass(frozen=True)
class Dimension:
    name: str
    expr: str
    time: bool


@dataclass(frozen=True)
class Measure:
    name: str
    expr: str
    agg: Agg
    filters: tuple[str, ...] = ()


@dataclass(frozen=True)
class Join:
    """A join to another semantic model: `sql` is its condition, with `{CUBE}` naming this
    model's rows and `{other}` the rows of the semantic model named other."""

    name: str
    sql: str


@dataclass(frozen=True)
class MetricInput:
    metric: str
    alias: str  # the name the derived metric's expr uses for it


@dataclass(frozen=True)
class Metric:
    name: str
    type: MetricType
    file_path: str
    measure: str = ""  # simple, cumulative
    numerator: str = ""  # ratio
    denominator: str = ""
    grain_to_date: str = ""  # cumulative
    expr: str = ""  # derived
    inputs: tuple[MetricInput, ...] = ()
    filter: str = ""
    problems: tuple[str, ...] = ()  # what is wrong with its definition, refused when queried

    def measures(self) -> tuple[str, ...]:
        if self.type is MetricType.RATIO:
            return (self.numerator, self.denominator)
        return (self.measure,) if self.measure else ()


@dataclass(frozen=True)
class SemanticModel:
    name: str
    node_id: str  # semantic_model.<name>
    file_path: str
    model: str  # the node whose output it describes
    default_time_dimension: str
    entities: tuple[str, ...]
    dimensions: tuple[Dimension, ...]
    measures: tuple[Measure, ...]
    metrics: tuple[Metric, ...]
    joins: tuple[Join, ...] = ()
    problems: tuple[str, ...] = ()  # of the model itself (its metrics carry their own)

    @property
    def table(self) -> str:
        """The name the model's rows go by in a query: its node's name, as in the older
        seeknal, so that an expression may qualify a column with it."""
        return self.model.split(".", 1)[-1]

    def join(self, name: str) -> Join | None:
        return next((j for j in self.joins if j.name == name), None)

    def dimension(self, name: str) -> Dimension | None:
        found = [d for d in self.dimensions if d.name == name]
        if found:
            return found[0]
        # an entity is a column a query may group by, as a dimension of its own name
        return Dimension(name, name, False) if name in self.entities else None

    def measure(self, name: str) -> Measure | None:
        return next((m for m in self.measures if m.name == name), None)


class Problems:
    """Collects what is wrong with one definition, each naming the entry it is about."""

    def __init__(self) -> None:
        self.found: list[str] = []  # a value that is wrong: refused when the project loads
        self.missing: list[str] = []  # an entry a query needs: refused when it is queried

    def add(self, message: str) -> None:
        self.found.append(message)

    def lacks(self, message: str) -> None:
        self.missing.append(message)

    def all(self) -> list[str]:
        return [*self.found, *self.missing]

    def named(self, entries: Any, what: str) -> list[Mapping[str, Any]]:
        """The entries of a list of mappings that have a name; the others reported."""
        if entries is None:
            return []
        if not isinstance(entries, list):
            self.add(f"{what} must be a list of mappings with a name")
            return []
        good: list[Mapping[str, Any]] = []
        seen: set[str] = set()
        for i, entry in enumerate(entries, 1):
            name = entry.get("name") if isinstance(entry, dict) else None
            if not isinstance(name, str) or not name:
                self.add(f"{what} entry {i} needs a name")
            elif name in seen:
                self.add(f"{what} '{name}' is defined twice")
            else:
                seen.add(name)
                good.append(entry)
        return good

    def text(self, entry: Mapping[str, Any], key: str, default: str, what: str) -> str:
        value = entry.get(key, default)
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.add(f"{what} {key} must be text")
            return default
        return str(value)


def parse_model(
    node_id: str, file_path: str, data: Mapping[str, Any]
) -> tuple[SemanticModel, Problems]:
    """The semantic model a `kind: semantic_model` file defines, and what is wrong with it."""
    p = Problems()
    model = data.get("model")
    if not isinstance(model, str) or not model.strip():
        p.lacks("model must name the node it describes, e.g. model: ref('transform.orders')")
        model = ""
    dimensions = tuple(_dimension(d, p) for d in p.named(data.get("dimensions"), "dimension"))
    measures = tuple(_measure(m, p) for m in p.named(data.get("measures"), "measure"))
    if not measures:
        p.lacks("a semantic model needs at least one measure")
    entities = p.named(data.get("entities"), "entity")
    for entity in entities:
        if entity.get("type", "primary") not in ENTITY_TYPES:
            p.add(f"entity '{entity['name']}' type must be one of {', '.join(ENTITY_TYPES)}")
    joins = tuple(_join(j, p) for j in p.named(data.get("joins"), "join"))
    time_dim = data.get("default_time_dimension") or ""
    if time_dim and not any(d.name == time_dim and d.time for d in dimensions):
        p.add(f"default_time_dimension '{time_dim}' is not one of its time dimensions")
    own = tuple(p.all())
    metrics = tuple(_metric(m, file_path, p) for m in p.named(data.get("metrics"), "metric"))
    name = node_id.split(".", 1)[-1]
    found = SemanticModel(
        name,
        node_id,
        file_path,
        strip_ref_call(str(model)).strip(),
        str(time_dim),
        tuple(str(e["name"]) for e in entities),
        dimensions,
        measures,
        metrics,
        joins,
        own,
    )
    return found, p


def parse_metric(file_path: str, data: Mapping[str, Any]) -> tuple[Metric, Problems]:
    """The metric a `kind: metric` file defines, and what is wrong with it."""
    p = Problems()
    return _metric(data, file_path, p), p


def _join(entry: Mapping[str, Any], p: Problems) -> Join:
    name = str(entry["name"])
    if entry.get("relationship", "many_to_one") not in RELATIONSHIPS:
        p.add(f"join '{name}' relationship must be one of {', '.join(RELATIONSHIPS)}")
    sql = p.text(entry, "sql", "", f"join '{name}'")
    if not sql.strip():
        p.lacks(f"join '{name}' needs sql, e.g. {{CUBE}}.customer_id = {{{name}}}.customer_id")
    return Join(name, sql)


def _dimension(entry: Mapping[str, Any], p: Problems) -> Dimension:
    name = str(entry["name"])
    kind = entry.get("type", "categorical")
    if kind not in DIMENSION_TYPES:
        p.add(f"dimension '{name}' type must be one of {', '.join(DIMENSION_TYPES)}")
    grain = entry.get("time_granularity")
    if grain is not None and grain not in GRAINS:
        p.add(f"dimension '{name}' time_granularity must be one of {', '.join(GRAINS)}")
    return Dimension(name, p.text(entry, "expr", name, f"dimension '{name}'"), kind == "time")


def _measure(entry: Mapping[str, Any], p: Problems) -> Measure:
    name = str(entry["name"])
    raw = str(entry.get("agg", "sum"))
    agg = AGG_ALIASES.get(raw) or (Agg(raw) if raw in Agg.__members__.values() else None)
    if agg is None:
        p.add(f"measure '{name}' agg '{raw}' is not one of {', '.join(Agg)}")
        agg = Agg.SUM
    filters: list[str] = []
    for item in entry.get("filters") or []:
        text = item.get("sql", "") if isinstance(item, dict) else item
        if str(text).strip():
            filters.append(str(text))
    return Measure(name, p.text(entry, "expr", name, f"measure '{name}'"), agg, tuple(filters))


_NEEDS = {
    MetricType.SIMPLE: ("measure",),
    MetricType.RATIO: ("numerator", "denominator"),
    MetricType.CUMULATIVE: ("measure",),
    MetricType.DERIVED: ("expr",),
}


def _metric(entry: Mapping[str, Any], file_path: str, into: Problems) -> Metric:
    """The metric, with its own problems; they are also added to `into` (the file's)."""
    p = Problems()
    found = _metric_fields(entry, file_path, p)
    into.found.extend(p.found)
    into.missing.extend(p.missing)
    return replace(found, problems=tuple(p.all()))


def _metric_fields(entry: Mapping[str, Any], file_path: str, p: Problems) -> Metric:
    name = str(entry.get("name") or "")
    raw = entry.get("type")
    if raw is None:
        p.lacks(f"metric '{name}' needs a type ({', '.join(MetricType)})")
        return Metric(name, MetricType.SIMPLE, file_path)
    if raw not in MetricType.__members__.values():
        p.add(f"metric '{name}' type must be one of {', '.join(MetricType)}")
        return Metric(name, MetricType.SIMPLE, file_path)
    kind = MetricType(raw)
    for key in _NEEDS[kind]:
        if not entry.get(key):
            p.lacks(f"{kind} metric '{name}' needs {key}")
    grain = entry.get("grain_to_date") or ""
    if grain and grain not in GRAINS:
        p.add(f"metric '{name}' grain_to_date must be one of {', '.join(GRAINS)}")
    inputs: list[MetricInput] = []
    if kind is MetricType.DERIVED and not (entry.get(METRIC_INPUTS) or entry.get("inputs")):
        p.lacks(f"derived metric '{name}' needs inputs, e.g. [{{metric: other_metric}}]")
    for item in entry.get(METRIC_INPUTS) or entry.get("inputs") or []:
        target = item.get("metric") if isinstance(item, dict) else None
        if not isinstance(target, str) or not target:
            p.add(f"metric '{name}' inputs must be mappings like {{metric: other_metric}}")
            continue
        inputs.append(MetricInput(target, str(item.get("alias") or target)))

    def text(key: str) -> str:
        return str(entry.get(key) or "")

    return Metric(
        name,
        kind,
        file_path,
        measure=text("measure"),
        numerator=text("numerator"),
        denominator=text("denominator"),
        grain_to_date=text("grain_to_date"),
        expr=text("expr"),
        inputs=tuple(inputs),
        filter=text("filter"),
    )
