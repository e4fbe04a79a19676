"""SQL analysis (sqlglot is imported here only, and lazily: warm plans never need it)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from seeknal.sql import ahead
from seeknal.sql.refs import replace_refs

_WS = re.compile(r"\s+")
_KEEP_CASE = {"STRING", "NATIONAL_STRING", "RAW_STRING", "BIT_STRING", "HEX_STRING", "IDENTIFIER"}


def load_tokenizer() -> None:
    """Import sqlglot's DuckDB tokenizer now (what `normalize` uses): ~75 ms of imports,
    none when a worker answers instead (sql/ahead.py)."""
    if ahead.running():
        return
    from sqlglot.tokens import Tokenizer

    Tokenizer(dialect="duckdb")


def normalize(sql: str, cache: MutableMapping[str, Any] | None = None) -> str:
    """A canonical form of `sql`: comments and layout removed, keywords lower-cased.

    Two queries that differ only in whitespace, comments or keyword (and function name) case
    normalise equally. Identifiers keep their case: DuckDB names output columns after them
    (`AS UserId` makes a column `UserId`). When the SQL cannot be tokenised faithfully the
    text is kept as it is, so any edit counts as a change.
    """
    key = "n:" + hashlib.sha1(sql.encode()).hexdigest()
    if cache is not None and key in cache:
        return str(cache[key])
    result = _normal_form(sql)
    if cache is not None:
        cache[key] = result
    return result


@ahead.offloaded
def _normal_form(sql: str) -> str:
    result = sql.strip().rstrip(";").strip()
    if not _DOLLAR_QUOTE.search(sql):  # sqlglot's duckdb tokenizer splits $$ strings
        try:
            from sqlglot.tokens import Tokenizer

            tokens = Tokenizer(dialect="duckdb").tokenize(sql)
            parts = []
            for i, tok in enumerate(tokens):
                name = tok.token_type.name
                if name in _KEEP_CASE:
                    parts.append(f"{name[0]}:{tok.text}")
                elif name == "VAR" and not _is_call(tokens, i):
                    parts.append(tok.text)
                else:
                    parts.append(_WS.sub(" ", tok.text.lower()))
            result = " ".join(parts).rstrip(" ;")
        except Exception:  # noqa: BLE001 - the tokenizer rejects some DuckDB syntax; keep text
            pass
    return result


_DOLLAR_QUOTE = re.compile(r"\$\w*\$")


def _is_call(tokens: list[Any], i: int) -> bool:
    return i + 1 < len(tokens) and tokens[i + 1].token_type.name == "L_PAREN"


# -- change analysis ---------------------------------------------------------------------------
def _parseable(sql: str) -> str:
    return replace_refs(sql, ref_table_name)


def _statements(sql: str) -> list[Any]:
    import sqlglot

    return [s for s in sqlglot.parse(_parseable(sql), read="duckdb") if s is not None]


def _projections(select: Any) -> list[Any] | None:
    from sqlglot import exp

    return list(select.expressions) if isinstance(select, exp.Select) else None


def _is_star(projection: Any) -> bool:
    from sqlglot import exp

    return isinstance(projection, exp.Star) or (
        isinstance(projection, exp.Column) and isinstance(projection.this, exp.Star)
    )


def _columns_in(node: Any) -> list[str]:
    from sqlglot import exp

    if node is None:
        return []
    return sorted({c.name for c in node.find_all(exp.Column) if c.name})


@dataclass(frozen=True)
class SqlChange:
    """How a transform's SQL changed: `non_breaking` when only output columns were added."""

    non_breaking: bool
    reason: str
    added: tuple[str, ...] = ()  # the new columns, when non_breaking


_remembered: MutableMapping[str, Any] | None = None


@contextmanager
def remembering(cache: MutableMapping[str, Any]) -> Iterator[None]:
    """Within the block, `compare_sql` keeps its answers in `cache` (the tool cache), keyed by
    both texts: planning the same edit again (a hook, then `plan`, then `run --env`) does not
    import and run the parser again."""
    global _remembered
    before, _remembered = _remembered, cache
    try:
        yield
    finally:
        _remembered = before


def compare_sql(old: str, new: str) -> SqlChange:
    memo = _remembered
    if memo is None:
        return _compare_sql(old, new)
    pair = hashlib.sha1(f"{len(old)}\0{old}\0{new}".encode()).hexdigest()
    key = "cmp3:" + pair  # the version of the rules: answers of older rules are not reused
    hit = memo.get(key)
    if isinstance(hit, tuple) and len(hit) == 3:
        return SqlChange(bool(hit[0]), str(hit[1]), tuple(str(c) for c in hit[2]))
    change = _compare_sql(old, new)
    memo[key] = (change.non_breaking, change.reason, change.added)
    return change


