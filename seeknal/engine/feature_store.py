"""Writing an entity's consolidated features file (seeknal/kinds/feature_store.py says what it
holds) with DuckDB, whichever engine computed the feature groups: their outputs are parquet.

The file is written to a temp name beside it and renamed into place, so a reader sees the old
file or the new one, never a part; a failure leaves no temp file behind.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb

from seeknal.engine.duckdb_support import first_lines, temp_path
from seeknal.kinds.feature_store import Member, consolidation_sql, features_of
from seeknal.sql.quote import literal


@dataclass(frozen=True)
class Consolidated:
    """What was written: rows of the file, and each group's columns (name, type) and rows."""

    rows: int
    schemas: dict[str, list[tuple[str, str]]]
    counts: dict[str, int]


class ConsolidationFailed(Exception):
    """DuckDB could not merge the groups (e.g. one has no event_time column); the reason."""


def write_consolidated(
    members: list[Member], inputs: Mapping[str, Path], dest: Path
) -> Consolidated:
    """Merge the groups' outputs (`inputs`: group name -> its parquet file) into `dest`."""
    con = duckdb.connect(":memory:")
    tmp = temp_path(dest)
    try:
        relations = {m.name: f"read_parquet({literal(str(inputs[m.name]))})" for m in members}
        schemas: dict[str, list[tuple[str, str]]] = {}
        counts: dict[str, int] = {}
        for member in members:
            rel = relations[member.name]
            described = con.execute(f"DESCRIBE SELECT * FROM {rel}").fetchall()
            schemas[member.name] = [(str(r[0]), str(r[1])) for r in described]
            counted = con.execute(f"SELECT count(*) FROM {rel}").fetchone()
            counts[member.name] = int(counted[0]) if counted else 0
        features = {m.name: features_of(m, [c for c, _ in schemas[m.name]]) for m in members}
        sql = consolidation_sql(members, relations, features)
        dest.parent.mkdir(parents=True, exist_ok=True)
        row = con.execute(f"COPY ({sql}) TO {literal(str(tmp))} (FORMAT parquet)").fetchone()
        os.replace(tmp, dest)
        return Consolidated(int(row[0]) if row else 0, schemas, counts)
    except duckdb.Error as exc:
        raise ConsolidationFailed(first_lines(exc)) from None
    finally:
        tmp.unlink(missing_ok=True)
        con.close()
