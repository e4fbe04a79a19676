"""Values shared by every layer. Standard library only."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from seeknal.errors import SeeknalError


class NodeKind(StrEnum):
    """The kinds seeknal ships; seeknal/kinds/ has a module for each, and may know more."""

    SOURCE = "source"
    TRANSFORM = "transform"
    RULE = "rule"
    EXPOSURE = "exposure"
    PROFILE = "profile"
    FEATURE_GROUP = "feature_group"
    AGGREGATION = "aggregation"
    SECOND_ORDER_AGGREGATION = "second_order_aggregation"
    MODEL = "model"
    SEMANTIC_MODEL = "semantic_model"
    METRIC = "metric"


class NodeStatus(StrEnum):
    SUCCESS = "success"
    FAILED = "failed"
    SKIPPED = "skipped"
    CACHED = "cached"


@dataclass(frozen=True)
class PythonCode:
    """The code of a Python node: its file as loaded and the function that computes it."""

    function: str
    code: str  # the whole file: module-level imports and helpers belong to the node
    dependencies: tuple[str, ...] = ()  # the file's PEP 723 `dependencies`
    requires_python: str | None = None
    pandas: bool = False  # ctx.ref gives pandas DataFrames (the file uses pandas)

    def to_json(self) -> dict[str, Any]:
        return {
            "function": self.function,
            "code": self.code,
            "dependencies": list(self.dependencies),
            "requires_python": self.requires_python,
            "pandas": self.pandas,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PythonCode:
        return cls(
            function=str(data["function"]),
            code=str(data["code"]),
            dependencies=tuple(str(d) for d in data.get("dependencies") or ()),
            requires_python=data.get("requires_python"),
            pandas=bool(data.get("pandas")),
        )


@dataclass(frozen=True)
class Node:
    """One node file, parsed, validated and with `{{ }}` placeholders rendered.

    `config` holds everything that decides what the node computes; `meta` holds what only
    describes it (description, owner, tags, column descriptions). Fingerprints hash them apart.
    """

    id: str
    kind: str  # a NodeKind for the kinds seeknal ships
    name: str
    file_path: str
    line: int
    inputs: tuple[str, ...]
    config: dict[str, Any]
    meta: dict[str, Any]
    sql: str | None = None
    python: PythonCode | None = None  # a Python node (seeknal/**/*.py)


@dataclass(frozen=True)
class Project:
    """A loaded, validated project: nodes in a deterministic order plus its settings."""

    root: str
    name: str
    settings: dict[str, Any]
    nodes: dict[str, Node]
    warnings: tuple[str, ...] = ()
    order: tuple[str, ...] = field(default=())
    # node id -> a key of everything its node was built from (its file's path and text), for
    # nodes whose file alone decides them: fingerprints are remembered under it
    node_keys: dict[str, str] = field(default_factory=dict, compare=False, repr=False)


class OutputKind(StrEnum):
    FILE = "file"
    TABLE = "table"
    DIR = "dir"


@dataclass(frozen=True)
class Output:
    """Where a node's result lives: a file, a folder of files, or a table an engine keeps.

    A value rather than a bare `Path`, so an engine that writes tables or folders fits where
    DuckDB writes one file. Defined here, below every layer, because `state/layout.py` hands
    them out; `engine/base.py` is where engines take them.
    """

    kind: OutputKind
    location: str  # a path for file and dir outputs, a table name for table outputs

    @classmethod
    def file(cls, path: Path) -> Output:
        return cls(OutputKind.FILE, str(path))

    @property
    def path(self) -> Path:
        if self.kind is OutputKind.TABLE:
            raise SeeknalError(
                f"Output {self.location} is a table, not a file or folder.",
                "This command reads files; run it on a project whose outputs are files.",
            )
        return Path(self.location)

    def __str__(self) -> str:
        return self.location


@dataclass(frozen=True)
class FileAccess:
    """The files node SQL may read and write: below `folders`, and `files` themselves (with
    the temporary file each is written to first). An engine that runs node SQL enforces it
    (docs/concepts.md, "What node SQL can reach")."""

    folders: tuple[Path, ...]
    files: tuple[Path, ...] = ()
