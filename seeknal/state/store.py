"""Reading and writing the JSON state files and the tool cache."""

from __future__ import annotations

import pickle
import re
from pathlib import Path
from typing import Any

from seeknal import __version__
from seeknal.errors import StateError
from seeknal.state import atomic
from seeknal.state.layout import Target

SCHEMA_VERSION = "2.0"
VERSION_KEY = "__seeknal_version__"


def read_run_state(target: Target) -> dict[str, Any]:
    data = atomic.read_json(
        target.run_state_path,
        "Run state",
        "Delete it and run 'seeknal run --full' to rebuild it."
        if target.env is None
        else f"Delete it and run 'seeknal plan {target.env}' again.",
    )
    if data is None:
        return {"schema_version": SCHEMA_VERSION, "nodes": {}}
    if not isinstance(data, dict) or not isinstance(data.get("nodes", {}), dict):
        raise StateError(
            f"Run state {target.run_state_path} has an unexpected shape.",
            "Delete it and run 'seeknal run --full' to rebuild it.",
        )
    data.setdefault("nodes", {})
    return data


def write_run_state(target: Target, state: dict[str, Any]) -> None:
    atomic.write_json(target.run_state_path, {**state, "schema_version": SCHEMA_VERSION})


def read_manifest(target: Target) -> dict[str, Any] | None:
    data = atomic.read_json(
        target.manifest_path,
        "Manifest",
        "Delete it and run 'seeknal run' to write it again.",
    )
    if data is not None and not isinstance(data, dict):
        raise StateError(
            f"Manifest {target.manifest_path} has an unexpected shape.",
            "Delete it and run 'seeknal run' to write it again.",
        )
    return data


_FINGERPRINT = re.compile(r'"fingerprint":\s*"([0-9a-f]+)"')


def manifest_fingerprint_of(path: Path) -> str | None:
    """The manifest's own fingerprint, read without parsing it: keys are sorted, so the first
    "fingerprint" in the file is the top-level one ("edges" entries have none)."""
    try:
        with path.open("r", encoding="utf-8") as handle:
            head = handle.read(1 << 16)
            match = _FINGERPRINT.search(head)
            if match is None:
                match = _FINGERPRINT.search(head + handle.read())
    except (OSError, UnicodeDecodeError):
        return None  # unreadable: no fingerprint, so plans made against it count as stale
    return match.group(1) if match else None


def write_manifest(target: Target, manifest: dict[str, Any]) -> None:
    atomic.write_json(target.manifest_path, manifest)


class ToolCache:
    """Parsed YAML, normalised SQL and file digests keyed by content, kept between commands.

    Losing it only costs time; a damaged one is ignored.
    """

    MAX_ENTRIES = 50_000

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data: dict[str, Any] = {}
        try:
            with path.open("rb") as handle:
                loaded = pickle.load(handle)  # noqa: S301 - our own file under target/
            # entries depend on how this version parses, normalises and hashes
            if isinstance(loaded, dict) and loaded.get(VERSION_KEY) == __version__:
                self.data = loaded
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError):
            self.data = {}
        self.data[VERSION_KEY] = __version__
        self._size = len(self.data)

    def save(self) -> None:
        if len(self.data) == self._size:
            return
        if not self.path.parent.parent.is_dir():
            return  # no target/ yet: a read-only command does not create one
        if len(self.data) > self.MAX_ENTRIES:
            self.data = dict(list(self.data.items())[-self.MAX_ENTRIES // 2 :])
        try:
            atomic.write_bytes(self.path, pickle.dumps(self.data, protocol=5))
        except (OSError, StateError):
            pass  # losing the cache only costs time
        self._size = len(self.data)
