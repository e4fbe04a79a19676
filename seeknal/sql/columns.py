"""Does a query depend on which columns its upstream has? (sqlglot, imported lazily.)

An upstream that only gains columns (a `non_breaking` change) leaves a downstream node's
production data valid only when the node's result cannot change with the set of columns it
reads. That is proven here, conservatively: anything this module cannot follow counts as a
dependence, so the node is recomputed rather than kept (docs/concepts.md).
"""

from __future__ import annotations

import re
from typing import Any

from seeknal.sql import ahead
from seeknal.sql.compare import _is_star, _parseable, _statements

_RESULT_KINDS = ("Select", "Union", "Intersect", "Except", "Subquery", "Values")


def _followed() -> tuple[type, ...]:
    """The sqlglot query types whose output columns are followed."""
    from sqlglot import exp

    return (exp.Select, exp.Union, exp.Intersect, exp.Except, exp.Subquery, exp.Values)


@ahead.offloaded
def column_set_use(sql: str, upstream_names: set[str]) -> str | None:
    """How the query's result depends on the columns of the upstream tables named by
    `upstream_names` (lower-case names as they appear in the parsed SQL), or None when it
    provably does not: it never expands `*` over them (counting rows with `count(*)` aside),
    uses none of their rows as a whole value, picks no columns by pattern and joins nothing
    NATURAL."""
    from sqlglot import exp

    try:
        statements = _statements(sql)
    except Exception:  # noqa: BLE001 - cannot tell: assume it depends on them
        return "its SQL could not be analysed"
    if not statements:
        return "its SQL could not be analysed"
    names = {n.lower() for n in upstream_names}
    query = statements[-1]
    if type(query).__name__ not in _RESULT_KINDS:
        return "its last statement is not a query seeknal can follow"
    ctes = {c.alias.lower(): c.this for c in query.find_all(exp.CTE)}
    scope = _Scope(names, ctes)
    passes = scope.flows(query)
    if passes:  # the final SELECT's own `*` over the input: looked at below
        scope.skip = {id(p) for p in query.expressions if _is_star(p)}
        scope.skip |= {id(p.this) for p in query.expressions if isinstance(p, exp.Column)}
    for statement in statements:
        found = scope.uses(statement)
        if found:
            return found
    if passes:
        return PASSES if _keeps_rows(query) else _RESHAPES
    return None


PASSES = "passes on the new columns (SELECT *)"
_RESHAPES = (
    "passes on the new columns where they can change its rows "
    "(`*` with DISTINCT, grouping, ORDER BY, LIMIT or a join)"
)


def _keeps_rows(query: Any) -> bool:
    """A final SELECT whose `*` only widens its rows: the same rows, with more columns. Not
    under DISTINCT, grouping, a set operation, LIMIT or ORDER BY; and over one table only (a
    joined table's column of the same name as a new one would now come twice)."""
    from sqlglot import exp

    if not isinstance(query, exp.Select):
        return False
    clauses = ("distinct", "group", "having", "qualify", "limit", "offset", "order", "joins")
    return not any(query.args.get(c) for c in clauses)


