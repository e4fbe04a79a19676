"""A read-only DuckDB session over outputs: each output is a view of an in-memory database, so
nothing a statement does reaches a file (`seeknal repl` and the pytest fixture use it)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import duckdb

from seeknal.engine.base import QueryResult
from seeknal.engine.duckdb_support import (
    READS,
    fetch,
    query_failed,
    read_only,
    stop_if_interrupted,
    trim_sql,
)
from seeknal.errors import ExecutionError, SeeknalError
from seeknal.sigint import on_sigint
from seeknal.sql.quote import ident
from seeknal.sql.refs import replace_refs


class DuckDBSession:
    """Views named as asked (`"transform.orders"`, `orders`), over the SQL that reads each output."""

    def __init__(self, relations: Mapping[str, str]) -> None:
        self._con = duckdb.connect(":memory:")
        # views whose output DuckDB cannot read (a damaged file): left out, with the reason,
        # so that one bad output does not take the others away
        self.broken: dict[str, SeeknalError] = {}
        for name, relation in relations.items():
            try:
                self._con.execute(f"CREATE VIEW {ident(name)} AS SELECT * FROM {relation}")
            except RuntimeError as exc:
                stop_if_interrupted(exc)
                raise
            except duckdb.Error as exc:
                self.broken[name] = ExecutionError(
                    f"Reading the output behind view {name} failed in DuckDB: {str(exc).strip()}",
                    "'seeknal run' (or 'seeknal run --env ENV') writes outputs again.",
                )
        self._views = sorted(set(relations) - set(self.broken))

    def sql(self, statement: str, limit: int | None = None) -> QueryResult:
        read_only(statement, READS)

        def bind(ref: str) -> str:
            if ref not in self._views:
                raise ExecutionError(
                    f"The statement reads ref('{ref}'), which is not a view of this session.",
                    "The views: " + (", ".join(self._views) or "none") + ".",
                )
            return ident(ref)

        with on_sigint(self._con.interrupt):  # Ctrl-C stops the statement at once
            try:
                cursor = self._con.execute(replace_refs(trim_sql(statement), bind))
            except duckdb.Error as exc:
                raise query_failed(exc) from None
            except RuntimeError as exc:
                stop_if_interrupted(exc)
                raise
            return fetch(cursor, limit)

    def views(self) -> list[str]:
        return list(self._views)

    @property
    def connection(self) -> Any:
        return self._con

    def close(self) -> None:
        self._con.close()
