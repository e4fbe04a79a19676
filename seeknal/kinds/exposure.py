"""`kind: exposure`: a consumer of a node. `type: file` exports its input to a file (csv,
parquet or json); other types (dashboards, notebooks, ...) only document a consumer, as in dbt.
"""

from __future__ import annotations

from typing import Any

from seeknal.errors import ExecutionError
from seeknal.kinds.base import Executed, ExecutionIO, FileChecks, KindSpec, misspelt
from seeknal.project.shapes import Shape
from seeknal.types import Node, NodeKind

FORMATS = ("csv", "parquet", "json")


class ExposureSpec(KindSpec):
    kind = NodeKind.EXPOSURE
    keys = ("type",)
    passes_columns_through = True

    def shape_problems(self, data: dict[str, Any]) -> list[tuple[str, str]]:
        shape = Shape()
        params = data.get("params")
        target = params.get("path") if isinstance(params, dict) else None
        shape.expect("params", "params.path", target, isinstance(target, str), "a file path")
        return shape.found

    def check(self, data: dict[str, Any], checks: FileChecks) -> None:
        # where the file may go is checked with the whole project (seeknal/project/outputs.py)
        if data.get("type", "file") != "file":
            return
        params = data.get("params") or {}
        fmt = params.get("format", "csv")
        if fmt not in FORMATS:
            line = checks.find_line(f"format: {fmt}") or checks.find_line("format")
            checks.problem(
                f"exposure format '{fmt}' (supported: {', '.join(FORMATS)})",
                line or checks.line("params") or 1,
            )
        if not params.get("path"):
            checks.problem(
                "file exposure needs params.path" + misspelt(data, "params"),
                checks.line("params") or checks.find_line("param") or 1,
            )
        self.check_one_input(data, checks)

    def executable(self, node: Node) -> bool:
        return str(node.config.get("type", "file")) == "file"

    def idle_reason(self, node: Node) -> str:
        return f"exposure type '{node.config.get('type')}' documents a consumer; nothing to run"

    def output_file(self, node: Node) -> str | None:
        return str((node.config.get("params") or {}).get("path", f"{node.name}.out"))

    def execute(self, node: Node, io: ExecutionIO) -> Executed:
        etype = str(node.config.get("type", "file"))
        if etype != "file":
            # only file exposures produce something; never invent a file for the others
            raise ExecutionError(
                f"{node.id} ({node.file_path}): exposure type '{etype}' is not supported for "
                "execution yet (supported: file).",
                f"Leave it out of the run with --nodes, or delete {node.file_path}.",
            )
        fmt = str((node.config.get("params") or {}).get("format", "csv"))
        source = io.relation(self.this_input(node))
        return Executed(io.write(f"SELECT * FROM {source}", fmt))