@ahead.offloaded
def _compare_sql(old: str, new: str) -> SqlChange:
    try:
        old_stmts, new_stmts = _statements(old), _statements(new)
    except Exception as exc:  # noqa: BLE001 - sqlglot raises many error types
        first = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        return SqlChange(False, f"SQL changed (could not be analysed: {first[:80]})")
    if not old_stmts or not new_stmts:
        return SqlChange(False, "SQL changed")
    if [s.sql("duckdb", comments=False) for s in old_stmts[:-1]] != [
        s.sql("duckdb", comments=False) for s in new_stmts[:-1]
    ]:
        return SqlChange(False, "SQL changed: a statement before the final SELECT changed")
    old_q, new_q = old_stmts[-1], new_stmts[-1]
    old_p, new_p = _projections(old_q), _projections(new_q)
    if old_p is None or new_p is None:
        return SqlChange(False, "SQL changed: query logic")
    old_names = [p.alias_or_name for p in old_p]
    new_names = [p.alias_or_name for p in new_p]
    added = [n for n in new_names if n not in old_names]
    removed = [n for n in old_names if n not in new_names]
    if added and not removed and not any(_is_star(p) for p in new_p):
        trimmed = new_q.copy()
        trimmed.set("expressions", [p for p in trimmed.expressions if p.alias_or_name in old_names])
        if trimmed.sql("duckdb", comments=False) == old_q.sql("duckdb", comments=False):
            cols = ", ".join(f"`{c}`" for c in added)
            plural = "s" if len(added) > 1 else ""
            risk = _rows_change(old_q, new_q, old_names, new_names, added)
            if risk:
                return SqlChange(False, f"SQL changed: new column{plural} {cols} {risk}")
            return SqlChange(True, f"only new column{plural} {cols} added", tuple(added))
    return SqlChange(False, _breaking_reason(old_q, new_q, old_p, new_p, added, removed))


def _rows_change(
    old_q: Any, new_q: Any, old_names: list[str], new_names: list[str], added: list[str]
) -> str | None:
    """Why adding `added` to the final SELECT changes existing rows, or None when it cannot.

    A new column is only non-breaking when the rows stay the same: DISTINCT and GROUP BY ALL
    take it into the row key, positional GROUP BY/ORDER BY shift when it is inserted before
    them, unnest multiplies rows and a bare aggregate collapses them.
    """
    from sqlglot import exp

    distinct = new_q.args.get("distinct")
    if distinct is not None and not distinct.args.get("on"):
        return "under SELECT DISTINCT change which rows are returned"
    group = new_q.args.get("group")
    if group is not None and group.args.get("all"):
        return "under GROUP BY ALL change the grouping"
    keys = [
        e.this if isinstance(e, exp.Ordered) else e
        for clause in (group, new_q.args.get("order"))
        if clause is not None
        for e in clause.expressions
    ]
    if any(isinstance(e, exp.Var) and e.name.upper() == "ALL" for e in keys):
        return "under ORDER BY ALL change the order"
    positional = [
        e for e in keys if isinstance(e, exp.Literal) or type(e).__name__ == "PositionalColumn"
    ]
    if positional and new_names[: len(old_names)] != old_names:
        return "shift positional GROUP BY / ORDER BY references"
    captured = _captured_name(new_q, added)
    if captured:
        return f"named `{captured}` elsewhere in the query can take that reference over"
    new_cols = [p for p in new_q.expressions if p.alias_or_name in added]
    if any(p.find(exp.Explode, exp.Unnest) for p in new_cols):
        return "unnest and change the number of rows"
    return _aggregates(old_q, new_cols, group is not None)


def _aggregates(old_q: Any, new_cols: list[Any], grouped: bool) -> str | None:
    """New columns that aggregate a query that did not: one row instead of many. A function
    sqlglot does not know (DuckDB's `product`, `histogram`...) may be an aggregate: it counts
    as one when the old columns name no column (else DuckDB itself refuses the query)."""
    from sqlglot import exp

    def bare(projection: Any, kinds: Any) -> bool:
        return any(f.find_ancestor(exp.Window) is None for f in projection.find_all(kinds))

    if grouped or any(bare(p, exp.AggFunc) for p in old_q.expressions):
        return None
    if any(bare(p, exp.AggFunc) for p in new_cols):
        return "aggregate and change the number of rows"
    constant = all(p.find(exp.Column) is None for p in old_q.expressions)
    if constant and any(bare(p, exp.Anonymous) for p in new_cols):
        return "can aggregate and change the number of rows"
    return None


def _captured_name(query: Any, added: list[str]) -> str | None:
    """A new column's name used in the query outside the SELECT list (ORDER BY, WHERE,
    HAVING...): DuckDB can bind it to the new SELECT alias instead of the input column. A
    new column that is that input column under its own name changes nothing."""
    from sqlglot import exp

    renamed = {
        p.alias_or_name.lower()
        for p in query.expressions
        if p.alias_or_name in added
        and not (isinstance(p.unalias(), exp.Column) and p.unalias().name == p.alias_or_name)
    }
    for key, clause in query.args.items():
        if key in ("expressions", "with", "with_") or clause is None:
            continue
        for part in clause if isinstance(clause, list) else [clause]:
            if not isinstance(part, exp.Expression):
                continue
            for column in part.find_all(exp.Column):
                if not column.table and column.name.lower() in renamed:
                    return str(column.name)
    return None


