"""The feature store's consolidated files after a run: each entity's `features.parquet` and
`_entity_catalog.json` (seeknal/kinds/feature_store.py), in production or in an env.

An entity is consolidated again when one of its feature groups ran, or when its files do not
name exactly its groups (a group added or removed, a file deleted). A failure to merge (join
keys that differ, a group without an `event_time` column) does not fail the run: it is reported
and the entity's stale files are removed, so no file misstates the groups.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from seeknal.digest import file_digest
from seeknal.kinds.feature_group import STORE
from seeknal.kinds.feature_store import (
    CATALOG_FILE,
    FEATURES_FILE,
    Member,
    catalog,
    folder,
    key_problem,
    members_by_entity,
)
from seeknal.state import atomic
from seeknal.state.layout import Target
from seeknal.state.records import EntityFiles
from seeknal.state.store import write_entity_files
from seeknal.types import Node


@dataclass(frozen=True)
class EntityOutcome:
    """What consolidating one entity did."""

    entity: str
    where: str  # the entity's folder, relative to the project
    groups: int
    rows: int = 0
    files: tuple[Path, ...] = ()  # written
    problem: str | None = None
    removed: bool = False  # its files went with its last feature group
    missing: tuple[str, ...] = ()  # its groups without an output yet, left out of the merge

    def line(self) -> str:
        where = f"{self.where}/"
        if self.removed:
            return f"Removed {where}{FEATURES_FILE}: entity '{self.entity}' has no feature groups"
        if self.problem:
            return (
                f"Entity '{self.entity}' not consolidated into {where}{FEATURES_FILE}: "
                f"{self.problem}"
            )
        left = ""
        if self.missing:
            names = ", ".join(self.missing)
            left = f"; left out, no output yet: {names} (run them to add them)"
        return (
            f"Consolidated entity '{self.entity}': {self.groups} feature group(s), "
            f"{self.rows} row(s) in {where}{FEATURES_FILE}{left}"
        )


def catalog_groups(target: Target, entity: str) -> set[str] | None:
    """The groups an entity's catalog names, or None without a readable catalog."""
    path = target.own_files / folder(entity) / CATALOG_FILE
    try:
        groups = json.loads(path.read_text(encoding="utf-8")).get("feature_groups")
    except (OSError, ValueError, AttributeError):
        return None
    return set(groups) if isinstance(groups, dict) else None


def consolidate(
    target: Target,
    nodes: Iterable[Node],
    due: Callable[[str, list[Member]], bool],
    output_of: Callable[[str], Path | None],
    now: str,
) -> list[EntityOutcome]:
    """Consolidate each entity `due` says must be, from its groups' outputs (`output_of`)."""
    return [
        consolidate_entity(target, entity, members, output_of, now)
        for entity, members in members_by_entity(nodes).items()
        if due(entity, members)
    ]


def consolidate_entity(
    target: Target,
    entity: str,
    members: list[Member],
    output_of: Callable[[str], Path | None],
    now: str,
) -> EntityOutcome:
    # DuckDB only when a merge is due: planning imports this module and must not load it
    from seeknal.engine.feature_store import ConsolidationFailed, write_consolidated

    base = target.own_files / folder(entity)
    data, catalog_path = base / FEATURES_FILE, base / CATALOG_FILE
    paths = {m.name: output_of(m.node_id) for m in members}
    present = [m for m in members if (p := paths[m.name]) is not None and p.is_file()]
    problem = key_problem(entity, members)
    if problem is None and not present:
        problem = "none of its feature groups has an output"
    if problem is None:
        try:
            inputs = {m.name: Path(str(paths[m.name])) for m in present}
            done = write_consolidated(present, inputs, data)
        except ConsolidationFailed as exc:
            problem = str(exc)
    if problem is not None:
        data.unlink(missing_ok=True)
        catalog_path.unlink(missing_ok=True)
        return EntityOutcome(entity, target.relative(base), len(members), problem=problem)
    content = catalog(entity, present, done.schemas, done.counts, now)
    atomic.write_json(catalog_path, content)
    where = target.relative(base)
    missing = tuple(m.name for m in members if m not in present)
    files = (data, catalog_path)
    return EntityOutcome(entity, where, len(present), done.rows, files, missing=missing)


def production_due(target: Target, ran: set[str]) -> Callable[[str, list[Member]], bool]:
    """An entity one of whose groups ran, or whose files do not name exactly its groups."""

    def due(entity: str, members: list[Member]) -> bool:
        if any(m.node_id in ran for m in members):
            return True
        if not (target.own_files / folder(entity) / FEATURES_FILE).is_file():
            return True
        return catalog_groups(target, entity) != {m.name for m in members}

    return due


def orphans(target: Target, nodes: Iterable[Node]) -> list[str]:
    """Entities with a catalog in `target` but no feature group left in `nodes`."""
    store = target.own_files / STORE
    if not store.is_dir():
        return []
    live = set(members_by_entity(nodes))
    return sorted(
        p.name for p in store.iterdir() if (p / CATALOG_FILE).is_file() and p.name not in live
    )


def remove_entity(target: Target, entity: str) -> EntityOutcome:
    base = target.own_files / folder(entity)
    for name in (FEATURES_FILE, CATALOG_FILE):
        (base / name).unlink(missing_ok=True)
    return EntityOutcome(entity, target.relative(base), 0, removed=True)


def consolidate_production(
    target: Target, nodes: list[Node], ran: set[str], now: str
) -> list[EntityOutcome]:
    """After a production run: `ran`, the feature groups that ran successfully."""
    by_id = {n.id: n for n in nodes}
    outcomes = consolidate(
        target, nodes, production_due(target, ran), lambda i: target.output(by_id[i]).path, now
    )
    return outcomes + [remove_entity(target, e) for e in orphans(target, nodes)]


def consolidate_env(
    env: Target,
    prod: Target,
    nodes: list[Node],
    own: set[str],
    output_of: Callable[[str], Path | None],
    now: str,
    memo: dict[str, object],
) -> list[EntityOutcome]:
    """After `run --env`: the entities one of whose groups the env computes (`own`), or whose
    groups differ from those production's catalog names, merged from the groups as the env
    sees them; then the env's record of what promote moves (`EntityFiles`)."""

    def due(entity: str, members: list[Member]) -> bool:
        if any(m.node_id in own for m in members):
            return True
        return catalog_groups(prod, entity) not in (None, {m.name for m in members})

    outcomes = consolidate(env, nodes, due, output_of, now)
    files = {
        p.relative_to(env.own_files).as_posix(): file_digest(p, memo)
        for o in outcomes
        for p in o.files
    }
    gone = [f"{folder(e)}/{n}" for e in orphans(prod, nodes) for n in (FEATURES_FILE, CATALOG_FILE)]
    write_entity_files(env, EntityFiles(files, tuple(gone)))
    return outcomes
