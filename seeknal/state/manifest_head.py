"""A manifest's own fingerprint, read without parsing the manifest and with `os` alone (the
post-checkout hook's process imports nothing more). seeknal writes manifests with sorted keys,
so the first "fingerprint" in the file is the top-level one ("edges" entries, which come first,
have none)."""

from __future__ import annotations

CHUNK = 1 << 20
_KEY = b'"fingerprint":'
_SPACE = b" \t\n\r\f\v"
_HEX = b"0123456789abcdef"
_QUOTE = 34


def manifest_fingerprint_of(path: object) -> str | None:
    """The fingerprint of the manifest at `path` (str or Path), reading only up to it (the
    edges of a project of thousands of nodes come first: about a tenth of the file); None when
    it is missing or unreadable (plans made against it then count as stale)."""
    try:
        with open(path, "rb") as handle:  # type: ignore[call-overload]
            buffer = b""
            while True:
                chunk = handle.read(CHUNK)
                buffer += chunk
                found, keep = _scan(buffer, final=not chunk)
                if found is not None or not chunk:
                    return found
                buffer = buffer[keep:]
    except OSError:
        return None


def _scan(data: bytes, final: bool) -> tuple[str | None, int]:
    """The first `"fingerprint": "<hex>"` in `data`, else None and where to keep reading from
    (a match may be cut by the end of what was read so far)."""
    at = data.find(_KEY)
    while at >= 0:
        pos = at + len(_KEY)
        while pos < len(data) and data[pos] in _SPACE:
            pos += 1
        end = pos + 1
        while end < len(data) and data[end] in _HEX:
            end += 1
        if end >= len(data):
            # cut short: decide once more is read (nothing left to read: no match here, and
            # no later key can start inside what was just skipped)
            return (None, at) if not final else (None, len(data))
        if data[pos] == _QUOTE and end > pos + 1 and data[end] == _QUOTE:
            return data[pos + 1 : end].decode("ascii"), 0
        at = data.find(_KEY, at + 1)
    return None, max(0, len(data) - len(_KEY))
