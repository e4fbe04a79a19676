"""`ref('kind.name')` in SQL: finding the node ids a query reads and binding them to outputs.

A ref counts only in code: `ref(...)` inside a comment, a string literal or a quoted identifier
is text, not an edge. The scan knows just enough of DuckDB's lexing for that: `--` and nested
`/* */` comments, '' and E'\\' strings, "" identifiers and dollar quoting. It is one regular
expression rather than sqlglot's tokenizer because the loader runs on every command and git
hook: importing sqlglot alone takes longer than loading a project, and its tokenizer is several
times slower than this scan.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

# One scan from left to right: each match is either a ref call in code or a stretch that is not
# code (comment, string, quoted identifier, dollar-quoted string), skipped whole so that nothing
# inside it can match. Characters between matches are code that holds no ref.
_LEXEME = re.compile(
    r"""
    (?P<ref>\bref\s*\(\s*(?P<arg>'[^']*(?:''[^']*)*'|"[^"]*(?:""[^"]*)*")\s*\))
    | --[^\n]*
    | (?P<block>/\*)
    | \b[eE]'(?:[^'\\]|\\.|'')*'?
    | '[^']*(?:''[^']*)*'?
    | "[^"]*(?:""[^"]*)*"?
    | \$(?P<tag>(?:[A-Za-z_]\w*)?)\$(?:.*?\$(?P=tag)\$|.*)
    """,
    re.VERBOSE | re.DOTALL,
)
_BLOCK_EDGE = re.compile(r"/\*|\*/")


@dataclass(frozen=True)
class RefCall:
    start: int
    end: int
    node_id: str


def ref_calls(sql: str) -> list[RefCall]:
    """Every `ref('x')` / `ref("x")` in the code of `sql`, with its span.

    Whitespace may surround the parentheses and the name (`ref ( 'x' )`); a comment there may
    not, as before.
    """
    found: list[RefCall] = []
    if "ref" not in sql:
        return found
    pos = 0
    while (match := _LEXEME.search(sql, pos)) is not None:
        pos = match.end()
        if match.group("ref"):
            found.append(RefCall(match.start(), pos, _unquote(match.group("arg"))))
        elif match.group("block"):
            pos = _block_end(sql, pos)
    return found


def _block_end(sql: str, pos: int) -> int:
    """Where the block comment opened just before `pos` ends (they nest); unclosed: the end."""
    depth = 1
    for edge in _BLOCK_EDGE.finditer(sql, pos):
        depth += 1 if edge.group() == "/*" else -1
        if depth == 0:
            return edge.end()
    return len(sql)


def _unquote(literal: str) -> str:
    quote = literal[0]
    return literal[1:-1].replace(quote * 2, quote)


def sql_refs(sql: str) -> list[str]:
    """Node ids named by ref('...') in SQL, in order of first appearance."""
    seen: list[str] = []
    for call in ref_calls(sql):
        if call.node_id not in seen:
            seen.append(call.node_id)
    return seen


def replace_refs(sql: str, replacement: Callable[[str], str]) -> str:
    """`sql` with every ref('x') in code replaced by `replacement('x')`; the rest byte for byte."""
    parts: list[str] = []
    pos = 0
    for call in ref_calls(sql):
        parts += [sql[pos : call.start], replacement(call.node_id)]
        pos = call.end
    return "".join(parts) + sql[pos:]


def strip_ref_call(text: str) -> str:
    """`ref('a.b')` → `a.b`; anything else is returned stripped."""
    calls = ref_calls(text)
    return calls[0].node_id if calls else text.strip()
