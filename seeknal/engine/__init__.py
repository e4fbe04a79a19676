"""Execution engines, created by name. Light on purpose: an engine's module (and its database
library) is imported only when that engine is created."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING

from seeknal.errors import SeeknalError
from seeknal.types import FileAccess

if TYPE_CHECKING:
    from seeknal.engine.base import Engine
    from seeknal.engine.warehouse import Warehouse

DEFAULT_ENGINE = "duckdb"

# name → "module:class"; an engine registers by adding its line here
ENGINES = {
    "duckdb": "seeknal.engine.duckdb:DuckDBEngine",
    "spark": "seeknal.engine.spark:SparkEngine",  # needs the `spark` extra (pyspark)
}
# name → "module:function" raising a clear error when the engine's optional library is missing
REQUIREMENTS = {"spark": "seeknal.engine.spark_session:pyspark"}


def create_engine(
    name: str,
    project_root: Path,
    warehouse: Warehouse | None = None,
    access: FileAccess | None = None,
    workers: int = 1,
) -> Engine:
    """The engine called `name`; `warehouse` (the run's profile and env) is where warehouse
    sources are read from and materializations written to. One that runs node SQL is given the
    project's `access` (`state/access.py`); None leaves files unrestricted, for seeknal's own
    reads of outputs. `workers`: how many nodes the run executes at once, so the engine can
    share the machine's cores between them."""
    spec = ENGINES.get(name)
    if spec is None:
        raise SeeknalError(
            f"Unknown engine '{name}'.", f"Known engines: {', '.join(sorted(ENGINES))}."
        )
    module, cls = spec.split(":")
    engine: Engine = getattr(importlib.import_module(module), cls)(
        project_root, warehouse, access, workers
    )
    return engine


def require_engine(name: str) -> None:
    """Raise now, before a run prints or plans anything, when the engine `name` cannot be
    created on this machine for want of its optional library (the error says how to get it)."""
    spec = REQUIREMENTS.get(name)
    if spec is not None:
        module, func = spec.split(":")
        getattr(importlib.import_module(module), func)()


def open_early() -> None:
    """Start opening the in-memory DuckDB database a run is about to need, on a thread of its
    own (engine/duckdb_core.py): it is ready by the time the run is planned. A run on another
    engine, or with nothing to run, leaves it unused."""
    from seeknal.engine.duckdb_core import open_soon

    open_soon()


def sql_syntax_error(sql: str) -> tuple[str, int | None] | None:
    """DuckDB's parser on `sql`, nothing executed: (the error, its line in `sql`) when `sql`
    is not valid SQL, else None. Imports duckdb on first use.

    The loader checks only SQL it has never seen parse, whose fingerprint then needs sqlglot's
    tokenizer (sql/compare.py): that is imported while DuckDB sets the parser's database up on
    a thread of its own (~25 ms with the GIL let go), unless a forked copy of the process
    imports it for the loader (sql/ahead.py)."""
    from seeknal.engine.duckdb_core import syntax_error
    from seeknal.sql.compare import load_tokenizer

    return syntax_error(sql, meanwhile=load_tokenizer)
