"""Iceberg through pyiceberg (the only module importing it): read a table, its current snapshot
id (the fingerprint of an iceberg source), write a node's rows, drop an env's namespaces.

Catalogs are the profile's `catalogs:` entries, handed to `pyiceberg.catalog.load_catalog` as
they are (for example `type: sql`, `uri: sqlite:///...`, `warehouse: file:///...`).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from typing import Any

from pyiceberg.catalog import Catalog as IcebergCatalog
from pyiceberg.catalog import load_catalog
from pyiceberg.exceptions import NoSuchNamespaceError, NoSuchTableError

from seeknal.errors import ExecutionError
from seeknal.kinds.materializations import Mode
from seeknal.project.profiles import Catalog


def _catalog(catalog: Catalog, node_id: str) -> IcebergCatalog:
    try:
        return load_catalog(catalog.name, **catalog.properties)
    except Exception as exc:  # noqa: BLE001 - pyiceberg raises many kinds for a bad catalog
        raise ExecutionError(
            f"{node_id}: cannot open Iceberg catalog '{catalog.name}': {_first(exc)}",
            f"Check the properties of catalog '{catalog.name}' in {catalog.source} "
            "(type, uri, warehouse).",
        ) from None


def _first(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _table(catalog: Catalog, node_id: str, table: str) -> Any:
    _, namespace, name = table.split(".")
    try:
        return _catalog(catalog, node_id).load_table((namespace, name))
    except (NoSuchTableError, NoSuchNamespaceError):
        raise ExecutionError(
            f"{node_id}: Iceberg table {table} does not exist in catalog '{catalog.name}'.",
            f"Create it, or fix 'table:' of {node_id}.",
        ) from None


def _failed(exc: Exception, node_id: str, what: str) -> ExecutionError:
    return ExecutionError(
        f"{node_id}: Iceberg {what} failed: {_first(exc)}",
        f"Check the catalog and the table of {node_id}.",
    )


def read(catalog: Catalog, node_id: str, table: str) -> Any:
    """The table's rows (its current snapshot) as an Arrow table."""
    loaded = _table(catalog, node_id, table)
    try:
        return loaded.scan().to_arrow()
    except Exception as exc:  # noqa: BLE001
        raise _failed(exc, node_id, f"read of {table}") from None


def change_signal(catalog: Catalog, node_id: str, table: str) -> str:
    """The current snapshot id: every commit to the table changes it."""
    snapshot = _table(catalog, node_id, table).current_snapshot()
    return f"iceberg:{table}:{snapshot.snapshot_id if snapshot else 'empty'}"


def write(catalog: Catalog, node_id: str, names: Sequence[str], data: Any, mode: Mode) -> None:
    """Write `data` (Arrow) to `catalog.namespace.table` in one commit, creating the namespace
    and the table when missing."""
    _, namespace, name = names
    cat = _catalog(catalog, node_id)
    try:
        cat.create_namespace_if_not_exists(namespace)
        if not cat.table_exists((namespace, name)):
            cat.create_table((namespace, name), schema=data.schema)
        table = cat.load_table((namespace, name))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Delete operation did not match any records"
            if mode is Mode.OVERWRITE:
                _overwrite(cat, (namespace, name), table, data)
            else:
                table.append(data)
    except Exception as exc:  # noqa: BLE001 - schema, IO and commit errors alike fail the node
        raise _failed(exc, node_id, f"write of {'.'.join(names)}") from None


def _overwrite(cat: IcebergCatalog, ident: tuple[str, str], table: Any, data: Any) -> None:
    """Replace the rows in one commit; columns the table lacks are added first. A column whose
    type cannot be widened (long -> double) means a new table: purge, create, write."""
    try:
        with table.update_schema() as update:
            update.union_by_name(data.schema)
    except Exception:  # noqa: BLE001 - pyiceberg's schema errors share no base class
        cat.purge_table(ident)
        cat.create_table(ident, schema=data.schema)
    cat.load_table(ident).overwrite(data)


def drop_namespaces(catalog: Catalog, namespaces: Iterable[str]) -> list[str]:
    """Drop these namespaces and their tables from the catalog; the ones that existed."""
    cat = _catalog(catalog, f"catalog '{catalog.name}'")
    existing = {tuple(ns) for ns in cat.list_namespaces()}
    dropped = []
    for namespace in sorted(set(namespaces)):
        if (namespace,) not in existing:
            continue
        for ident in cat.list_tables(namespace):
            cat.purge_table(ident)  # its data and metadata files too
        cat.drop_namespace(namespace)
        dropped.append(namespace)
    return dropped