def _breaking_reason(
    old_q: Any, new_q: Any, old_p: list[Any], new_p: list[Any], added: list[str], removed: list[str]
) -> str:
    """Why a change to the final SELECT (or to one CTE's SELECT) is breaking, first cause first."""
    return (
        _columns_gone(old_p, new_p, added, removed)
        or _cte_change(old_q, new_q)
        or _clause_change(old_q, new_q)
        or _projection_change(old_p, new_p, added)
    )


def _columns_gone(
    old_p: list[Any], new_p: list[Any], added: list[str], removed: list[str]
) -> str | None:
    """A removed column, or one renamed (the same expression under a new name)."""
    if removed and len(removed) == len(added) == 1:
        old_expr = next(p for p in old_p if p.alias_or_name == removed[0])
        new_expr = next(p for p in new_p if p.alias_or_name == added[0])
        if old_expr.unalias().sql(comments=False) == new_expr.unalias().sql(comments=False):
            return f"SQL changed: column `{removed[0]}` renamed to `{added[0]}`"
    if removed:
        cols = ", ".join(f"`{c}`" for c in removed)
        return f"SQL changed: column{'s' if len(removed) > 1 else ''} {cols} removed"
    return None


def _cte_change(old_q: Any, new_q: Any) -> str | None:
    """Changed CTEs; when exactly one changed in place, why it did, as for the final SELECT."""
    old_ctes = {c.alias: c.sql(comments=False) for c in old_q.find_all(_cte_type())}
    new_ctes = {c.alias: c.sql(comments=False) for c in new_q.find_all(_cte_type())}
    changed_ctes = sorted(
        n for n in set(old_ctes) | set(new_ctes) if old_ctes.get(n) != new_ctes.get(n)
    )
    if len(changed_ctes) == 1 and changed_ctes[0] in old_ctes and changed_ctes[0] in new_ctes:
        name = changed_ctes[0]
        old_cte = next(c for c in old_q.find_all(_cte_type()) if c.alias == name).this
        new_cte = next(c for c in new_q.find_all(_cte_type()) if c.alias == name).this
        inner_old, inner_new = _projections(old_cte), _projections(new_cte)
        if inner_old is not None and inner_new is not None:
            old_n = [p.alias_or_name for p in inner_old]
            new_n = [p.alias_or_name for p in inner_new]
            inner = _breaking_reason(
                old_cte,
                new_cte,
                inner_old,
                inner_new,
                [n for n in new_n if n not in old_n],
                [n for n in old_n if n not in new_n],
            )
            return f"{inner} in CTE `{name}`"
    if changed_ctes:
        return "SQL changed: CTE " + ", ".join(f"`{n}`" for n in changed_ctes[:3])
    return None


# clauses compared in this order; sqlglot has named some keys both ways across versions
_CLAUSES = (
    ("where", "filter"),
    ("joins", "join"),
    ("group", "grouping"),
    ("having", "HAVING filter"),
    ("qualify", "QUALIFY filter"),
    ("with_", "CTE"),
    ("with", "CTE"),
    ("from_", "FROM source"),
    ("from", "FROM source"),
    ("distinct", "DISTINCT"),
    ("order", "ORDER BY"),
    ("limit", "LIMIT"),
)


def _clause_change(old_q: Any, new_q: Any) -> str | None:
    """The first clause that differs, with the columns the new one uses."""
    for key, label in _CLAUSES:
        a, b = old_q.args.get(key), new_q.args.get(key)
        if _clause_sql(a) != _clause_sql(b):
            used = _columns_in(b if b is not None and not isinstance(b, list) else None)
            if key == "joins":
                used = sorted({c for j in (b or []) for c in _columns_in(j)})
            on = f" on {', '.join(used[:4])}" if used else ""
            return f"SQL changed: {label}{on}"
    return None


def _projection_change(old_p: list[Any], new_p: list[Any], added: list[str]) -> str:
    # compare columns by name, not position: a column inserted in the middle moves the others
    before = {o.alias_or_name: o.sql(comments=False) for o in old_p}
    changed = [
        n.alias_or_name
        for n in new_p
        if n.alias_or_name in before and n.sql(comments=False) != before[n.alias_or_name]
    ]
    if changed:
        cols = ", ".join(f"`{c}`" for c in changed[:4])
        return f"SQL changed: expression for {cols}"
    if added:
        cols = ", ".join(f"`{c}`" for c in added[:4])
        return f"SQL changed: new column{'s' if len(added) > 1 else ''} {cols}"
    if [n.alias_or_name for n in new_p] != [o.alias_or_name for o in old_p]:
        return "SQL changed: column order"
    return "SQL changed: query logic"


def _clause_sql(clause: Any) -> list[str]:
    if isinstance(clause, list):
        return [x.sql(comments=False) for x in clause]
    return [clause.sql(comments=False)] if clause else []


def _cte_type() -> Any:
    from sqlglot import exp

    return exp.CTE


def ref_table_name(node_id: str) -> str:
    """The table name `ref('<node_id>')` becomes when SQL is parsed for analysis."""
    return "__ref_" + re.sub(r"\W", "_", node_id)
