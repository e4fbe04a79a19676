"""What a node kind is (`KindSpec`), and what it is handed to check a file or execute a node.

A kind module subclasses `KindSpec` and overrides only what differs from these defaults. The
defaults describe a kind that loads, plans and fingerprints like any node and cannot execute.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from seeknal.errors import ExecutionError
from seeknal.types import Node


class FileChecks(Protocol):
    """Where a kind reports what is wrong with one node file; the loader collects it all."""

    path: str

    def problem(self, message: str, line: int | None = None) -> None: ...

    def warn(self, message: str) -> None:
        """A warning shown as `<path>: <message>`."""

    def line(self, key: str) -> int | None:
        """The line of a top-level key in the file."""

    def find_line(self, needle: str) -> int | None:
        """The first line holding `needle`."""

    def data_exists(self, table: str) -> bool:
        """Whether a data file (relative to the project root, globs allowed) exists."""


class ExecutionIO(Protocol):
    """What an engine gives a kind to execute one node. Kinds write DuckDB's SQL dialect."""

    def relation(self, node_id: str) -> str:
        """SQL naming an input's data, to use after FROM."""

    def file_path(self, rel: str) -> str:
        """A path from a node file (relative to the project root) as the engine reads it."""

    def trim(self, sql: str) -> str:
        """`sql` without trailing comments and semicolons, so that it can be wrapped in `( )`."""

    def statements(self, sql: str) -> list[str]:
        """The statements of a script, each trimmed; empty ones left out."""

    def bind(self, sql: str) -> str:
        """`sql` with ref('x') naming x's data, and views input_N / __THIS__ for the inputs."""

    def scalar(self, sql: str) -> Any:
        """The first value of the first row, or None without rows."""

    def rows(self, sql: str) -> list[tuple[Any, ...]]: ...

    def external(self) -> str:
        """SQL naming the rows of the node's warehouse source (postgresql, iceberg), read with
        the run's profile."""

    def write(self, select_sql: str, fmt: str = "parquet") -> int:
        """Write the rows of a query as the node's output (parquet, csv or json); the count."""

    def write_values(self, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> int:
        """Write rows seeknal composed (not computed by the node's SQL) as the node's output;
        the values of sensitive env placeholders never appear in their text."""

    def write_script(self, statements: Sequence[str]) -> int:
        """Bind and run all but the last statement in a database of their own (so the tables
        they create never meet another node's), then write the last one's rows."""


@dataclass(frozen=True)
class Executed:
    """What executing a node gave, besides its output."""

    row_count: int
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Change:
    """A kind's own account of how a node changed against its previous definition."""

    breaking: bool
    reason: str
    added: tuple[str, ...] = ()  # the new columns of a change that only adds columns


class KindSpec:
    """Everything seeknal knows about one node kind. One instance per kind, in the registry."""

    kind: str = ""  # the `kind:` value of its files; a NodeKind for the kinds seeknal ships
    runs = True  # whether nodes of this kind can execute at all
    passes_columns_through = False  # its output has every upstream column, like SELECT *
    # the top-level keys of its files it reads besides those of every node (kind, name,
    # description, inputs, params, ...): a key close to one of them is taken for a misspelling
    keys: tuple[str, ...] = ()

    # -- loading a node file ---------------------------------------------------------------
    def prepare(self, data: dict[str, Any]) -> dict[str, Any]:
        """The rendered YAML as the checks and the node see it."""
        return data

    def shape_problems(self, data: dict[str, Any]) -> list[tuple[str, str]]:
        """(top-level key, message) for each field of this kind whose YAML type is wrong."""
        return []

    def node_sql(self, data: dict[str, Any], checks: FileChecks) -> str | None:
        """The node's SQL, when the kind has one. A problem reported here drops the node."""
        return None

    def sql_texts(self, data: dict[str, Any]) -> list[tuple[str, str]]:
        """(top-level key, SQL statements) for each SQL text of the node, parsed at load so
        that a syntax error is a load problem (file and line), not a failure at run time."""
        return []

    def declared_refs(self, data: dict[str, Any]) -> list[str]:
        """Node ids it reads besides inputs/depends_on and its SQL's ref() calls."""
        return []

    def column_set_sql(self, node: Node) -> list[str] | None:
        """The SQL through which the node's result could depend on which columns its inputs
        have (an input that only gains columns keeps the node's production data when none of
        it does); None when that cannot be told, e.g. Python code: the node is recomputed."""
        return [node.sql] if node.sql else None

    def check(self, data: dict[str, Any], checks: FileChecks) -> None:
        """Report what is wrong with a node file whose shape is right."""

    def check_one_input(self, data: dict[str, Any], checks: FileChecks) -> None:
        """A problem unless exactly one input is listed (a kind that reads its input whole);
        otherwise found only when the node ran."""
        listed = [e for key in ("inputs", "depends_on") for e in _entries(data.get(key))]
        if len(listed) == 1:
            return
        where = f"{self.kind} reads exactly one input, but {len(listed)} are listed"
        if listed:
            fix = "keep exactly one of them under 'inputs' (or 'depends_on') and remove the others"
        else:
            hint = misspelt(data, "inputs") or misspelt(data, "depends_on")
            fix = "list it under 'inputs' (or 'depends_on'), e.g. inputs: [{ref: kind.name}]" + hint
        checks.problem(f"{where}: {fix}", checks.line("inputs") or checks.line("depends_on") or 1)

    # -- planning --------------------------------------------------------------------------
    def executable(self, node: Node) -> bool:
        """Whether a run can compute this node."""
        return self.runs

    def idle_reason(self, node: Node) -> str:
        """Why a node that is not executable does not run."""
        return f"kind {node.kind} is not supported for execution yet"

    def data_file(self, node: Node) -> str | None:
        """A project data file whose bytes decide the node's output (fingerprinted)."""
        return None

    def execution_config(self, node: Node, normalize: Callable[[str], str]) -> dict[str, Any]:
        """The config that decides the output, as fingerprinted; SQL through `normalize`."""
        return dict(node.config)

    def describe_change(
        self, node: Node, changed_keys: list[str], previous: Mapping[str, Any]
    ) -> Change | None:
        """How the node changed, when the kind can tell better than the changed keys."""
        return None

    def changed_fields(self, changed_keys: list[str]) -> str:
        """The changed config keys, as a change reason names them."""
        return ", ".join(changed_keys) or "definition"

    def change_reason(self, previous: Mapping[str, Any], data_digest: str | None) -> str:
        """Why a production run reruns a node whose own definition changed."""
        return "definition changed"

    def output_file(self, node: Node) -> str | None:
        """A path the node writes outside seeknal's cache (relative to the project), if any."""
        return None

    # -- execution -------------------------------------------------------------------------
    def this_input(self, node: Node) -> str:
        """The input the node reads as a whole (`__THIS__`)."""
        if len(node.inputs) != 1:
            raise ExecutionError(
                f"{node.id} ({node.file_path}) reads one input, but has {len(node.inputs)}.",
                "List exactly one input under 'inputs' (or 'depends_on').",
            )
        return node.inputs[0]

    def failure_hint(self, node: Node) -> str:
        """What to do when the engine rejects the node's SQL."""
        return (
            f"Check {node.file_path} against its input's columns and types "
            "(the data may have changed)"
        )

    def execute(self, node: Node, io: ExecutionIO) -> Executed:
        """Compute the node's output through `io`."""
        raise self.cannot_execute(node)

    def execute_rows(self, node: Node, io: ExecutionIO, rows: str) -> Executed:
        """Compute the node's output from `rows`, SQL naming the rows the node's own body gave
        (what a Python node's function returned). Kinds that post-process a body (feature
        groups, aggregations) override it; by default the rows are the output."""
        return Executed(io.write(f"SELECT * FROM {rows}"))

    def cannot_execute(self, node: Node) -> ExecutionError:
        return ExecutionError(
            f"{node.id} ({node.file_path}): kind '{node.kind}' is not supported for execution yet.",
            f"Remove it from the run with --nodes, or delete {node.file_path}.",
        )


class PlannedOnly(KindSpec):
    """A kind seeknal parses and plans, but cannot execute yet."""

    runs = False


def _entries(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def misspelt(data: Mapping[str, Any], key: str) -> str:
    """ " (is 'rules' meant to be 'rule'?)" when a key of `data` looks like a misspelt `key`
    that is missing, else ""."""
    if key in data:
        return ""
    import difflib

    close = difflib.get_close_matches(key, [str(k) for k in data], 1, 0.75)
    return f" (is '{close[0]}' meant to be '{key}'?)" if close else ""
