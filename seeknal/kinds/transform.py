"""`kind: transform`: SQL over its inputs. The script's last statement is the node's output."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from seeknal.errors import ExecutionError
from seeknal.kinds.base import Change, Executed, ExecutionIO, FileChecks, KindSpec
from seeknal.sql import compare
from seeknal.types import Node, NodeKind


class TransformSpec(KindSpec):
    kind = NodeKind.TRANSFORM
    keys = ("transform",)

    def node_sql(self, data: dict[str, Any], checks: FileChecks) -> str | None:
        sql = data.get("transform")
        if sql is not None and not isinstance(sql, str):
            checks.problem(
                f"'transform' must be text (the SQL), not {_what(sql)}: write the SQL as a "
                "'transform: |' block",
                checks.line("transform"),
            )
            return None
        if not isinstance(sql, str) or not sql.strip():
            import difflib

            typo = difflib.get_close_matches("transform", [str(k) for k in data], 1, 0.75)
            if sql is None and typo:
                checks.problem(
                    f"transform has no SQL: is '{typo[0]}' meant to be 'transform'?",
                    checks.line(typo[0]) or 1,
                )
                return None
            checks.problem(
                "transform has no SQL: add a 'transform: |' block",
                checks.line("transform") or 1,
            )
            return None
        return sql

    def sql_texts(self, data: dict[str, Any]) -> list[tuple[str, str]]:
        sql = data.get("transform")
        return [("transform", sql)] if isinstance(sql, str) and sql.strip() else []

    def execution_config(self, node: Node, normalize: Callable[[str], str]) -> dict[str, Any]:
        config = dict(node.config)
        if node.sql is not None:
            # formatting and comments do not change what the SQL computes
            config["transform"] = normalize(node.sql)
        return config

    def describe_change(
        self, node: Node, changed_keys: list[str], previous: Mapping[str, Any]
    ) -> Change | None:
        if changed_keys not in (["transform"], []):
            return None
        if previous.get("sql") is None or node.sql is None:
            return None
        change = compare.compare_sql(str(previous["sql"]), node.sql)
        return Change(not change.non_breaking, change.reason, change.added)

    def changed_fields(self, changed_keys: list[str]) -> str:
        shown = ", ".join(k for k in changed_keys if k != "transform") or "definition"
        if "transform" in changed_keys:
            shown = "SQL and " + shown if shown != "definition" else "SQL"
        return shown

    def change_reason(self, previous: Mapping[str, Any], data_digest: str | None) -> str:
        return "SQL or config changed"

    def failure_hint(self, node: Node) -> str:
        return f"Fix the SQL in {node.file_path}"

    def execute(self, node: Node, io: ExecutionIO) -> Executed:
        statements = io.statements(node.sql or "")
        if not statements:
            raise ExecutionError(f"{node.id} ({node.file_path}): the transform SQL is empty.")
        if len(statements) == 1:
            return Executed(io.write(io.bind(statements[0])))
        return Executed(io.write_script(statements))


def _what(value: Any) -> str:
    """A YAML value's kind as a user wrote it (`42` is a number, `[a]` a list)."""
    if isinstance(value, bool):
        return f"true/false ({str(value).lower()})"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, list):
        return "a list"
    return "a mapping" if isinstance(value, dict) else "a value of another type"