class _Scope:
    """The upstream names and the query's CTEs, to follow `*` through them."""

    def __init__(self, names: set[str], ctes: dict[str, Any]) -> None:
        self.names = names
        self.ctes = ctes
        self.skip: set[int] = set()  # stars already judged (the final SELECT's own)

    def flows(self, node: Any, depth: int = 0) -> bool:
        """Would columns added upstream appear in `node`'s output rows?"""
        from sqlglot import exp

        if depth > 20:
            return True
        if isinstance(node, exp.Union | exp.Intersect | exp.Except):
            return self.flows(node.left, depth + 1) or self.flows(node.right, depth + 1)
        if isinstance(node, exp.Subquery):
            return self.flows(node.this, depth + 1)
        if not isinstance(node, exp.Select):
            return False
        stars = [p for p in node.expressions if _is_star(p)]
        return any(self._star_over_upstream(star, node, depth) for star in stars)

    def _star_over_upstream(self, star: Any, select: Any, depth: int) -> bool:
        """Does `star` (in `select`) range over a table carrying the new columns?"""
        from sqlglot import exp

        qualifier = (star.table or "").lower() if isinstance(star, exp.Column) else ""
        # `alias.*` can name a table of an enclosing query (correlated, LATERAL)
        for alias, item in _enclosing_sources(select) if qualifier else _sources(select):
            if qualifier and alias != qualifier:
                continue
            if self._carries(item, depth):
                return True
        return False

    def _carries(self, item: Any, depth: int) -> bool:
        from sqlglot import exp

        if isinstance(item, exp.Table):
            table = item.name.lower()
            if table in self.names:
                return True
            return table in self.ctes and self.flows(self.ctes[table], depth + 1)
        if isinstance(item, exp.Subquery):
            return not isinstance(item.this, _followed()) or self.flows(item.this, depth + 1)
        return not isinstance(item, exp.Values)  # a table function, a pivot...: cannot tell

    def uses(self, statement: Any) -> str | None:
        """A use of the upstream's whole set of columns anywhere in `statement`, in words."""
        from sqlglot import exp

        for node in statement.walk():
            if id(node) in self.skip:
                continue
            if _describes(node):
                return "describes a table (DESCRIBE, SUMMARIZE, SHOW)"
            if isinstance(node, exp.Literal) and node.is_string and self._named_in(node.this):
                return "names its input inside a string (query(), query_table())"
            if isinstance(node, exp.Columns) and not isinstance(node.this, exp.Star):
                return "picks columns by pattern (COLUMNS(...))"
            if type(node).__name__ == "PositionalColumn":
                return "picks a column by position (#n)"
            if isinstance(node, exp.Pivot):
                return "pivots its input (PIVOT/UNPIVOT group by every other column)"
            if isinstance(node, exp.Join) and "NATURAL" in str(node.args.get("method") or ""):
                return "joins NATURAL (on every column name the tables share)"
            if isinstance(node, exp.Star) and isinstance(node.parent, exp.Column):
                continue  # `alias.*`: the qualified column is looked at instead
            if _is_star(node) and not _counts_rows(node):
                select = node.find_ancestor(exp.Select)
                if select is None or self._star_over_upstream(node, select, 0):
                    return "reads every column of its input (`*` inside the query)"
            if isinstance(node, exp.Column) and not node.table and self._is_row(node):
                return f"uses whole rows of its input as values (`{node.name}`)"
        return None

    def _is_row(self, column: Any) -> bool:
        """A bare name that is a table (or its alias) carrying the new columns: its whole row."""
        from sqlglot import exp

        name = column.name.lower()
        if name in self.names:
            return True
        select = column.find_ancestor(exp.Select)
        if select is None:
            return False
        sources = _enclosing_sources(select)
        return any(alias == name and self._carries(item, 0) for alias, item in sources)

    def _named_in(self, text: str) -> bool:
        words = set(re.findall(r"\w+", text.lower()))
        return bool(words & self.names)


@ahead.offloaded
def unqualified_mention(sql: str, names: set[str]) -> str | None:
    """The first column the query names without a table whose name is in `names` (lower
    case): a new column of that name in an input can capture it, or make it ambiguous."""
    from sqlglot import exp

    try:
        statements = _statements(sql)
    except Exception:  # noqa: BLE001 - column_set_use has said so already
        return None
    for statement in statements:
        for column in statement.find_all(exp.Column):
            if not column.table and column.name.lower() in names:
                return str(column.name)
    return None


@ahead.offloaded
def name_mention(sql: str, names: set[str]) -> str | None:
    """The first word of the query, outside strings and not after `table.`, that is one of
    `names` (lower case): a keyword such as `current_date` that a column of that name takes
    over, a lambda parameter...: a new column of that name can change what it refers to."""
    from sqlglot.tokens import Tokenizer

    try:
        tokens = Tokenizer(dialect="duckdb").tokenize(_parseable(sql))
    except Exception:  # noqa: BLE001 - the text itself, word by word
        return next((w for w in re.findall(r"\w+", sql) if w.lower() in names), None)
    for i, token in enumerate(tokens):
        qualified = i > 0 and tokens[i - 1].token_type.name == "DOT"
        if "STRING" not in token.token_type.name and token.text.lower() in names and not qualified:
            return str(token.text)
    return None


def _counts_rows(star: Any) -> bool:
    """`count(*)`: the number of rows, whatever the columns."""
    from sqlglot import exp

    return isinstance(star.parent, exp.Count) and star.arg_key == "this"


def _describes(node: Any) -> bool:
    """DESCRIBE/SUMMARIZE/SHOW (or SQL parsed as an opaque command): rows per column."""
    from sqlglot import exp

    kinds = ("Describe", "Summarize", "Command")  # looked up by name: not in every sqlglot
    if type(node).__name__ in kinds:
        return True
    return isinstance(node, exp.Table) and node.name.lower() in ("show", "describe", "summarize")


def _enclosing_sources(select: Any) -> list[tuple[str, Any]]:
    """The tables of `select` and of every query it is nested in, innermost first."""
    from sqlglot import exp

    found = []
    while select is not None:
        found += _sources(select)
        select = select.find_ancestor(exp.Select)
    return found


def _sources(select: Any) -> list[tuple[str, Any]]:
    """(alias or name, table expression) of each table in the select's FROM and JOINs."""
    found = []
    from_ = select.args.get("from_") or select.args.get("from")
    items = ([from_.this] if from_ is not None else []) + [
        j.this for j in select.args.get("joins") or []
    ]
    for item in items:
        found.append(((item.alias_or_name or "").lower(), item))
    return found
