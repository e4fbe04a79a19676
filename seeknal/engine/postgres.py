"""PostgreSQL through psycopg (the only module importing it): read a table or a query, a cheap
change signal for fingerprints, write a node's rows into a table, drop an env's schemas.

Every name is quoted (`psycopg.sql.Identifier`); names reaching here were checked as plain
identifiers when the project loaded. Messages name the connection by `user@host:port/db`, never
with its password.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from seeknal.engine.warehouse import pg_type
from seeknal.errors import ExecutionError
from seeknal.kinds.materializations import Mode
from seeknal.project.profiles import Connection

CONNECT_KEYS = frozenset(
    {
        "host",
        "port",
        "user",
        "password",
        "dbname",
        "sslmode",
        "sslrootcert",
        "sslcert",
        "sslkey",
        "connect_timeout",
        "application_name",
        "options",
        "target_session_attrs",
    }
)


@contextmanager
def connect(conn: Connection, node_id: str) -> Iterator[psycopg.Connection[Any]]:
    """A connection that commits when the block ends and rolls back when it raises."""
    kwargs = {k: v for k, v in conn.settings.items() if k in CONNECT_KEYS}
    if conn.database:
        kwargs["dbname"] = conn.database
    kwargs.setdefault("connect_timeout", 10)
    try:
        pg = psycopg.connect(make_conninfo(**{k: str(v) for k, v in kwargs.items()}))
    except psycopg.Error as exc:
        raise ExecutionError(
            f"{node_id}: cannot connect to PostgreSQL {conn.describe()}: {_first(exc, conn)}",
            f"Check the host, port, user and password of connection '{conn.name}' in "
            f"{conn.source} (and that the server is running).",
        ) from None
    try:
        with pg:
            yield pg
    except psycopg.Error as exc:
        raise _failed(exc, conn, node_id) from None


def _first(exc: Exception, conn: Connection) -> str:
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    text = " ".join(lines[:2]) or type(exc).__name__
    password = str(conn.settings.get("password") or "")
    return text.replace(password, "****") if len(password) >= 1 else text


def _failed(exc: psycopg.Error, conn: Connection, node_id: str) -> ExecutionError:
    if isinstance(exc, psycopg.errors.UndefinedTable):
        hint = f"Create the table, or fix 'table:' / the query of {node_id}."
    elif isinstance(exc, psycopg.errors.InsufficientPrivilege):
        hint = f"Grant the user of connection '{conn.name}' the privileges it needs."
    else:
        hint = f"Check the SQL and the tables of {node_id}."
    return ExecutionError(
        f"{node_id}: PostgreSQL {conn.describe()} failed: {_first(exc, conn)}", hint
    )


def _name(parts: Sequence[str]) -> sql.Identifier:
    return sql.Identifier(*parts)


def read(
    conn: Connection, node_id: str, table: str | None, query: str | None
) -> tuple[list[str], list[int], list[tuple[Any, ...]]]:
    """Column names, their type oids and every row of a table (`schema.table`) or a query."""
    select = _select(table, query)
    with connect(conn, node_id) as pg, pg.cursor() as cur:
        cur.execute(select)
        description = cur.description or []
        rows = cur.fetchall()
    return [d.name for d in description], [d.type_code for d in description], rows


def _select(table: str | None, query: str | None) -> sql.Composed:
    if query:
        return sql.Composed([sql.SQL(query)])  # the user's own read query
    return sql.SQL("SELECT * FROM {}").format(_name(str(table).split(".")))


def change_signal(conn: Connection, node_id: str, table: str | None, query: str | None) -> str:
    """What changes when the data does (docs/decisions.md): for a table, its row count, the
    newest row version (max xmin) and its columns; for a query or a view, a hash of every row."""
    with connect(conn, node_id) as pg, pg.cursor() as cur:
        if table and not query:
            regclass = ".".join(f'"{p}"' for p in table.split("."))
            cur.execute(
                "SELECT c.relkind::text FROM pg_class c WHERE c.oid = to_regclass(%s)", (regclass,)
            )
            found = cur.fetchone()
            if found is None:
                raise ExecutionError(
                    f"{node_id}: table {table} does not exist in PostgreSQL {conn.describe()}.",
                    f"Create it, or fix 'table:' of {node_id}.",
                )
            cur.execute(
                "SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod), ', ' "
                "ORDER BY attnum) FROM pg_attribute "
                "WHERE attrelid = to_regclass(%s) AND attnum > 0 AND NOT attisdropped",
                (regclass,),
            )
            signal = [f"{table}|{_one(cur)}"]
            if found[0] in ("r", "p"):
                cur.execute(
                    sql.SQL("SELECT count(*), max(xmin::text::bigint) FROM {}").format(
                        _name(table.split("."))
                    )
                )
                signal.append(repr(cur.fetchone()))
                return hashlib.sha256("\n".join(signal).encode()).hexdigest()
        cur.execute(
            sql.SQL(
                "SELECT count(*), md5(coalesce(string_agg(md5(t::text), '' "
                "ORDER BY md5(t::text)), '')) FROM ({}) AS t"
            ).format(_select(table, query))
        )
        return hashlib.sha256(repr(cur.fetchone()).encode()).hexdigest()


def _one(cur: Any) -> Any:
    row = cur.fetchone()
    return row[0] if row else None


# -- writing ---------------------------------------------------------------------------------
def write(
    conn: Connection,
    node_id: str,
    names: tuple[str, str],
    columns: Sequence[tuple[str, str]],
    rows: Iterable[Sequence[Any]],
    mode: Mode,
    unique_key: Sequence[str] = (),
    time_column: str | None = None,
) -> None:
    """Write `rows` into `schema.table` in one transaction: a reader sees the old rows or the
    new ones. `columns` are (name, DuckDB type)."""
    schema, table = names
    target = _name(names)
    with connect(conn, node_id) as pg, pg.cursor() as cur:
        cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(_name([schema])))
        if mode is Mode.OVERWRITE:
            staged = _name([schema, f"_seeknal_new_{table}"[:63]])
            cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(staged))
            _create(cur, staged, columns, "")
            _copy(cur, staged, columns, rows)
            cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(target))
            cur.execute(
                sql.SQL("ALTER TABLE {} RENAME TO {}").format(staged, sql.Identifier(table))
            )
            return
        _create(cur, target, columns, "IF NOT EXISTS ")
        if mode is Mode.APPEND:
            _copy(cur, target, columns, rows)
            return
        stage = sql.Identifier("_seeknal_stage")
        cur.execute(sql.SQL("CREATE TEMP TABLE {} (LIKE {}) ON COMMIT DROP").format(stage, target))
        _copy(cur, stage, columns, rows)
        cur.execute(_replace_matching(target, stage, mode, unique_key, time_column))
        names_sql = sql.SQL(", ").join(sql.Identifier(c) for c, _ in columns)
        cur.execute(
            sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {}").format(
                target, names_sql, names_sql, stage
            )
        )


def _replace_matching(
    target: sql.Identifier,
    stage: sql.Identifier,
    mode: Mode,
    unique_key: Sequence[str],
    time_column: str | None,
) -> sql.Composed:
    """DELETE the target's rows that the new rows replace: same key, or inside their time span."""
    if mode is Mode.UPSERT_BY_KEY:
        match = sql.SQL(" AND ").join(
            sql.SQL("t.{} IS NOT DISTINCT FROM s.{}").format(sql.Identifier(k), sql.Identifier(k))
            for k in unique_key
        )
        return sql.SQL("DELETE FROM {} AS t USING {} AS s WHERE {}").format(target, stage, match)
    col = sql.Identifier(str(time_column))
    return sql.SQL(
        "DELETE FROM {t} WHERE {c} >= (SELECT min({c}) FROM {s}) AND {c} <= (SELECT max({c}) FROM {s})"
    ).format(t=target, s=stage, c=col)


def _create(
    cur: Any, name: sql.Identifier, columns: Sequence[tuple[str, str]], exists: str
) -> None:
    body = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(pg_type(t))) for c, t in columns
    )
    cur.execute(sql.SQL("CREATE TABLE " + exists + "{} ({})").format(name, body))


def _copy(
    cur: Any, name: sql.Identifier, columns: Sequence[tuple[str, str]], rows: Iterable[Any]
) -> None:
    names_sql = sql.SQL(", ").join(sql.Identifier(c) for c, _ in columns)
    with cur.copy(sql.SQL("COPY {} ({}) FROM STDIN").format(name, names_sql)) as copy:
        for row in rows:
            copy.write_row(row)


def drop_schemas(conn: Connection, schemas: Iterable[str]) -> list[str]:
    """Drop these schemas and everything in them; the ones that existed."""
    dropped = []
    with connect(conn, f"connection '{conn.name}'") as pg, pg.cursor() as cur:
        for schema in sorted(set(schemas)):
            cur.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,))
            if cur.fetchone():
                cur.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
                dropped.append(schema)
    return dropped
