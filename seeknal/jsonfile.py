"""Small JSON files read and written without importing `json`.

`json` imports `re` (and with it `enum` and more: about 5 ms), which is a fifth of what the
post-checkout hook may cost. Its C half, `_json`, parses and quotes on its own; this module
gives it the few settings `json.loads` would. Same results as `json.loads` / `json.dumps(...,
sort_keys=True)` for the files seeknal's hooks read and write.
"""

from __future__ import annotations

import _json

TYPE_CHECKING = False  # not `typing`'s: importing it costs the hook 2-3 ms
if TYPE_CHECKING:
    from typing import Any

_WHITESPACE = " \t\n\r"  # what JSON allows around a value
_CONSTANTS = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}


class _Settings:
    """What `_json.make_scanner` reads from a decoder: json.loads' defaults."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = _CONSTANTS.__getitem__


_scan = _json.make_scanner(_Settings())  # type: ignore[arg-type]


def loads(text: str) -> Any:
    """As json.loads(text); ValueError on text that is not one JSON document."""
    body = text.strip(_WHITESPACE)
    try:
        value, end = _scan(body, 0)
    except StopIteration:
        raise ValueError("no JSON value") from None
    if end != len(body):
        raise ValueError(f"extra data at character {end}")
    return value


def read(path: str) -> Any:
    """The JSON document in the file at `path`, or None when it is missing, unreadable or not
    JSON (a damaged file counts as missing)."""
    try:
        with open(path, encoding="utf-8") as handle:
            return loads(handle.read())
    except (OSError, ValueError):
        return None


def dumps(value: Any) -> str:
    """As json.dumps(value, sort_keys=True) for dicts with str keys, lists, tuples, str, int,
    float, bool and None."""
    if isinstance(value, str):
        return _json.encode_basestring_ascii(value)
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")
        return float.__repr__(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(dumps(item) for item in value) + "]"
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            raise TypeError("only str keys are written")
        items = sorted(value.items())
        return "{" + ", ".join(f"{dumps(k)}: {dumps(v)}" for k, v in items) + "}"
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
