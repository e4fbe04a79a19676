"""What an engine is: it materializes one node from its inputs' outputs, and it can say what
an output holds (whether it exists, its digest, schema and row count, a read-only query over
it) and drop it. `engine/duckdb.py` is the default implementation; `create_engine` in
`engine/__init__.py` picks one by name.

Outputs are `Output` values (a file, a folder, or a table), never bare paths, so an engine
that writes tables or folders needs no change in the runner, envs or state layout.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from seeknal.types import Output, OutputKind

if TYPE_CHECKING:
    from seeknal.errors import SeeknalError
    from seeknal.types import Node

__all__ = [
    "ChangedRow",
    "ColumnChange",
    "DataDiff",
    "Engine",
    "NodeResult",
    "Output",
    "OutputKind",
    "QueryResult",
    "Session",
]


@dataclass(frozen=True)
class NodeResult:
    row_count: int
    output: Output
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    more: bool = False  # the query had rows past the limit it was asked for


class Session(Protocol):
    """A read-only SQL session over outputs, each one a view (`Engine.session`)."""

    def sql(self, statement: str, limit: int | None = None) -> QueryResult:
        """Run one statement that only reads (a SELECT, or EXPLAIN of one); `ref('x')` reads
        the view named `x`. At most `limit` rows come back."""
        ...

    def views(self) -> list[str]: ...

    # views left out because their output cannot be read, each with the error saying why
    broken: dict[str, SeeknalError]

    @property
    def connection(self) -> Any:
        """The engine's own connection, views included (for callers that want its API)."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class ColumnChange:
    """A column added (`before` is None), removed (`after` is None) or retyped."""

    name: str
    before: str | None  # its type in the first output
    after: str | None  # its type in the second output


@dataclass(frozen=True)
class ChangedRow:
    """One key whose rows differ: the key's values and, per differing column, both values."""

    key: tuple[Any, ...]
    columns: tuple[tuple[str, Any, Any], ...]  # (column, before, after)


@dataclass(frozen=True)
class DataDiff:
    """Two outputs of one node compared: schema and row counts always; with a key, which keys
    were added, removed or changed, and a few examples of each (the smallest keys).

    A key's rows are changed when a column both outputs have differs (a retyped column is
    compared in a type both types convert to); added and removed columns count only in
    `columns`."""

    rows_before: int
    rows_after: int
    columns: tuple[ColumnChange, ...] = ()
    key: tuple[str, ...] = ()
    added: int | None = None  # rows of the second output whose key the first lacks
    removed: int | None = None  # rows of the first output whose key the second lacks
    changed: int | None = None  # keys in both whose rows differ
    duplicate_keys: int | None = None  # keys both hold that repeat on a side
    added_rows: QueryResult | None = None  # examples, whole rows of the second output
    removed_rows: QueryResult | None = None  # examples, whole rows of the first output
    changed_rows: tuple[ChangedRow, ...] = ()


class Engine(Protocol):
    @property
    def name(self) -> str: ...

    def materialize(self, node: Node, inputs: Mapping[str, Output], output: Output) -> NodeResult:
        """Compute `node` from its inputs (node id → output) into `output`. A reader never sees
        a half-written output: it is replaced whole or left as it was."""
        ...

    def materialize_tables(self, node: Node, output: Output) -> list[str]:
        """Write the node's output to the warehouse tables of its `materializations:` (names
        as the engine's warehouse env writes them); the tables written."""
        ...

    def exists(self, output: Output) -> bool: ...

    def digest(self, output: Output, memo: MutableMapping[str, Any] | None = None) -> str | None:
        """A digest of the whole content (None when there is nothing), memoised in `memo`."""
        ...

    def schema(self, output: Output) -> list[tuple[str, str]]:
        """Column names and types."""
        ...

    def row_count(self, output: Output) -> int: ...

    def query(
        self, sql: str, relations: Mapping[str, Output], limit: int | None = None
    ) -> QueryResult:
        """Run one read-only SELECT in which ref('x') reads `relations['x']`; at most `limit`
        rows come back."""
        ...

    def session(self, views: Mapping[str, Output]) -> Session:
        """A read-only session in which each name of `views` is a view over its output."""
        ...

    def compare(
        self, before: Output, after: Output, key: Sequence[str] = (), examples: int = 5
    ) -> DataDiff:
        """What changed from `before` to `after`, joined in the engine (neither output is read
        into memory); keyed by `key` when it is given, with up to `examples` rows of each kind.
        Every key column must be in both outputs."""
        ...

    def drop(self, output: Output) -> None:
        """Delete the output; nothing happens when it does not exist."""
        ...

    def interrupt(self) -> None:
        """Abandon every query under way, from any thread (Ctrl-C during a parallel run)."""
        ...

    def close(self) -> None: ...
