"""`kind: feature_group`: features of an entity, one row per entity key (and event time).

Its rows are its input's, or its `transform:` SQL's (in which `source` names the first input,
as in the older seeknal, and `ref()` works as in a transform). The entity (`entity: customer`,
whose key is `customer_id`, or `entity: {name, join_keys}`) must have its key columns in them.
The rows are written to the feature store, `target/feature_store/<entity>/<name>.parquet` (an
env writes its own copy under its folder; docs/concepts.md, "Feature kinds"), where after a run
the entity's groups are also merged into `features.parquet` (kinds/feature_store.py); a group
without an entity keeps them in seeknal's cache, like a transform.

`features:` lists the feature columns; their descriptions are column descriptions (metadata).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from seeknal.errors import ExecutionError
from seeknal.kinds.base import Change, Executed, ExecutionIO, FileChecks, KindSpec
from seeknal.kinds.feature_sql import quote
from seeknal.project.shapes import Shape
from seeknal.sql import compare
from seeknal.types import Node, NodeKind

STORE = "target/feature_store"
CONSOLIDATED_NAME = "features"  # features.parquet: the entity's merged groups (feature_store.py)
_FOLDER = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


@dataclass(frozen=True)
class Entity:
    name: str
    join_keys: tuple[str, ...]


def entity_of(config: Mapping[str, Any]) -> Entity | None:
    """The entity a feature group describes, or None when it names none (or not usably)."""
    value = config.get("entity")
    if isinstance(value, str) and value.strip():
        return Entity(value.strip(), (f"{value.strip()}_id",))
    if isinstance(value, dict) and isinstance(value.get("name"), str) and value["name"].strip():
        keys = value.get("join_keys")
        if isinstance(keys, str):
            keys = [keys]
        if isinstance(keys, list) and keys and all(isinstance(k, str) for k in keys):
            return Entity(value["name"].strip(), tuple(keys))
    return None


class FeatureGroupSpec(KindSpec):
    kind = NodeKind.FEATURE_GROUP
    keys = ("entity", "features", "materialization", "transform")

    def prepare(self, data: dict[str, Any]) -> dict[str, Any]:
        features = data.get("features")
        if not isinstance(features, dict):
            return data
        # a feature's description documents a column: metadata, never a reason to rerun
        described = {
            name: spec["description"]
            for name, spec in features.items()
            if isinstance(spec, dict) and "description" in spec
        }
        if not described:
            return data
        columns = data.get("columns")
        if columns is not None and not isinstance(columns, dict):
            return data  # reported as a shape problem of columns
        prepared = dict(data)
        prepared["columns"] = {**described, **(columns or {})}
        prepared["features"] = {
            name: {k: v for k, v in spec.items() if k != "description"}
            if isinstance(spec, dict)
            else spec
            for name, spec in features.items()
        }
        return prepared

    def shape_problems(self, data: dict[str, Any]) -> list[tuple[str, str]]:
        shape = Shape()
        entity = data.get("entity")
        wanted = "a name, or a mapping with name and join_keys"
        shape.expect("entity", "entity", entity, isinstance(entity, str | dict), wanted)
        for key in ("materialization", "features"):
            value = data.get(key)
            ok = isinstance(value, dict) or (key == "features" and isinstance(value, list))
            shape.expect(key, key, value, ok, "a mapping")
        sql = data.get("transform")
        shape.expect("transform", "transform", sql, isinstance(sql, str), "SQL text")
        return shape.found

    def node_sql(self, data: dict[str, Any], checks: FileChecks) -> str | None:
        sql = data.get("transform")
        return sql if isinstance(sql, str) and sql.strip() else None

    def sql_texts(self, data: dict[str, Any]) -> list[tuple[str, str]]:
        sql = data.get("transform")
        return [("transform", sql)] if isinstance(sql, str) and sql.strip() else []

    def check(self, data: dict[str, Any], checks: FileChecks) -> None:
        if data.get("entity") is None:
            return  # rows without an entity: kept in seeknal's cache, not in the feature store
        entity = entity_of(data)
        if entity is None:
            checks.problem(
                "entity needs a name and join_keys, e.g. {name: customer, join_keys: [id]}",
                checks.line("entity"),
            )
        elif not _FOLDER.fullmatch(entity.name) or ".." in entity.name:
            checks.problem(
                f"entity name '{entity.name}' names a folder of the feature store: use letters, "
                "digits, '_', '-' or '.'",
                checks.line("entity"),
            )
        elif data.get("name") == CONSOLIDATED_NAME:
            checks.problem(
                f"a feature group named '{CONSOLIDATED_NAME}' would write over "
                f"{STORE}/{entity.name}/{CONSOLIDATED_NAME}.parquet, where seeknal merges the "
                "entity's feature groups: give it another name",
                checks.line("name"),
            )

    def execution_config(self, node: Node, normalize: Callable[[str], str]) -> dict[str, Any]:
        config = dict(node.config)
        if node.sql is not None:
            config["transform"] = normalize(node.sql)
        return config

    def describe_change(
        self, node: Node, changed_keys: list[str], previous: Mapping[str, Any]
    ) -> Change | None:
        if changed_keys != ["transform"] or previous.get("sql") is None or node.sql is None:
            return None
        change = compare.compare_sql(str(previous["sql"]), node.sql)
        return Change(not change.non_breaking, change.reason, change.added)

    def output_file(self, node: Node) -> str | None:
        entity = entity_of(node.config)
        if entity is None or not _FOLDER.fullmatch(entity.name) or ".." in entity.name:
            return None
        if node.name == CONSOLIDATED_NAME:
            return None  # refused when the project loads (check)
        return f"{STORE}/{entity.name}/{node.name}.parquet"

    def failure_hint(self, node: Node) -> str:
        return f"Fix the transform of {node.file_path}, or its input's columns"

    def execute(self, node: Node, io: ExecutionIO) -> Executed:
        return self.execute_rows(node, io, self._rows(node, io))

    def execute_rows(self, node: Node, io: ExecutionIO, rows: str) -> Executed:
        entity = entity_of(node.config)
        if entity is None:
            if node.config.get("entity") is not None:
                raise ExecutionError(
                    f"{node.id} ({node.file_path}) names no usable entity.",
                    "Give it entity=<name> (key <name>_id) or {name: ..., join_keys: [...]}.",
                )
            return Executed(io.write(f"SELECT * FROM {rows}"))
        keys = ", ".join(quote(k) for k in entity.join_keys)
        io.rows(f"SELECT * FROM {rows} LIMIT 0")  # the body's own errors, as they are
        try:
            io.rows(f"SELECT {keys} FROM {rows} LIMIT 0")
        except Exception as exc:  # the engine's own error type: say what is missing instead
            raise ExecutionError(
                f"{node.id} ({node.file_path}): its rows lack the join keys of entity "
                f"'{entity.name}' ({', '.join(entity.join_keys)}).",
                "Return the key columns from the feature group, or set entity.join_keys.",
            ) from exc
        return Executed(io.write(f"SELECT * FROM {rows}"))

    def _rows(self, node: Node, io: ExecutionIO) -> str:
        if node.sql is None:
            return io.relation(self.this_input(node))
        statements = io.statements(node.sql)
        if len(statements) != 1:
            raise ExecutionError(
                f"{node.id} ({node.file_path}): a feature group's transform is one SELECT, "
                f"not {len(statements)} statements.",
                "Compute the intermediate steps in a transform node and read it here.",
            )
        body = io.bind(statements[0])
        if not node.inputs:
            return f"({body})"
        # `source` names the first input, as in the older seeknal's feature group SQL
        first = io.relation(node.inputs[0])
        return f"(WITH source AS (SELECT * FROM {first}) SELECT * FROM ({body}))"
