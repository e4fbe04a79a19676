"""Whether nodes can run on Spark, decided before anything executes.

A run on the spark engine checks every node it is about to execute: its kind must be one Spark
runs, and each piece of DuckDB SQL it holds must transpile (`sql/transpile.py`). One error
names every node that cannot, with the construct, so nothing is half-run.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from seeknal.errors import ExecutionError
from seeknal.project.placeholders import render_env
from seeknal.sql.transpile import unportable
from seeknal.types import Node

# the kinds whose execution Spark takes over; the others stay on DuckDB
SPARK_KINDS = frozenset({"source", "transform", "rule", "profile", "exposure"})
FILE_SOURCES = frozenset({"csv", "parquet", "json", "jsonl"})
# csv options whose values DuckDB and Spark read differently (format strings, sampling)
CSV_REFUSED = ("skip", "dateformat", "timestampformat")


def check_portable(nodes: Iterable[Node]) -> None:
    """Raise one ExecutionError naming each node (and construct) Spark cannot run."""
    problems = [f"{n.id} ({n.file_path}): {p}" for n in nodes for p in node_problems(n)]
    if problems:
        raise ExecutionError(
            "These nodes cannot run on Spark:\n  - " + "\n  - ".join(problems),
            "Rewrite them in SQL both engines share (docs/spark.md), leave them out with "
            "--nodes, or run on DuckDB (--engine duckdb). Nothing was executed.",
        )


def node_problems(node: Node) -> list[str]:
    """What keeps one node off Spark (empty when nothing does)."""
    if node.python is not None:
        return ["Python nodes run on DuckDB only"]
    if node.kind not in SPARK_KINDS:
        return [f"kind '{node.kind}' runs on DuckDB only"]
    config = render_env(node.config)
    if node.kind == "source":
        return _source_problems(config)
    texts: list[tuple[str, str]] = []
    if node.kind == "transform" and node.sql:
        texts.append(("transform", str(render_env(node.sql))))
    if node.kind == "rule":
        texts += _rule_texts(config.get("rule"))
    problems = []
    for where, sql in texts:
        construct = unportable(sql)
        if construct is not None:
            problems.append(f"{where}: {construct}")
    return problems


def _source_problems(config: dict[str, Any]) -> list[str]:
    stype = str(config.get("source"))
    if stype not in FILE_SOURCES:
        return [f"source type '{stype}' is read on DuckDB only (Spark reads file sources)"]
    params = config.get("params") or {}
    refused = [k for k in params if str(k).lower() in CSV_REFUSED]
    if stype == "csv" and refused:
        return [f"csv option(s) {', '.join(map(str, refused))} are not read by Spark"]
    return []


def _rule_texts(rule: Any) -> list[tuple[str, str]]:
    entries = rule if isinstance(rule, list) else [rule]
    texts = []
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        params = entry.get("params") or {}
        if entry.get("type") == "sql_assertion":
            sql = entry.get("sql") or params.get("sql")
            if sql:
                texts.append(("rule sql", str(sql)))
        elif entry.get("type") not in (None, "") and entry.get("expression") is not None:
            texts.append(("rule expression", f"SELECT 1 WHERE {entry['expression']}"))
    return texts
