"""`kind: profile`: statistics of every column of its input (DuckDB's SUMMARIZE), or of the
columns listed under `profile.columns`. With `profile.params.max_top_values: N`, a `top_values`
column lists each column's N most frequent non-null values, as JSON objects of value, count and
percent of the non-null rows."""

from __future__ import annotations

from typing import Any

from seeknal.kinds.base import Executed, ExecutionIO, FileChecks, KindSpec
from seeknal.project.shapes import TEXT_LIST, Shape, is_text_list
from seeknal.sql.quote import ident, literal
from seeknal.types import Node, NodeKind

OPTIONS = ("columns", "params")
PARAMS = ("max_top_values",)


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
            params = options.get("params")
            ok = isinstance(params, dict)
            shape.expect("profile", "profile.params", params, ok, "a mapping of option: value")
        return shape.found

    def check(self, data: dict[str, Any], checks: FileChecks) -> None:
        options = data.get("profile") or {}
        if not isinstance(options, dict):
            return
        params = options.get("params") or {}
        unknown = [f"profile.{k}" for k in options if k not in OPTIONS]
        unknown += [f"profile.params.{k}" for k in params if k not in PARAMS]
        line = checks.line("profile")
        if unknown:
            checks.problem(
                f"{', '.join(unknown)}: not a profile option (known: profile.columns, "
                "profile.params.max_top_values); a profile computes DuckDB SUMMARIZE's "
                "statistics, so another option would be ignored",
                line,
            )
        top = params.get("max_top_values")
        if top is not None and (isinstance(top, bool) or not isinstance(top, int) or top < 1):
            checks.problem(
                f"profile.params.max_top_values must be a positive integer, not {top!r}", line
            )

    def execute(self, node: Node, io: ExecutionIO) -> Executed:
        source = io.relation(self.this_input(node))
        options = node.config.get("profile") or {}
        wanted = options.get("columns") if isinstance(options, dict) else None
        selected = ", ".join(ident(str(c)) for c in wanted) if wanted else "*"
        summary = f"SUMMARIZE SELECT {selected} FROM {source}"
        top = (options.get("params") or {}).get("max_top_values") if options else None
        if not top:
            return Executed(io.write(f"SELECT * FROM ({summary})"))
        names = [str(r[0]) for r in io.rows(f"DESCRIBE SELECT {selected} FROM {source}")]
        return Executed(io.write(_with_top_values(summary, source, names, int(top))))


def _with_top_values(summary: str, source: str, names: list[str], top: int) -> str:
    """SUMMARIZE's rows, in their order, with each column's most frequent values."""
    per_column = " UNION ALL ".join(
        f"SELECT {literal(name)} AS column_name, CAST(list(json_object('value', "
        f"CAST(v AS VARCHAR), 'count', n, 'percent', round(100.0 * n / total, 2)) "
        f"ORDER BY n DESC, CAST(v AS VARCHAR)) AS VARCHAR) AS top_values FROM ("
        f"SELECT {ident(name)} AS v, count(*) AS n, sum(count(*)) OVER () AS total "
        f"FROM {source} WHERE {ident(name)} IS NOT NULL GROUP BY 1 "
        f"ORDER BY n DESC, CAST(v AS VARCHAR) LIMIT {top})"
        for name in names
    )
    return (
        f"SELECT s.* EXCLUDE (_row), t.top_values FROM "
        f"(SELECT *, row_number() OVER () AS _row FROM ({summary})) s "
        f"LEFT JOIN ({per_column}) t USING (column_name) ORDER BY s._row"
    )
