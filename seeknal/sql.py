"""SQL analysis (sqlglot is imported here only, and lazily: warm plans never need it)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import MutableMapping
from typing import Any

_WS = re.compile(r"\s+")
_KEEP_CASE = {"STRING", "NATIONAL_STRING", "RAW_STRING", "BIT_STRING", "HEX_STRING", "IDENTIFIER"}


def normalize(sql: str, cache: MutableMapping[str, Any] | None = None) -> str:
    """A canonical form of `sql`: comments and layout removed, unquoted words lower-cased.

    Two queries that differ only in whitespace, comments or keyword case normalise equally.
    """
    key = "n:" + hashlib.sha1(sql.encode()).hexdigest()
    if cache is not None and key in cache:
        return str(cache[key])
    try:
        from sqlglot.tokens import Tokenizer

        tokens = Tokenizer(dialect="duckdb").tokenize(sql)
        parts = []
        for tok in tokens:
            name = tok.token_type.name
            text = tok.text if name in _KEEP_CASE else tok.text.lower()
            parts.append(f"{name[0]}:{text}" if name in _KEEP_CASE else text)
        result = " ".join(parts).rstrip(" ;")
    except Exception:  # noqa: BLE001 - tokenizer rejects some DuckDB syntax; fall back
        result = _WS.sub(" ", sql).strip().rstrip(";").lower()
    if cache is not None:
        cache[key] = result
    return result
