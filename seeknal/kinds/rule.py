"""`kind: rule`: data quality checks on its first input; further inputs are what its SQL joins.

Its output is one row per check (type, description, violations, rows, passed, severity). A
failed check of severity `error` fails the node; `warn` only reports it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from seeknal.errors import ExecutionError
from seeknal.kinds import rule_checks
from seeknal.kinds.base import Executed, ExecutionIO, FileChecks, KindSpec, misspelt
from seeknal.kinds.rule_checks import CheckRow
from seeknal.project.shapes import TEXT_LIST, Shape, is_text_list
from seeknal.sql.refs import sql_refs
from seeknal.types import Node, NodeKind

RESULT_COLUMNS = (
    "rule_type",
    "check_description",
    "violations",
    "total_rows",
    "passed",
    "severity",
)
RULE_TYPES = (
    "null",
    "uniqueness",
    "range",
    "freshness",
    "sql_assertion",
    "custom",
    "profile_check",  # the older tool's thresholds on profile statistics
)


class RuleSpec(KindSpec):
    kind = NodeKind.RULE
    keys = ("rule",)

    def prepare(self, data: dict[str, Any]) -> dict[str, Any]:
        """`type: null` unquoted is YAML's null; in a rule it means the 'null' rule type."""

        def fix(entry: Any) -> Any:
            if isinstance(entry, dict) and "type" in entry and entry["type"] is None:
                return {**entry, "type": "null"}
            return entry

        rule = data.get("rule")
        if isinstance(rule, list):
            return {**data, "rule": [fix(e) for e in rule]}
        return {**data, "rule": fix(rule)} if isinstance(rule, dict) else data

    def shape_problems(self, data: dict[str, Any]) -> list[tuple[str, str]]:
        shape = Shape()
        for entry in _listed(data.get("rule")):
            if not isinstance(entry, dict):
                continue  # check() reports it
            params = entry.get("params")
            ok = isinstance(params, dict)
            shape.expect("rule", "rule.params", params, ok, "a mapping of key: value")
            for field in ("column", "columns"):
                value = entry.get(field)
                ok = isinstance(value, str) or is_text_list(value)
                shape.expect("rule", f"rule.{field}", value, ok, "a column name or " + TEXT_LIST)
            checks = entry.get("checks")
            ok = isinstance(checks, list)
            shape.expect("rule", "rule.checks", checks, ok, "a list of checks")
            limit = params.get("max_null_percentage") if isinstance(params, dict) else None
            ok = isinstance(limit, int | float) and not isinstance(limit, bool)
            field = "rule.params.max_null_percentage"
            shape.expect("rule", field, limit, ok, "a number from 0 to 100")
        return shape.found

    def sql_texts(self, data: dict[str, Any]) -> list[tuple[str, str]]:
        texts: list[tuple[str, str]] = []
        for entry in _listed(data.get("rule")):
            if not isinstance(entry, dict):
                continue
            params = entry.get("params")
            params = params if isinstance(params, dict) else {}
            if entry.get("type") == "sql_assertion":
                sql = entry.get("sql") or params.get("sql")
                if isinstance(sql, str) and sql.strip():
                    texts.append(("rule", sql))
            elif entry.get("type") == "custom":
                expr = entry.get("expression") or entry.get("sql") or params.get("expression")
                if isinstance(expr, str) and expr.strip():
                    # the condition a row must meet, where the rule runs it: line 2 onwards
                    cond = expr.strip().rstrip(";")
                    texts.append(("rule", f"SELECT 1 WHERE (\n{cond}\n)"))
        return texts

    def column_set_sql(self, node: Node) -> list[str] | None:
        """Column checks name their columns; assertions and conditions are SQL to look at."""
        return [sql for _, sql in self.sql_texts(node.config)]

    def declared_refs(self, data: dict[str, Any]) -> list[str]:
        return [
            ref
            for entry in _listed(data.get("rule"))
            if isinstance(entry, dict) and isinstance(entry.get("sql"), str)
            for ref in sql_refs(entry["sql"])
        ]

    def check(self, data: dict[str, Any], checks: FileChecks) -> None:
        rule = data.get("rule")
        entries = _listed(rule)
        if not rule or not all(isinstance(e, dict) for e in entries):
            checks.problem(
                "rule needs a 'rule:' mapping (or list) with a 'type'" + misspelt(data, "rule"), 1
            )
            return
        for entry in entries:
            if str(entry.get("type")) not in RULE_TYPES:
                checks.problem(
                    f"unknown rule type '{entry.get('type')}' (supported: {', '.join(RULE_TYPES)})",
                    checks.line("rule"),
                )
        severity = (data.get("params") or {}).get("severity", "error")
        if severity not in ("error", "warn"):
            checks.problem(
                f"severity must be 'error' or 'warn', not '{severity}'",
                checks.find_line("severity") or checks.line("params"),
            )

    def execution_config(self, node: Node, normalize: Callable[[str], str]) -> dict[str, Any]:
        def normalized(entry: Any) -> Any:
            if isinstance(entry, dict) and isinstance(entry.get("sql"), str):
                return {**entry, "sql": normalize(entry["sql"])}
            return entry

        config = dict(node.config)
        rule = config.get("rule")
        if isinstance(rule, list):
            config["rule"] = [normalized(r) for r in rule]
        elif isinstance(rule, dict):
            config["rule"] = normalized(rule)
        return config

    def this_input(self, node: Node) -> str:
        return node.inputs[0] if node.inputs else super().this_input(node)

    def execute(self, node: Node, io: ExecutionIO) -> Executed:
        source = io.relation(self.this_input(node))
        entries = [e for e in _listed(node.config.get("rule")) if isinstance(e, dict)]
        params = node.config.get("params") or {}
        severity = str(params.get("severity", "error"))
        rows: list[CheckRow] = []
        total = rule_checks.count(io, f"SELECT count(*) FROM {source}")
        for entry in entries:
            if entry.get("type") == "profile_check":
                rows.extend(rule_checks.profile_checks(io, node, entry, source, severity))
                continue
            check, violations = rule_checks.violations(io, node, entry, source)
            rtype = str(entry.get("type"))
            rows.append(CheckRow(rtype, check, violations, total, violations == 0, severity))
        io.write_values(RESULT_COLUMNS, [tuple(r) for r in rows])
        return Executed(len(rows), _outcome(node, rows))


def _listed(rule: Any) -> list[Any]:
    return rule if isinstance(rule, list) else [rule]


def _outcome(node: Node, rows: list[CheckRow]) -> tuple[str, ...]:
    """The warnings of the failed checks; an ExecutionError when one of them is an error."""
    params = node.config.get("params") or {}
    message = str(params.get("error_message") or f"rule {node.id} found violations")
    errors = [r for r in rows if not r.passed and r.severity == "error"]
    if errors:
        detail = "; ".join(r.violation() for r in errors)
        raise ExecutionError(
            f"{node.id} ({node.file_path}): {message} ({detail})",
            "Fix the data or the rule, or set params.severity: warn to only report it.",
        )
    warned = [r for r in rows if not r.passed]
    return (f"{message} ({'; '.join(r.violation() for r in warned)})",) if warned else ()
