"""`ref('kind.name')` in SQL: finding the node ids a query reads and binding them to outputs."""

from __future__ import annotations

import re
from collections.abc import Callable

REF_CALL = re.compile(r"""\bref\(\s*(['"])([^'"]*)\1\s*\)""")


def sql_refs(sql: str) -> list[str]:
    """Node ids named by ref('...') in SQL, in order of first appearance."""
    seen: list[str] = []
    for match in REF_CALL.finditer(sql):
        if match.group(2) not in seen:
            seen.append(match.group(2))
    return seen


def replace_refs(sql: str, replacement: Callable[[str], str]) -> str:
    """`sql` with every ref('x') replaced by `replacement('x')`."""
    return REF_CALL.sub(lambda m: replacement(m.group(2)), sql)


def strip_ref_call(text: str) -> str:
    """`ref('a.b')` → `a.b`; anything else is returned stripped."""
    match = REF_CALL.search(text)
    return match.group(2) if match else text.strip()
