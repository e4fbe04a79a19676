"""Content digests of files, with a stat-keyed memo so unchanged large files are not re-read."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any

# A file changed this recently may change again within the same timestamp tick without its
# stats moving (coarse clocks), so its digest is not memoised ("racy git").
RACY_SECONDS = 2.0


def file_digest(
    path: Path | str,
    memo: MutableMapping[str, Any] | None = None,
    st: os.stat_result | None = None,
) -> str:
    """sha256 of the whole file. `memo` maps a (path, size, mtime, ctime, inode) key to a digest.

    ctime is in the key because tools that restore mtime (cp -p, rsync -t, tar) cannot set it.
    `st`: the file's stat, when the caller just took it.
    """
    st = st or os.stat(path)
    key = _memo_key(path, st)
    if memo is not None and key in memo:
        return str(memo[key])
    with open(path, "rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    changed = max(st.st_mtime_ns, st.st_ctime_ns) / 1e9
    if memo is not None and time.time() - changed > RACY_SECONDS:
        memo[key] = digest
    return digest


def memoised_digest(path: str, memo: Mapping[str, Any]) -> str | None:
    """The digest `file_digest` memoised for the file at `path` as it is now, else None (for
    thousands of checks: a string path, no Path objects); OSError when it cannot be stat'ed."""
    found = memo.get(stat_key(path, os.stat(path)))
    return None if found is None else str(found)


def paths_digest(paths: list[Path], memo: MutableMapping[str, Any] | None = None) -> str:
    if len(paths) == 1:
        return file_digest(paths[0], memo)
    combined = hashlib.sha256()
    for path in sorted(paths):
        combined.update(path.name.encode() + b"\0" + file_digest(path, memo).encode())
    return combined.hexdigest()


def tree_digest(folder: Path, memo: MutableMapping[str, Any] | None = None) -> str:
    """sha256 over every file below `folder`: its path inside the folder and its content."""
    combined = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = path.relative_to(folder).as_posix()
        combined.update(name.encode() + b"\0" + file_digest(path, memo).encode() + b"\n")
    return combined.hexdigest()


def expand(root: Path, table: str) -> list[Path]:
    """The data files a source `table:` names (globs allowed), resolved against the root."""
    base = Path(table) if os.path.isabs(table) else root / table
    if any(ch in table for ch in "*?["):
        return sorted(p for p in base.parent.glob(base.name) if p.is_file())
    return [base] if base.is_file() else []


def written_digest(path: str, memo: MutableMapping[str, Any]) -> str:
    """`file_digest` of a file this command just put in place under the lock, memoised at once
    (no other writer can touch it meanwhile): one stat and one read, for thousands of outputs."""
    st = os.stat(path)
    with open(path, "rb") as handle:
        digest = hashlib.sha256(handle.read()).hexdigest()
    memo[f"f:{path}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}"] = digest
    return digest


def remember_digest(path: Path, digest: str, memo: MutableMapping[str, Any]) -> None:
    """Record a known digest for a file that was moved (rename keeps content, not the key)."""
    memo[_memo_key(path, path.stat())] = digest


def _memo_key(path: Path | str, st: os.stat_result) -> str:
    return stat_key(str(path), st)


def stat_key(path: str, st: os.stat_result) -> str:
    """The memo's key of the file at `path` with stats `st`."""
    return f"f:{path}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}"
