"""`kind: profile`: statistics of every column of its input (DuckDB's SUMMARIZE), or of the
columns listed under `profile.columns`."""

from __future__ import annotations

from typing import Any

from seeknal.kinds.base import Executed, ExecutionIO, FileChecks, KindSpec
from seeknal.project.shapes import TEXT_LIST, Shape, is_text_list
from seeknal.sql.quote import ident
from seeknal.types import Node, NodeKind


class ProfileSpec(KindSpec):
    kind = NodeKind.PROFILE
    passes_columns_through = True

    def shape_problems(self, data: dict[str, Any]) -> list[tuple[str, str]]:
        shape = Shape()
        options = data.get("profile")
        ok = isinstance(options, dict)
        shape.expect("profile", "profile", options, ok, "a mapping, e.g. {columns: [a, b]}")
        if isinstance(options, dict):
            wanted = options.get("columns")
            shape.expect("profile", "profile.columns", wanted, is_text_list(wanted), TEXT_LIST)
        return shape.found

    def check(self, data: dict[str, Any], checks: FileChecks) -> None:
        options = data.get("profile") or {}
        extra = sorted(set(options) - {"columns"}) if isinstance(options, dict) else []
        params = options.get("params") if isinstance(options, dict) else None
        if extra or params:
            named = params if isinstance(params, dict) else {"params": params}
            ignored = ", ".join([*(k for k in extra if k != "params"), *named])
            checks.warn(
                f"profile options {ignored} are not supported; the profile has "
                "DuckDB SUMMARIZE's statistics for every column (or profile.columns)"
            )

    def execute(self, node: Node, io: ExecutionIO) -> Executed:
        source = io.relation(self.this_input(node))
        options = node.config.get("profile") or {}
        wanted = options.get("columns") if isinstance(options, dict) else None
        selected = ", ".join(ident(str(c)) for c in wanted) if wanted else "*"
        return Executed(io.write(f"SELECT * FROM (SUMMARIZE SELECT {selected} FROM {source})"))
