"""`materializations:` on a node: where its output is also written (a PostgreSQL table, an
Iceberg table), how (`mode`), and the name a table gets in an env (docs/concepts.md).

Pure: parsing, checks and names. Writing is the engine's (seeknal/engine/warehouse.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

# plain SQL identifiers only: every name is quoted anyway, this keeps names portable and
# refuses anything a user could use to smuggle SQL in
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}\Z")
TYPES = ("postgresql", "iceberg")


class Mode(StrEnum):
    OVERWRITE = "overwrite"
    APPEND = "append"
    UPSERT_BY_KEY = "upsert_by_key"
    INCREMENTAL_BY_TIME = "incremental_by_time"


@dataclass(frozen=True)
class Materialization:
    type: str  # postgresql | iceberg
    table: tuple[str, ...]  # (schema, table) or (catalog, namespace, table)
    mode: Mode = Mode.OVERWRITE
    connection: str | None = None
    unique_key: tuple[str, ...] = ()
    time_column: str | None = None

    def names(self, env: str | None) -> tuple[str, ...]:
        """The table's parts as `env` writes them: its schema or namespace prefixed."""
        if env is None:
            return self.table
        *head, space, name = self.table
        return (*head, f"{env_prefix(env)}{space}", name)

    def shown(self, env: str | None = None) -> str:
        return ".".join(self.names(env))

    def namespace(self, env: str | None) -> tuple[str, ...]:
        """What `env` creates and an env deletion drops: (schema,) or (catalog, namespace)."""
        return self.names(env)[:-1]

    @property
    def where(self) -> str:
        """The connection or catalog it writes through."""
        return (self.connection or "") if self.type == "postgresql" else self.table[0]


def env_prefix(env: str) -> str:
    """`dev` -> `dev_`; characters env names allow but identifiers do not become `_`."""
    return re.sub(r"[^a-z0-9_]", "_", env.lower()) + "_"


def parse(config: Mapping[str, Any]) -> list[Materialization]:
    """The node's materializations (its config was checked when the project loaded)."""
    found = []
    for item in config.get("materializations") or []:
        keys = item.get("unique_key") or item.get("key") or ()
        found.append(
            Materialization(
                type=str(item["type"]),
                table=tuple(str(item["table"]).split(".")),
                mode=Mode(str(item.get("mode") or "overwrite")),
                connection=str(item["connection"]) if item.get("connection") else None,
                unique_key=tuple([keys] if isinstance(keys, str) else keys),
                time_column=str(item["time_column"]) if item.get("time_column") else None,
            )
        )
    return found


def problems(value: Any) -> list[str]:
    """What is wrong with a `materializations:` value (empty when it is fine)."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        return ["'materializations' must be a list of mappings (type, table, mode ...)"]
    found: list[str] = []
    for index, item in enumerate(value, 1):
        found.extend(f"materializations #{index}: {p}" for p in _item_problems(item))
    return found


def _item_problems(item: Mapping[str, Any]) -> list[str]:
    mtype = str(item.get("type", ""))
    if mtype not in TYPES:
        return [f"type '{mtype}' is not one of {', '.join(TYPES)}"]
    found = []
    parts = str(item.get("table") or "").split(".")
    want = 2 if mtype == "postgresql" else 3
    shape = "schema.table" if want == 2 else "catalog.namespace.table"
    if len(parts) != want:
        found.append(f"{mtype} needs 'table: {shape}'")
    found.extend(f"'{p}' is not a plain identifier (letters, digits, _)" for p in _unsafe(parts))
    if mtype == "postgresql" and not item.get("connection"):
        found.append("postgresql needs 'connection: NAME' (a connection of the profile)")
    mode = str(item.get("mode") or "overwrite")
    if mode not in set(Mode):
        found.append(f"mode '{mode}' is not one of {', '.join(Mode)}")
    keys = item.get("unique_key") or item.get("key")
    if mode == Mode.UPSERT_BY_KEY and not keys:
        found.append("mode upsert_by_key needs 'unique_key: [column, ...]'")
    if mode == Mode.INCREMENTAL_BY_TIME and not item.get("time_column"):
        found.append("mode incremental_by_time needs 'time_column: COLUMN'")
    if mode in (Mode.UPSERT_BY_KEY, Mode.INCREMENTAL_BY_TIME) and mtype == "iceberg":
        found.append(f"mode {mode} is for postgresql; iceberg takes overwrite or append")
    columns = [keys] if isinstance(keys, str) else list(keys or [])
    columns += [item["time_column"]] if item.get("time_column") else []
    found.extend(f"column '{c}' is not a plain identifier" for c in _unsafe(map(str, columns)))
    return found


def _unsafe(parts: Any) -> list[str]:
    return [p for p in parts if p and not IDENTIFIER.match(p)]
