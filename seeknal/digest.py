"""Content digests of files, with a stat-keyed memo so unchanged large files are not re-read."""

from __future__ import annotations

import hashlib
import os
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any


def file_digest(path: Path, memo: MutableMapping[str, Any] | None = None) -> str:
    """sha256 of the whole file. `memo` maps a (path, size, mtime, inode) key to a digest."""
    st = path.stat()
    key = f"f:{path}:{st.st_size}:{st.st_mtime_ns}:{st.st_ino}"
    if memo is not None and key in memo:
        return str(memo[key])
    with path.open("rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    if memo is not None:
        memo[key] = digest
    return digest


def paths_digest(paths: list[Path], memo: MutableMapping[str, Any] | None = None) -> str:
    if len(paths) == 1:
        return file_digest(paths[0], memo)
    combined = hashlib.sha256()
    for path in sorted(paths):
        combined.update(path.name.encode() + b"\0" + file_digest(path, memo).encode())
    return combined.hexdigest()


def expand(root: Path, table: str) -> list[Path]:
    """The data files a source `table:` names (globs allowed), resolved against the root."""
    base = Path(table) if os.path.isabs(table) else root / table
    if any(ch in table for ch in "*?["):
        return sorted(p for p in base.parent.glob(base.name) if p.is_file())
    return [base] if base.is_file() else []
