"""feature_store.json of an env: the consolidated entity files its runs wrote."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from seeknal.state.records.reader import LIST, OBJECT, TEXT, Reader, texts, versioned


@dataclass(frozen=True)
class EntityFiles:
    """Paths relative to the env's folder (a production path is the same relative to the
    project): `files` each with the digest of what `run --env` wrote, which promote checks and
    moves into production; `gone`, production's files of entities left without feature groups,
    which promote deletes."""

    SCHEMA_VERSION: ClassVar[str] = "1.0"
    WHAT: ClassVar[str] = "Feature store record"

    files: Mapping[str, str] = field(default_factory=dict)
    gone: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return versioned(
            self.SCHEMA_VERSION,
            {"files": dict(sorted(self.files.items())), "gone": list(self.gone)},
        )

    @classmethod
    def from_json(cls, data: Any, path: Path | str, hint: str | None = None) -> EntityFiles:
        r = Reader(data, path, cls.WHAT, hint)
        r.get("schema_version", TEXT)
        files = r.get("files", OBJECT, {})
        if not all(isinstance(v, str) for v in files.values()):
            r.fail("'files' maps a path to a digest text")
        return cls(dict(files), texts(r.get("gone", LIST, [])))
