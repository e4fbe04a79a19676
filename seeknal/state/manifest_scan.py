"""Reading parts of a manifest without parsing it: its own fingerprint (manifest_head), and the
entries of named nodes. Standard library only (the git hooks use it). seeknal writes manifests
with sorted keys, so node entries follow in the order of their ids."""

from __future__ import annotations

import json
from typing import Any

from seeknal.state.manifest_head import manifest_fingerprint_of

__all__ = ["entries_in", "manifest_fingerprint_of"]


def entries_in(data: bytes, wanted: list[str]) -> dict[str, Any] | None:
    """The `nodes` entries of the sorted ids `wanted`, found in one scan of the manifest's
    bytes; None when one is not where it must be (the caller then parses the whole file)."""
    start = data.find(b'"nodes":')
    if start < 0:
        return None
    decoder = json.JSONDecoder()
    pos, found = start, {}
    for node_id in wanted:
        key = json.dumps(node_id).encode() + b":"
        at = data.find(key, pos)
        if at < 0:
            return None
        entry, pos = _decode_at(decoder, data, at + len(key))
        if not isinstance(entry, dict) or entry.get("id") != node_id:
            return None  # a key inside another entry: parse the whole file instead
        found[node_id] = entry
    return found


def _decode_at(decoder: json.JSONDecoder, data: bytes, at: int) -> tuple[Any, int]:
    """The JSON value starting at byte `at` (after blanks) and the byte just past it; decodes
    a growing window, not the file. (None, at) when there is none."""
    while data[at : at + 1].isspace():
        at += 1
    size = 1 << 14
    while True:
        window = data[at : at + size]
        try:
            text = window.decode("utf-8")
            value, end = decoder.raw_decode(text)
        except (UnicodeDecodeError, ValueError):
            if at + size >= len(data):
                return None, at
            size *= 4
            continue
        return value, at + len(text[:end].encode("utf-8"))
