"""Runs one Python node's function and writes what it returns as a parquet file.

The same code serves both ways a Python node runs (docs/concepts.md, "Python nodes"): seeknal
calls `run_job` in its own process when the file's dependencies are installed there, and
`uv run` runs this file as a script in an isolated environment otherwise. So it imports nothing
from seeknal: the standard library, and duckdb (pandas only when the node uses it).

A job is a JSON mapping: `code` (the file to run), `path` (as the project names it), `function`,
`node`, `inputs` (node id -> data file), `output`, `pandas`, `params`, `project`.
"""

from __future__ import annotations

import json
import sys
import traceback
import types
from pathlib import Path
from typing import Any

READERS = {".csv": "read_csv_auto", ".json": "read_json_auto"}
FAILED = "seeknal-python-node-failed: "  # how the child tells the failure from uv's own output


class NodeFailure(Exception):
    """The node's code failed; the message says how, where in the node's file."""


class Context:
    """`ctx`: upstream data by node id, a DuckDB connection, the node's params."""

    def __init__(self, job: dict[str, Any], con: Any) -> None:
        self._job = job
        self._con = con
        self.node_id: str = job["node"]
        self.params: dict[str, Any] = dict(job.get("params") or {})
        self.project_path = Path(job["project"])
        self.config: dict[str, Any] = {}

    @property
    def duckdb(self) -> Any:
        return self._con

    def get_param(self, name: str, default: Any = None) -> Any:
        return self.params.get(name, default)

    def ref(self, node_id: str) -> Any:
        """The node's data: a pandas DataFrame when the node uses pandas, else a DuckDB
        relation; either way usable by its variable name in `ctx.duckdb.sql(...)`."""
        node_id = node_id.strip()
        for prefix in ("ref('", 'ref("'):
            if node_id.startswith(prefix) and node_id.endswith(prefix[-1] + ")"):
                node_id = node_id[len(prefix) : -2]
        inputs: dict[str, str] = self._job["inputs"]
        if node_id not in inputs:
            known = ", ".join(sorted(inputs)) or "none"
            raise NodeFailure(
                f"ctx.ref({node_id!r}): not an input of {self.node_id} (its inputs: {known}); "
                'name it with a literal ctx.ref("kind.name") in the node\'s function'
            )
        path = inputs[node_id]
        reader = READERS.get(Path(path).suffix.lower(), "read_parquet")
        relation = self._con.sql(f"SELECT * FROM {reader}({_literal(path)})")
        return relation.df() if self._job.get("pandas") else relation


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def run_job(job: dict[str, Any]) -> None:
    """Run the job's function and write its rows to `job["output"]`; NodeFailure on failure."""
    import duckdb

    con = duckdb.connect()
    try:
        module = types.ModuleType("seeknal_node_" + job["function"])
        module.__file__ = job["path"]
        source = Path(job["code"]).read_text(encoding="utf-8")
        try:
            code = compile(source, job["path"], "exec", dont_inherit=True)
            exec(code, module.__dict__)  # noqa: S102
            func = module.__dict__.get(job["function"])
            if not callable(func):
                raise NodeFailure(f"{job['path']} defines no function {job['function']}")
            result = func(Context(job, con))
        except NodeFailure:
            raise
        except Exception as exc:
            raise NodeFailure(describe(exc, job["path"])) from None
        _write(con, result, job)
    finally:
        con.close()


def _write(con: Any, result: Any, job: dict[str, Any]) -> None:
    import duckdb

    out = _literal(job["output"])
    if result is None:
        raise NodeFailure(
            f"{job['function']} returned None; return a DuckDB relation "
            "(ctx.duckdb.sql(...)), a pandas DataFrame or an Arrow table"
        )
    if isinstance(result, duckdb.DuckDBPyRelation):
        result.to_parquet(job["output"])
        return
    try:
        con.register("seeknal_result", result)
    except Exception:
        raise NodeFailure(
            f"{job['function']} returned a {type(result).__name__}; return a DuckDB relation "
            "(ctx.duckdb.sql(...)), a pandas DataFrame or an Arrow table"
        ) from None
    con.execute(f"COPY (SELECT * FROM seeknal_result) TO {out} (FORMAT parquet)")


def describe(exc: BaseException, path: str) -> str:
    """`Type: message`, with the node file's deepest line the error passed through."""
    lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == path]
    where = f" (line {lines[-1]} of {path})" if lines else ""
    text = " ".join(str(exc).strip().splitlines()[:3])
    return f"{type(exc).__name__}: {text}{where}"


def main(job_file: str) -> int:
    job = json.loads(Path(job_file).read_text(encoding="utf-8"))
    try:
        run_job(job)
    except NodeFailure as exc:
        print(FAILED + str(exc), file=sys.stderr)
        return 1
    except Exception as exc:  # writing the rows failed
        print(FAILED + describe(exc, job["path"]), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
