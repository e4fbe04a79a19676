"""An entity's consolidated features: every feature group of one entity in one file.

After a run, the feature groups of an entity are merged as the older seeknal merged them into
`target/feature_store/<entity>/features.parquet`: the rows of the group first in name order,
each other group LEFT JOINed on the entity's join keys and `event_time`, and each group's
features (its columns but the join keys, its `event_time_col` and `event_time`) packed into one
struct column named after the group. `_entity_catalog.json` beside it names the groups, their
features, row counts and column types (docs/concepts.md, "Feature store").

Pure: the members, the SQL (DuckDB's dialect) and the catalog's content. Writing both files is
the engine's and state's work.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from seeknal.kinds.feature_group import CONSOLIDATED_NAME, STORE, entity_of
from seeknal.kinds.feature_sql import quote
from seeknal.types import Node, NodeKind

FEATURES_FILE = f"{CONSOLIDATED_NAME}.parquet"
CATALOG_FILE = "_entity_catalog.json"
EVENT_TIME = "event_time"  # the column groups are joined on, whatever their event_time_col
CATALOG_VERSION = "1.0"


@dataclass(frozen=True)
class Member:
    """One feature group of an entity."""

    node_id: str
    name: str
    join_keys: tuple[str, ...]
    event_time_col: str


def members_by_entity(nodes: Iterable[Node]) -> dict[str, list[Member]]:
    """entity name -> its feature groups in name order (the join's order)."""
    found: dict[str, list[Member]] = {}
    for node in nodes:
        if node.kind != NodeKind.FEATURE_GROUP:
            continue
        entity = entity_of(node.config)
        if entity is None:
            continue
        materialization = node.config.get("materialization")
        event = materialization.get("event_time_col") if isinstance(materialization, dict) else None
        member = Member(node.id, node.name, entity.join_keys, str(event or EVENT_TIME))
        found.setdefault(entity.name, []).append(member)
    return {name: sorted(group, key=lambda m: m.name) for name, group in sorted(found.items())}


def folder(entity: str) -> str:
    """The entity's folder, relative to production's (or an env's) base."""
    return f"{STORE}/{entity}"


def key_problem(entity: str, members: list[Member]) -> str | None:
    """Why the groups of an entity cannot be joined: their join keys differ."""
    first = members[0]
    for member in members[1:]:
        if sorted(member.join_keys) != sorted(first.join_keys):
            return (
                f"feature group {member.name} has join_keys {list(member.join_keys)} but "
                f"{first.name} has {list(first.join_keys)}"
            )
    return None


def features_of(member: Member, columns: Iterable[str]) -> list[str]:
    """A group's features: its columns but the join keys and the event time."""
    left_out = {*member.join_keys, member.event_time_col, EVENT_TIME}
    return [c for c in columns if c not in left_out]


def consolidation_sql(
    members: list[Member], relations: Mapping[str, str], features: Mapping[str, list[str]]
) -> str:
    """One SELECT merging the groups; `relations` names each group's rows (SQL after FROM)."""
    base = members[0]
    keys = base.join_keys

    def alias(member: Member) -> str:
        return quote(f"fg_{member.name}")

    columns = [f"{alias(base)}.{quote(k)}" for k in keys]
    columns.append(f"{alias(base)}.{quote(EVENT_TIME)} AS {quote(EVENT_TIME)}")
    for member in members:
        fields = ", ".join(
            f"{quote(f)} := {alias(member)}.{quote(f)}" for f in features[member.name]
        )
        packed = f"struct_pack({fields})" if fields else "NULL"
        columns.append(f"{packed} AS {quote(member.name)}")
    joins = []
    for member in members[1:]:
        on = " AND ".join(
            f"{alias(base)}.{quote(c)} = {alias(member)}.{quote(c)}" for c in (*keys, EVENT_TIME)
        )
        joins.append(f"LEFT JOIN {relations[member.name]} AS {alias(member)} ON {on}")
    return " ".join(
        [f"SELECT {', '.join(columns)} FROM {relations[base.name]} AS {alias(base)}", *joins]
    )


def catalog(
    entity: str,
    members: list[Member],
    schemas: Mapping[str, list[tuple[str, str]]],
    counts: Mapping[str, int],
    now: str,
) -> dict[str, Any]:
    """`_entity_catalog.json`'s content, in the older seeknal's layout."""
    groups = {
        m.name: {
            "name": m.name,
            "features": features_of(m, [c for c, _ in schemas[m.name]]),
            "event_time_col": m.event_time_col,
            "last_updated": now,
            "row_count": counts[m.name],
            "schema": dict(schemas[m.name]),
        }
        for m in members
    }
    return {
        "entity_name": entity,
        "join_keys": list(members[0].join_keys),
        "feature_groups": groups,
        "consolidated_at": now,
        "schema_version": CATALOG_VERSION,
    }
