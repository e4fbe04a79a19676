"""SQL fragments of semantic models and metric queries (expressions, filters), checked and
combined with sqlglot, imported lazily: only `seeknal query --metrics` needs it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def expression_problem(text: str) -> str | None:
    """Why `text` is not one SQL expression over columns (None when it is one).

    A fragment is pasted into the SELECT seeknal builds, so a statement, a second statement, a
    subquery or a comment that would swallow the rest of the query is refused.
    """
    import sqlglot
    from sqlglot import exp

    if "--" in text or "/*" in text:
        return "comments are not allowed in it"
    try:
        parsed = sqlglot.parse(f"SELECT {text}", read="duckdb")
    except sqlglot.errors.ParseError as exc:
        return f"it is not valid SQL ({_first_line(exc)})"
    if len(parsed) != 1 or parsed[0] is None:
        return "it must be one expression, not several statements"
    select = parsed[0]
    if not isinstance(select, exp.Select) or len(select.expressions) != 1:
        return "it must be one expression"
    clauses = ("from", "from_", "where", "group", "having", "order", "limit", "with", "joins")
    if any(select.args.get(k) for k in clauses):
        return "it must be an expression, not a query"
    if select.expressions[0].find(exp.Select, exp.Subquery, exp.Query):
        return "subqueries are not allowed in it"
    return None


def substitute_names(expr: str, values: Mapping[str, str]) -> str:
    """`expr` with each bare name in `values` replaced by `(its SQL)`; everything else (strings,
    quoted names, function names, qualified columns) is kept as written."""
    from sqlglot.tokens import Tokenizer, TokenType

    tokens = Tokenizer(dialect="duckdb").tokenize(expr)
    parts: list[str] = []
    at = 0
    for i, tok in enumerate(tokens):
        if tok.token_type != TokenType.VAR or tok.text not in values:
            continue
        after = tokens[i + 1].token_type if i + 1 < len(tokens) else None
        before = tokens[i - 1].token_type if i else None
        if after in (TokenType.L_PAREN, TokenType.DOT) or before == TokenType.DOT:
            continue
        parts += [expr[at : tok.start], f"({values[tok.text]})"]
        at = tok.end + 1
    return "".join([*parts, expr[at:]])


def _first_line(exc: Any) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
