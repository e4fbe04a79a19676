"""The tool cache (`ToolCache`): parsed YAML, normalised SQL, remembered nodes and fingerprints,
file digests, kept between commands in two files of appended records (`EntryLog`)."""

from __future__ import annotations

import hashlib
import itertools
import os
import pickle
from pathlib import Path
from typing import Any

from seeknal import __version__
from seeknal.errors import StateError
from seeknal.state import atomic, failpoints

VERSION_KEY = "__seeknal_version__"


class ToolCache:
    """Parsed YAML, normalised SQL and file digests keyed by content, kept between commands.

    Two files, each read when first used: file digests memoised by their stats and the
    project-fingerprint memos (`digests`, what staleness checks and promote need: the path with
    suffix `.digests`), and everything else (parsed files, normalised SQL: what loading the
    project needs). A promotion thus never reads the parse entries of a project of thousands of
    nodes. `data` is everything in one dict; `digests` is the same dict once `data` was used.

    Both files are logs of records (`DigestLog`, `ParseLog`): a command appends the entries it
    added (a dict keeps them last) instead of writing thousands again (after one changed node
    of 10,000, a few hundred bytes instead of 10 MB); a file of too many records, or whose
    entries cannot be told apart, is written whole. Losing it only costs time; a damaged record
    is ignored (each has a SHA-256: a flipped byte would otherwise unpickle into wrong entries,
    a parsed YAML file that is not the file, a digest of other bytes, instead of failing).
    """

    MAX_ENTRIES = 250_000  # per file, about 5 per node: room for 50,000 nodes
    MAGIC = b"seeknal-cache-1\n"  # the parse file as one pickle, before it was a log: read once
    DIGEST_KEYS = ("f:", "mfs:", "mfp:")  # file digests by stats, fingerprint memos

    def __init__(self, path: Path, spare: Path | None = None) -> None:
        # without target/ (a project never run) the cache is kept in `spare`, outside the
        # project: otherwise every plan of it would parse all of its YAML and SQL again
        self.path = path
        self.spare = spare
        self._digests: dict[str, Any] | None = None
        self._all: dict[str, Any] | None = None
        self._sizes = {"digests": 0, "parse": 0}  # entries loaded from each file
        self._read_from: dict[str, Path | None] = {}
        self._records = {"digests": 0, "parse": 0}  # intact records in each file as read
        self._last_key: str | None = None  # the newest key of `_all` its files hold
        self._early: list[str] = []  # keys `digests` gained before `data` was read

    @property
    def digests(self) -> dict[str, Any]:
        """The file digests and fingerprint memos (all entries once `data` was read)."""
        if self._all is not None:
            return self._all
        if self._digests is None:
            self._digests = self._load_file("digests")
        return self._digests

    @property
    def data(self) -> dict[str, Any]:
        """Every entry. The digests dict handed out before becomes this one: entries added
        through either are kept."""
        if self._all is None:
            merged = self.digests
            self._early = list(itertools.islice(merged, self._sizes["digests"], None))
            merged.update(self._load_file("parse"))
            self._all = merged
            self._last_key = next(reversed(merged))
        return self._all

    def _where(self, name: str) -> Path | None:
        path = self.path if self.path.parent.parent.is_dir() else self.spare
        if path is None or name == "parse":
            return path
        return path.with_suffix(".digests")

    def _load_file(self, name: str) -> dict[str, Any]:
        self._read_from[name] = where = self._where(name)
        loaded, self._records[name] = LOGS[name].load(where)
        if name == "parse" and not loaded:
            loaded = self._load_whole(where)  # written whole as records at the next save
        loaded[VERSION_KEY] = __version__
        self._sizes[name] = len(loaded)
        return loaded

    @classmethod
    def _load_whole(cls, path: Path | None) -> dict[str, Any]:
        if path is None:
            return {}
        try:
            raw = path.read_bytes()
        except OSError:
            return {}
        head, body = raw[: len(cls.MAGIC) + 32], raw[len(cls.MAGIC) + 32 :]
        if head != cls.MAGIC + hashlib.sha256(body).digest():
            return {}
        try:
            loaded = pickle.loads(body)  # noqa: S301 - our own file under target/, checksummed
        except Exception:  # noqa: BLE001 - whatever a damaged cache raises, it only costs time
            return {}
        # entries depend on how this version parses, normalises and hashes
        if isinstance(loaded, dict) and loaded.get(VERSION_KEY) == __version__:
            return loaded
        return {}

    def save(self) -> bool:
        """Append what each file gained, else write it whole; True when one was written."""
        if self._all is None:
            return self._save_digests()
        moved = any(self._where(n) != self._read_from.get(n) for n in LOGS)
        gained = None if moved else self._gained()
        if gained is not None:
            if not gained:
                return False
            if self._append_gained(gained):
                return True
        return self._write_all()

    def _save_digests(self) -> bool:
        """Only `digests` was read: append the entries it gained, or write it whole."""
        entries = self._digests
        if entries is None:
            return False
        # a file read from the spare place moves into target/ once the project has one
        moved = self._where("digests") != self._read_from.get("digests")
        size = self._sizes["digests"]
        if not moved and len(entries) > size:
            if self._append("digests", dict(itertools.islice(entries.items(), size, None))):
                self._sizes["digests"] = len(entries)
                return True
        if (moved or len(entries) != size) and self._write("digests", entries):
            self._sizes["digests"] = len(entries)
            return True
        return False

    def _gained(self) -> list[str] | None:
        """The keys added since the files were read or written (a dict keeps them last); None
        when that cannot be told: the newest key they held was removed since."""
        assert self._all is not None
        added = []
        for key in reversed(self._all):
            if key == self._last_key:
                break
            added.append(key)
        else:
            return None
        return self._early + added[::-1]

    def _append_gained(self, gained: list[str]) -> bool:
        assert self._all is not None
        parts: dict[str, dict[str, Any]] = {"digests": {}, "parse": {}}
        for key in gained:
            if key in self._all:
                name = "digests" if key.startswith(self.DIGEST_KEYS) else "parse"
                parts[name][key] = self._all[key]
        for name, entries in parts.items():
            if entries and not self._append(name, entries):
                return False  # both written whole: the one appended to is in them
        self._saved()
        return True

    def _write_all(self) -> bool:
        assert self._all is not None
        digests = {k: v for k, v in self._all.items() if k.startswith(self.DIGEST_KEYS)}
        parse = {k: v for k, v in self._all.items() if not k.startswith(self.DIGEST_KEYS)}
        digests[VERSION_KEY] = __version__
        written = False
        for name, entries in (("digests", digests), ("parse", parse)):
            if self._write(name, entries):
                self._sizes[name] = len(entries)
                written = True
        if written:
            self._saved()
        return written

    def _saved(self) -> None:
        assert self._all is not None
        self._last_key, self._early = next(reversed(self._all)), []

    def _write(self, name: str, entries: dict[str, Any]) -> bool:
        where = self._where(name)
        if where is None:
            return False  # no target/ yet: a read-only command does not create one
        if len(entries) > self.MAX_ENTRIES:
            entries = dict(list(entries.items())[-self.MAX_ENTRIES // 2 :])
            entries[VERSION_KEY] = __version__
        try:
            # no fsync: the checksum drops a cache a power loss damaged, which only costs time
            atomic.write_bytes(where, LOGS[name].whole(entries), durable=False)
        except (OSError, StateError):
            return False  # losing the cache only costs time
        self._records[name] = 1
        self._read_from[name] = where
        return True

    def _append(self, name: str, entries: dict[str, Any]) -> bool:
        """Add `entries` to the file as a record instead of writing all of it again; False
        when it has to be written whole."""
        where, log = self._where(name), LOGS[name]
        if where is None or not 0 < self._records[name] < log.MAX_RECORDS:
            return False
        if not log.append(where, entries):
            return False
        self._records[name] += 1
        return True


class DigestLog:
    """The digests file: records appended one after another, each a length, a SHA-256 and a
    pickled dict of entries; the first holds every entry, later ones what a command added. A
    promotion appends its few digests instead of rewriting thousands. Loading stops at the
    first damaged record (a write cut short): what came before still counts, and the file is
    written whole at the next save."""

    MAGIC = b"seeknal-digests-1\n"
    MAX_RECORDS = 64  # then written whole again (entries of files long gone drop out over time)
    FAILPOINT = "cache.digests.append"

    @classmethod
    def load(cls, path: Path | None) -> tuple[dict[str, Any], int]:
        """The entries and the number of intact records (0: write it whole next time)."""
        try:
            raw = path.read_bytes() if path is not None else b""
        except OSError:
            raw = b""
        if not raw.startswith(cls.MAGIC):
            return {}, 0
        entries: dict[str, Any] = {}
        pos, count = len(cls.MAGIC), 0
        while pos < len(raw):
            size = int.from_bytes(raw[pos : pos + 8], "big")
            digest, body = raw[pos + 8 : pos + 40], raw[pos + 40 : pos + 40 + size]
            if len(body) != size or hashlib.sha256(body).digest() != digest:
                return cls._checked(entries), 0
            try:
                entries.update(pickle.loads(body))  # noqa: S301 - our file, checksummed
            except Exception:  # noqa: BLE001 - a damaged cache only costs time
                return cls._checked(entries), 0
            pos, count = pos + 40 + size, count + 1
        return cls._checked(entries), count

    @staticmethod
    def _checked(entries: dict[str, Any]) -> dict[str, Any]:
        # entries depend on how this version hashes (the first record names it)
        return entries if entries.get(VERSION_KEY) == __version__ else {}

    @classmethod
    def record(cls, entries: dict[str, Any]) -> bytes:
        body = pickle.dumps(entries, protocol=5)
        return len(body).to_bytes(8, "big") + hashlib.sha256(body).digest() + body

    @classmethod
    def whole(cls, entries: dict[str, Any]) -> bytes:
        return cls.MAGIC + cls.record(entries)

    @classmethod
    def append(cls, path: Path, entries: dict[str, Any]) -> bool:
        data = cls.record(entries)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        except OSError:
            return False
        try:
            half = len(data) // 2  # one write; the failpoint leaves a torn record for tests
            if os.environ.get("SEEKNAL_FAILPOINT") and os.write(fd, data[:half]) == half:
                failpoints.hit(cls.FAILPOINT)
                data = data[half:]
            return os.write(fd, data) == len(data)
        except OSError:
            return False
        finally:
            os.close(fd)


class ParseLog(DigestLog):
    """The parse file (parsed YAML, remembered nodes, normalised SQL, fingerprints): the same
    records as the digests file."""

    MAGIC = b"seeknal-cache-2\n"
    FAILPOINT = "cache.parse.append"


LOGS: dict[str, type[DigestLog]] = {"digests": DigestLog, "parse": ParseLog}
