"""The Spark engine: every node is computed by Spark, its DuckDB SQL transpiled to Spark SQL,
and written by Spark as the same single output file the DuckDB engine writes (temp file, then
rename). Outputs are therefore interchangeable: an env planned and partly run on DuckDB runs
on Spark, and promote moves the same files whichever engine wrote them.

Reading outputs back for seeknal's own bookkeeping (digest, schema, row count, queries, diffs)
and writing `materializations:` go through DuckDB over those files, as on the default engine:
it is not the work of the pipeline, and it needs no cluster.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from seeknal.engine.base import DataDiff, NodeResult, QueryResult, Session
from seeknal.engine.duckdb import DuckDBEngine
from seeknal.engine.duckdb_support import python_rows_path, temp_path
from seeknal.engine.spark_io import SparkNodeIO, file_key
from seeknal.engine.spark_session import spark_session
from seeknal.engine.warehouse import Warehouse
from seeknal.errors import ExecutionError
from seeknal.kinds import spec_for
from seeknal.kinds.source import FILE_SOURCE_TYPES
from seeknal.project.placeholders import redact, render_env, secret_values
from seeknal.state import failpoints
from seeknal.types import FileAccess, Node, Output, OutputKind


class SparkEngine:
    """Nodes run on the process's SparkSession (`spark_session.py`), each in a session of its
    own; `duck` reads the outputs back."""

    name = "spark"

    def __init__(
        self,
        project_root: Path,
        warehouse: Warehouse | None = None,
        access: FileAccess | None = None,
        workers: int = 1,
    ) -> None:
        self.root = project_root
        self.warehouse = warehouse
        # reads outputs back; Spark itself shares the cores among the run's workers
        self.duck = DuckDBEngine(project_root, warehouse, None, workers)
        profile = warehouse.profile if warehouse is not None else None
        master = profile.master if profile is not None else None
        conf = dict(profile.conf) if profile is not None else {}
        self.spark = spark_session(master, conf)
        self.schemas: dict[tuple[str, int, int], Any] = {}  # SparkNodeIO.read_parquet

    def materialize(self, node: Node, inputs: Mapping[str, Output], output: Output) -> NodeResult:
        if output.kind is not OutputKind.FILE:
            raise ExecutionError(
                f"The spark engine cannot write {output.kind} output {output.location}.",
                "Spark writes one parquet (or exposure) file per node.",
            )
        spec = spec_for(node.kind)
        if not spec.runs:
            raise spec.cannot_execute(node)
        secrets = secret_values([node.config, node.sql])
        node = replace(
            node, config=render_env(node.config), sql=render_env(node.sql) if node.sql else None
        )
        output.path.parent.mkdir(parents=True, exist_ok=True)
        # real paths: target/ may link into a warehouse, which is what Spark's workers mount
        path = Path(os.path.realpath(output.path.parent)) / output.path.name
        tmp = temp_path(path)
        try:
            paths = {n: Path(os.path.realpath(o.path)) for n, o in inputs.items()}
            io = SparkNodeIO(_own_session(self.spark), self.root, node, paths, tmp, self.schemas)
            io.secrets = secrets
            if node.python is not None:
                io.python_rows()
            warnings: tuple[str, ...] = ()
            if node.kind == "source" and node.config.get("source") in FILE_SOURCE_TYPES:
                done_rows = io.write_frame(io.read_file(node))
            else:
                done = spec.execute(node, io)
                done_rows, warnings = done.row_count, done.warnings
            self.duck.materialize_tables(node, Output.file(tmp))
            failpoints.hit(f"write.{node.kind}")
            os.replace(tmp, path)
            key = file_key(path)
            if io.written is not None and key is not None:
                self.schemas[key] = io.written  # its readers need not infer it again
            shown = [redact(w, secrets) for w in warnings]
            return NodeResult(row_count=done_rows, output=output, warnings=shown)
        except ExecutionError as exc:
            raise ExecutionError(redact(exc.message, secrets), redact(exc.hint, secrets)) from None
        except Exception as exc:
            if not _from_spark(exc):
                raise
            message = redact(_first_lines(exc), secrets)
            raise ExecutionError(
                f"{node.id} ({node.file_path}) failed in Spark: {message}",
                spec.failure_hint(node) + f", then run it again: seeknal run --nodes {node.id}",
            ) from None
        finally:
            tmp.unlink(missing_ok=True)
            python_rows_path(tmp).unlink(missing_ok=True)

    def materialize_tables(self, node: Node, output: Output) -> list[str]:
        return self.duck.materialize_tables(node, output)

    # -- outputs: read back by DuckDB ----------------------------------------------------------
    def exists(self, output: Output) -> bool:
        return self.duck.exists(output)

    def digest(self, output: Output, memo: MutableMapping[str, Any] | None = None) -> str | None:
        return self.duck.digest(output, memo)

    def schema(self, output: Output) -> list[tuple[str, str]]:
        return self.duck.schema(output)

    def row_count(self, output: Output) -> int:
        return self.duck.row_count(output)

    def query(
        self, sql: str, relations: Mapping[str, Output], limit: int | None = None
    ) -> QueryResult:
        return self.duck.query(sql, relations, limit)

    def session(self, views: Mapping[str, Output]) -> Session:
        return self.duck.session(views)

    def compare(
        self, before: Output, after: Output, key: Sequence[str] = (), examples: int = 5
    ) -> DataDiff:
        return self.duck.compare(before, after, key, examples)

    def drop(self, output: Output) -> None:
        self.duck.drop(output)

    def interrupt(self) -> None:
        try:
            self.spark.sparkContext.cancelAllJobs()
        except Exception:  # noqa: BLE001, S110 - nothing runs, or the session is gone
            pass
        self.duck.interrupt()

    def close(self) -> None:
        # the SparkSession stays for the next run of this process (spark_session.py)
        self.duck.close()


def _own_session(spark: Any) -> Any:
    """A session of the node's own (its temp views meet no other node's); Spark Connect
    clients have none to give, and share theirs."""
    try:
        return spark.newSession()
    except Exception:  # noqa: BLE001 - pyspark raises its own types for "not supported"
        return spark


def _from_spark(exc: Exception) -> bool:
    module = type(exc).__module__
    return module.startswith(("pyspark", "py4j"))


def _first_lines(exc: Exception) -> str:
    text = str(exc).strip()
    lines = [line for line in text.splitlines() if line.strip() and "JVM stacktrace" not in line]
    return " ".join(lines[:2])[:600]
