"""The warehouses a run reads from and writes to: the profile's PostgreSQL connections and
Iceberg catalogs. `postgresql` / `iceberg` sources are read into Arrow tables (DuckDB scans
them); a node's `materializations:` are written from its output. In an env, every table goes
to the env's prefixed schema or namespace; production names are written only by production runs
and `promote --rematerialize`.

The client libraries (psycopg, pyiceberg, pyarrow) are imported only when a warehouse is used.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from seeknal.errors import ExecutionError
from seeknal.kinds.materializations import Materialization, parse
from seeknal.project.placeholders import render_env
from seeknal.project.profiles import Profile, source_connection
from seeknal.types import Node

WAREHOUSE_SOURCES = frozenset({"postgresql", "iceberg"})
EXTRAS = {"postgresql": "postgres", "iceberg": "iceberg"}


def client(kind: str) -> Any:
    """seeknal.engine.postgres or .iceberg; a clear error when its extra is not installed."""
    module = "postgres" if kind == "postgresql" else "iceberg"
    try:
        return importlib.import_module(f"seeknal.engine.{module}")
    except ImportError as exc:
        raise ExecutionError(
            f"{kind} needs a client library that is not installed ({exc.name}).",
            f"Install it: pip install 'seeknal[{EXTRAS[kind]}]'",
        ) from None


def is_warehouse_source(node: Node) -> bool:
    return node.kind == "source" and node.config.get("source") in WAREHOUSE_SOURCES


@dataclass(frozen=True)
class Warehouse:
    profile: Profile
    env: str | None = None  # None: production names

    def _source(self, node: Node) -> tuple[str, Any, str | None, str | None]:
        stype = str(node.config.get("source"))
        table = render_env(node.config.get("table")) or None
        query = render_env((node.config.get("params") or {}).get("query")) or None
        if stype == "postgresql":
            name = source_connection(node, self.profile) or ""
            return stype, self.profile.connection(name, node.id), table, query
        return stype, self.profile.catalog(str(table).split(".")[0], node.id), table, None

    def read_source(self, node: Node) -> Any:
        """The source's rows as an Arrow table."""
        stype, where, table, query = self._source(node)
        if stype == "postgresql":
            names, oids, rows = client(stype).read(where, node.id, table, query)
            try:
                return arrow_table(names, oids, rows)
            except Exception as exc:  # noqa: BLE001 - pyarrow's errors have no common base here
                raise ExecutionError(
                    f"{node.id}: the rows of the postgresql source cannot be converted: {exc}",
                    "Cast the odd columns to text in params.query.",
                ) from None
        return client(stype).read(where, node.id, str(table))

    def source_digest(self, node: Node) -> str:
        """Changes when the source's data does (docs/decisions.md)."""
        stype, where, table, query = self._source(node)
        if stype == "postgresql":
            return str(client(stype).change_signal(where, node.id, table, query))
        return str(client(stype).change_signal(where, node.id, str(table)))

    def materialize(
        self,
        node: Node,
        columns: Sequence[tuple[str, str]],
        rows: Callable[[], Iterable[Sequence[Any]]],
        arrow: Callable[[], Any],
    ) -> list[str]:
        """Write the node's output to each of its materializations; the tables written."""
        written = []
        for target in parse(node.config):
            names = target.names(self.env)
            if target.type == "postgresql":
                conn = self.profile.connection(target.where, node.id)
                client("postgresql").write(
                    conn,
                    node.id,
                    names,
                    columns,
                    rows(),
                    target.mode,
                    target.unique_key,
                    target.time_column,
                )
            else:
                catalog = self.profile.catalog(target.where, node.id)
                client("iceberg").write(catalog, node.id, names, arrow(), target.mode)
            written.append(".".join(names))
        return written

    def drop_env(self, env: str, targets: Iterable[Materialization]) -> list[str]:
        """Drop the schemas and namespaces `env` wrote to; the ones that existed."""
        by_place: dict[tuple[str, str], set[tuple[str, ...]]] = {}
        for target in targets:
            by_place.setdefault((target.type, target.where), set()).add(target.namespace(env))
        dropped = []
        for (kind, where), spaces in sorted(by_place.items()):
            if kind == "postgresql":
                conn = self.profile.connection(where, f"env {env}")
                found = client(kind).drop_schemas(conn, [s[0] for s in spaces])
                dropped += [f"{where}:{s}" for s in found]
            else:
                catalog = self.profile.catalog(where, f"env {env}")
                found = client(kind).drop_namespaces(catalog, [s[1] for s in spaces])
                dropped += [f"{where}.{s}" for s in found]
        return dropped


def arrow_table(names: Sequence[str], oids: Sequence[int], rows: Sequence[Sequence[Any]]) -> Any:
    """An Arrow table from PostgreSQL rows; common types by oid, the rest inferred."""
    pa = importlib.import_module("pyarrow")
    types = {
        16: pa.bool_(),
        17: pa.binary(),
        20: pa.int64(),
        21: pa.int16(),
        23: pa.int32(),
        700: pa.float32(),
        701: pa.float64(),
        19: pa.string(),
        25: pa.string(),
        1042: pa.string(),
        1043: pa.string(),
        1082: pa.date32(),
        1114: pa.timestamp("us"),
        1184: pa.timestamp("us", tz="UTC"),
    }
    arrays = []
    for index, oid in enumerate(oids):
        values = [row[index] for row in rows]
        kind = types.get(oid)
        if kind is None and not any(v is not None for v in values):
            kind = pa.string()
        arrays.append(pa.array(values, type=kind))
    return pa.Table.from_arrays(arrays, names=list(names))


_TYPES = {
    "BOOLEAN": "boolean",
    "TINYINT": "smallint",
    "SMALLINT": "smallint",
    "UTINYINT": "smallint",
    "INTEGER": "integer",
    "USMALLINT": "integer",
    "BIGINT": "bigint",
    "UINTEGER": "bigint",
    "UBIGINT": "numeric",
    "HUGEINT": "numeric",
    "FLOAT": "real",
    "DOUBLE": "double precision",
    "VARCHAR": "text",
    "DATE": "date",
    "TIME": "time",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "BLOB": "bytea",
    "UUID": "uuid",
    "INTERVAL": "interval",
    "JSON": "jsonb",
}


def pg_type(duckdb_type: str) -> str:
    """The PostgreSQL column type for a DuckDB one; what has no counterpart is text."""
    upper = duckdb_type.upper()
    if upper.startswith("DECIMAL"):
        return "numeric" + upper[len("DECIMAL") :].lower()
    return _TYPES.get(upper, "text")
