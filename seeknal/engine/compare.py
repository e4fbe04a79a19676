"""Comparing two outputs in DuckDB (what `DuckDBEngine.compare` does).

A full outer join on the key classifies every row as added, removed, changed or the same: each
side contributes its key and a hash of its other columns, so the rows never reach Python and
DuckDB holds only keys and hashes (grouping both sides on the key instead when a key both sides
have repeats). Comparisons run in a database
of their own (`ComparisonDB`) with a memory limit and a private temporary folder to spill to,
so two outputs of tens of millions of rows are compared in seconds without filling memory, and
nothing is written next to the project (DuckDB's own default spills to `.tmp` in the working
directory).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from typing import Any

import duckdb

from seeknal.engine.base import ChangedRow, ColumnChange, DataDiff, QueryResult
from seeknal.errors import ExecutionError
from seeknal.sql.quote import ident

# what a comparison may hold in memory before DuckDB spills to its temporary folder
MEMORY_LIMIT = "512MB"
CLASSES = ("added", "removed", "changed")


class ComparisonDB:
    """The database comparisons run in, opened on first use and kept for the next ones (a diff
    of many nodes opens it once)."""

    def __init__(self) -> None:
        self._spill: tempfile.TemporaryDirectory[str] | None = None
        self._con: Any = None

    def compare(
        self, before: str, after: str, key: Sequence[str], examples: int, names: tuple[str, str]
    ) -> DataDiff:
        """`before` and `after` are SQL relations (`read_parquet('...')`); `names` say what
        each is in messages (`output target/cache/...`)."""
        con = self._connection()
        try:
            return _Comparison(con, before, after, names).run(tuple(key), examples)
        except duckdb.Error as exc:
            hint = "Check both outputs exist and can be read; 'seeknal run' writes them again."
            if isinstance(exc, duckdb.OutOfMemoryException):
                hint = f"Allow the comparison more memory, e.g. SEEKNAL_DIFF_MEMORY=4GB (default {MEMORY_LIMIT})."
            raise ExecutionError(
                f"Comparing {names[0]} with {names[1]} failed in DuckDB: "
                + " ".join(str(exc).strip().splitlines()[:1]),
                hint,
            ) from None
        finally:
            con.execute("DROP TABLE IF EXISTS classes; DROP TABLE IF EXISTS ex")

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None
        if self._spill is not None:
            self._spill.cleanup()
            self._spill = None

    def _connection(self) -> Any:
        if self._con is None:
            self._spill = tempfile.TemporaryDirectory(prefix="seeknal-diff-")
            config: dict[str, str | bool | int | float | list[str]] = {
                "temp_directory": self._spill.name,
                "memory_limit": os.environ.get("SEEKNAL_DIFF_MEMORY") or MEMORY_LIMIT,
                "preserve_insertion_order": False,
            }
            self._con = duckdb.connect(":memory:", config=config)
        return self._con


class _Comparison:
    def __init__(self, con: Any, before: str, after: str, names: tuple[str, str]) -> None:
        self.con = con
        self.rel = (before, after)
        self.names = names
        self.schemas = (self._schema(before), self._schema(after))
        self.types: dict[str, str] = {}  # common column → the type both sides are compared in
        self.counts: tuple[int, ...] = ()  # rows of each side

    def run(self, key: tuple[str, ...], examples: int) -> DataDiff:
        old, new = (dict(s) for s in self.schemas)
        columns = [ColumnChange(c, None, t) for c, t in new.items() if c not in old]
        columns += [ColumnChange(c, t, None) for c, t in old.items() if c not in new]
        columns += [ColumnChange(c, old[c], t) for c, t in new.items() if c in old and old[c] != t]
        self.counts = tuple(self._scalar(f"SELECT count(*) FROM {rel}") for rel in self.rel)
        base = DataDiff(self.counts[0], self.counts[1], tuple(columns))
        if not key:
            return base
        self._check_key(key)
        self.types = {c: self._common_type(old[c], t) for c, t in new.items() if c in old}
        n, dups = self._classify(key, examples)
        if not examples:
            return _keyed(base, key, n, dups)
        return _keyed(
            base,
            key,
            n,
            dups,
            self._rows("added", 1, key) if n["added"] else None,
            self._rows("removed", 0, key) if n["removed"] else None,
            self._changed_rows(key) if n["changed"] else (),
        )

    # -- reading -------------------------------------------------------------------------
    def _schema(self, rel: str) -> list[tuple[str, str]]:
        return [
            (str(r[0]), str(r[1]))
            for r in self.con.execute(f"DESCRIBE SELECT * FROM {rel}").fetchall()
        ]

    def _scalar(self, sql: str) -> int:
        row = self.con.execute(sql).fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    def _check_key(self, key: tuple[str, ...]) -> None:
        for side, schema in enumerate(self.schemas):
            have = {c for c, _t in schema}
            missing = [k for k in key if k not in have]
            if missing:
                raise ExecutionError(
                    f"Key column(s) {', '.join(missing)} not in {self.names[side]}.",
                    "Declare a key the outputs of both sides have (docs/concepts.md, Diffs).",
                )

    def _common_type(self, old: str, new: str) -> str:
        """A type both column types convert to (INTEGER and DECIMAL(10,2): DECIMAL(12,2)), so
        that a widened column is not every row changed; text when there is none."""
        if old == new:
            return old
        try:
            row = self.con.execute(f"SELECT typeof([NULL::{old}, NULL::{new}][1])").fetchone()
        except duckdb.Error:
            return "VARCHAR"
        return str(row[0]) if row else "VARCHAR"

    def _value(self, column: str, table: str = "") -> str:
        prefix = f"{table}." if table else ""
        return f"CAST({prefix}{ident(column)} AS {self.types[column]})"

    # -- classifying keys ----------------------------------------------------------------
    def _classify(self, key: tuple[str, ...], examples: int) -> tuple[dict[str, int], int]:
        """Rows per class (`classes`) and repeated keys; example keys go to the table `ex`.

        A full outer join of (key, hash) pairs is the fast path. When a key both sides have
        repeats, a join would pair its rows up, so the counts are taken again by grouping on
        the key, which compares each key's rows as a whole set (slower, rarely needed)."""
        keys = ", ".join(f"{self._value(k)} AS k{i}" for i, k in enumerate(key))
        others = [self._value(c) for c in self.types if c not in key]
        digest = f"hash({', '.join(others)})" if others else "0::UBIGINT"
        side = [f"SELECT {keys}, {digest} AS h FROM {rel}" for rel in self.rel]
        names = [f"k{i}" for i in range(len(key))]
        struct = ", ".join(f"{k} := {k}" for k in names)
        sample = (
            f"min(struct_pack({struct}), {examples}) FILTER (WHERE cls <> 'same')"
            if examples
            else "NULL"
        )
        on = " AND ".join(f"a.{k} IS NOT DISTINCT FROM b.{k}" for k in names)
        picked = ", ".join(f"CASE WHEN a.p THEN a.{k} ELSE b.{k} END AS {k}" for k in names)
        self.con.execute(
            f"""CREATE OR REPLACE TEMP TABLE classes AS
            SELECT cls, count(*) AS n, count(ap) AS na, count(bp) AS nb, 0 AS dups,
                   {sample} AS ex
            FROM (
                SELECT {picked}, a.p AS ap, b.p AS bp,
                       CASE WHEN a.p IS NULL THEN 'added' WHEN b.p IS NULL THEN 'removed'
                            WHEN a.h <> b.h THEN 'changed' ELSE 'same' END AS cls
                FROM (SELECT *, true AS p FROM ({side[0]})) a
                FULL OUTER JOIN (SELECT *, true AS p FROM ({side[1]})) b ON {on}
            ) GROUP BY cls"""
        )
        paired = self.con.execute("SELECT sum(na), sum(nb) FROM classes").fetchone()
        if paired is None or (int(paired[0] or 0), int(paired[1] or 0)) != self.counts:
            self._classify_grouped(side, names, sample)
        found = self.con.execute("SELECT cls, n, dups FROM classes").fetchall()
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE ex AS "
            "SELECT DISTINCT cls, unnest(ex, recursive := true) FROM classes WHERE ex IS NOT NULL"
        )
        n = {c: 0 for c in CLASSES}
        n.update({str(cls): int(count) for cls, count, _d in found})
        return n, sum(int(d) for _c, _n, d in found)

    def _classify_grouped(self, side: list[str], names: list[str], sample: str) -> None:
        """`classes` by grouping both sides on the key: added and removed count rows, changed
        counts keys whose set of rows differs; `dups` counts keys both have that repeat."""
        group = ", ".join(names)
        self.con.execute(
            f"""CREATE OR REPLACE TEMP TABLE classes AS
            WITH grouped AS (
                SELECT {group},
                       count(*) FILTER (WHERE s = 0) AS n0, count(*) FILTER (WHERE s = 1) AS n1,
                       sum(h) FILTER (WHERE s = 0) AS h0, sum(h) FILTER (WHERE s = 1) AS h1
                FROM (SELECT *, 0 AS s FROM ({side[0]}) UNION ALL SELECT *, 1 FROM ({side[1]}))
                GROUP BY {group}
            ), keyed AS (
                SELECT *, CASE WHEN n0 = 0 THEN 'added' WHEN n1 = 0 THEN 'removed'
                               WHEN n0 <> n1 OR h0 <> h1 THEN 'changed' ELSE 'same' END AS cls
                FROM grouped
            )
            SELECT cls, sum(CASE cls WHEN 'added' THEN n1 WHEN 'removed' THEN n0 ELSE 1 END) AS n,
                   count(*) FILTER (WHERE n0 > 0 AND n1 > 0 AND (n0 > 1 OR n1 > 1)) AS dups,
                   {sample} AS ex
            FROM keyed GROUP BY cls"""
        )

    def _matching(self, side: int, cls: str, key: tuple[str, ...], select: str) -> Any:
        """Rows of one side whose key is an example of `cls`, ordered by key."""
        on = " AND ".join(
            f"ex.k{i} IS NOT DISTINCT FROM {self._value(k, 't')}" for i, k in enumerate(key)
        )
        order = ", ".join(f"ex.k{i}" for i in range(len(key)))
        return self.con.execute(
            f"SELECT {select} FROM {self.rel[side]} t JOIN ex ON ex.cls = '{cls}' AND {on} "
            f"ORDER BY {order}"
        )

    def _rows(self, cls: str, side: int, key: tuple[str, ...]) -> QueryResult:
        cursor = self._matching(side, cls, key, "t.*")
        return QueryResult([str(d[0]) for d in cursor.description], cursor.fetchall())

    def _changed_rows(self, key: tuple[str, ...]) -> tuple[ChangedRow, ...]:
        """Per example key, the common columns whose values differ (first row of each side)."""
        names = list(self.types)
        values = ", ".join(self._value(c, "t") for c in names)
        keys = ", ".join(f"ex.k{i}" for i in range(len(key)))
        sides: list[dict[tuple[Any, ...], tuple[Any, ...]]] = []
        for side in (0, 1):
            found: dict[tuple[Any, ...], tuple[Any, ...]] = {}
            for row in self._matching(side, "changed", key, f"{keys}, {values}").fetchall():
                found.setdefault(tuple(row[: len(key)]), tuple(row[len(key) :]))
            sides.append(found)
        changed = []
        for k, old in sides[0].items():
            new = sides[1].get(k)
            if new is None:
                continue
            diffs = tuple(
                (c, a, b) for c, a, b in zip(names, old, new, strict=True) if not _same(a, b)
            )
            changed.append(ChangedRow(k, diffs))
        return tuple(changed)


def _same(a: Any, b: Any) -> bool:
    return a == b or (a is None and b is None) or (a != a and b != b)  # NaN equals NaN here


def _keyed(
    base: DataDiff,
    key: tuple[str, ...],
    n: dict[str, int],
    dups: int,
    added: QueryResult | None = None,
    removed: QueryResult | None = None,
    changed: tuple[ChangedRow, ...] = (),
) -> DataDiff:
    return DataDiff(
        base.rows_before,
        base.rows_after,
        base.columns,
        key,
        n["added"],
        n["removed"],
        n["changed"],
        dups,
        added,
        removed,
        changed,
    )
