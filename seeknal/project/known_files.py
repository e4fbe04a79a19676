"""Node files whose node the tool cache remembers, recognised by their stats without reading
them, and the texts of node files read only when a problem needs a line number.

A plan of 10,000 node files read each one (open, read, decode, two SHA-1s: ~8 us a file) to
find the node it built last time under its path and text. A file on disk whose size, change
times and inode are those it had when its node was remembered holds the same bytes, unless it
changed within the same clock tick: stats are remembered only for files unchanged for
`RACY_SECONDS` (as file digests are, seeknal/digest.py), and taken before the file is read, so
stats remembered for a file that changed meanwhile are never seen again.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any

from seeknal.digest import RACY_SECONDS
from seeknal.project.files import ProjectFiles
from seeknal.types import Node

NODE_FIELDS = tuple(f.name for f in dataclasses.fields(Node))


def remembered_hit(hit: Any) -> tuple[Any, ...] | None:
    """A node memo entry (fields' names, their values, the warnings), else None; also None for
    an entry written while Node had other fields."""
    if not isinstance(hit, tuple) or len(hit) != 3 or hit[0] != NODE_FIELDS:
        return None
    return hit


def node_of(hit: tuple[Any, ...]) -> Node:
    """The Node a memo entry holds: its fields set as Node's own __init__ sets them (a frozen
    dataclass without __post_init__), at a third of the cost for thousands of nodes."""
    node = object.__new__(Node)
    node.__dict__.update(zip(NODE_FIELDS, hit[1], strict=True))
    return node


class KnownFiles:
    """Node files remembered by their stats: `lookup` before reading a file, `record` once its
    node is remembered under its path and text (the memo key)."""

    def __init__(self, files: ProjectFiles, cache: MutableMapping[str, Any], mode: str) -> None:
        self.stats_of = getattr(files, "node_stats", None)  # files on disk only (not git's)
        self.cache = cache
        self.mode = mode  # whether SQL is parsed: part of the memo key
        self.before = time.time() - RACY_SECONDS
        self.known: dict[str, str] = {}  # path -> memo key of the node remembered for it
        self.pending: dict[str, str] = {}  # path -> stats key, taken before it was read

    def lookup(self, path: str) -> str | None:
        """The memo key of the node this file built, when its stats say it did not change."""
        if self.stats_of is None:
            return None
        stats = self.stats_of(path, self.before)
        if stats is None:
            return None
        stats_key = f"st:{self.mode}:{path}:{stats}"
        key = self.cache.get(stats_key)
        if isinstance(key, str) and remembered_hit(self.cache.get(key)) is not None:
            self.known[path] = key
            return key
        self.pending[path] = stats_key
        return None

    def forget(self, path: str) -> None:
        """A file that is not one node (several documents, or none): never known by stats."""
        self.pending.pop(path, None)

    def record(self, path: str, key: str | None) -> None:
        """Remember the stats the file had when read, now that its node is remembered."""
        stats_key = self.pending.pop(path, None)
        if stats_key is not None and key and remembered_hit(self.cache.get(key)) is not None:
            self.cache[stats_key] = key


class NodeTexts(Mapping[str, str]):
    """Node files' texts by path. The file of a node known by its stats is read only when
    asked for (a problem's line number)."""

    def __init__(self, files: ProjectFiles) -> None:
        self.files = files
        self.texts: dict[str, str] = {}
        self.unread: set[str] = set()

    def __setitem__(self, path: str, text: str) -> None:
        self.texts[path] = text

    def __getitem__(self, path: str) -> str:
        if path in self.unread:
            self.unread.discard(path)
            raw = self.files.read(path)
            if raw is not None:
                self.texts[path] = raw.decode("utf-8", errors="replace")
        return self.texts[path]

    def __iter__(self) -> Iterator[str]:
        return iter([*self.texts, *self.unread])

    def __len__(self) -> int:
        return len(self.texts) + len(self.unread)
