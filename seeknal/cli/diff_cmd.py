"""`seeknal diff`: what an applied env changes against production, definitions and data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from seeknal.cli.complete import env_names
from seeknal.cli.console import out, styled, warn
from seeknal.cli.main import handled
from seeknal.cli.options import EnvOption, ProjectPath, one_env

VALUE_WIDTH = 40
LINE_WIDTH = 160


def register(app: typer.Typer) -> None:
    app.command("diff")(diff)


@handled
def diff(
    env: str | None = typer.Argument(
        None, autocompletion=env_names, help="Environment (default: the active env)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the diff as JSON."),
    project_path: Path | None = ProjectPath,
    env_option: str | None = EnvOption,
) -> None:
    """Compare an applied environment with production: definitions and data, node by node."""
    from seeknal.context import Context
    from seeknal.envs.diff import diff_env
    from seeknal.envs.diff_json import env_diff_json

    env = _env_to_diff(project_path, one_env(env, env_option))
    # only reads: no repair of an interrupted promotion (that takes the lock), no lock
    result = diff_env(Context(project_path), env)
    document = env_diff_json(result)
    if as_json:
        out(json.dumps(document, indent=2))  # columns keep their order
        return
    if result.stale:
        warn(f"the plan of env '{env}' is stale: {result.stale} The diff shows what it applied.")
    out(f"Diff of env '{env}' against production (plan {result.plan_id})")
    if not document["nodes"]:
        out("No changes against production.")
    for node in document["nodes"]:
        out("")
        for line in node_lines(node):
            out(line)


def _env_to_diff(project_path: Path | None, named: str | None) -> str:
    """The env named, else the active one; with production active, the only applied env (one
    whose plan ran completely and is not promoted), said on stderr. Otherwise an error that
    lists the envs."""
    from seeknal.cli.scope import active_env, named_env

    if named is None and active_env(project_path, None).env is None:
        from seeknal.context import Context
        from seeknal.envs.store import list_envs

        applied = [
            row["name"] for row in list_envs(Context(project_path)) if row["status"] == "applied"
        ]
        if len(applied) == 1:
            out(f"(env {applied[0]}: the only applied env)", err=True)
            return str(applied[0])
    return named_env(project_path, named, "diff")


def node_lines(node: dict[str, Any]) -> list[str]:
    title = f"{node['id']} · {node['category']}"
    lines = [styled(title + (f" · {node['reason']}" if node["reason"] else ""), bold=True)]
    lines += [f"  {_coloured(line)}" for line in node["definition_diff"].splitlines()]
    lines += [f"  {line}" for line in data_lines(node)]
    return lines


def data_lines(node: dict[str, Any]) -> list[str]:
    before, after = node["rows_before"], node["rows_after"]
    lines = []
    if before is not None and after is not None:
        delta = node["row_delta"]
        lines.append(f"rows: {before} → {after}" + (f" ({delta:+d})" if delta else ""))
    elif after is not None:
        lines.append(f"rows: {after} (production has none)")
    elif before is not None:
        lines.append(f"rows: {before} in production")
    if node["schema_changes"]:
        lines.append(f"columns: {', '.join(node['schema_changes'])}")
    if node["key"]:
        source = (
            "key: on the node"
            if node["key_source"] == "key"
            else f"uniqueness rule {node['key_source']}"
        )
        lines.append(
            f"key {', '.join(node['key'])} ({source}): {node['rows_added']} added, "
            f"{node['rows_removed']} removed, {node['rows_changed']} changed"
        )
        if node["duplicate_keys"]:
            lines.append(
                f"  {node['duplicate_keys']} key(s) held by more than one row on a side "
                "(their rows compared as a set)"
            )
    elif before is not None and after is not None and not node["note"]:
        lines.append("no key declared: rows compared by count only")
    if node["note"]:
        lines.append(node["note"])
    return lines + example_lines(node)


def example_lines(node: dict[str, Any]) -> list[str]:
    examples = node.get("examples")
    if not examples:
        return []
    lines = []
    for kind, total in (("added", node["rows_added"]), ("removed", node["rows_removed"])):
        if examples[kind]:
            lines.append(f"{kind} (first {len(examples[kind])} of {total}):")
            lines += [f"  {_fit(_pairs(row))}" for row in examples[kind]]
    if examples["changed"]:
        lines.append(f"changed (first {len(examples['changed'])} of {node['rows_changed']}):")
        for change in examples["changed"]:
            cells = ", ".join(
                f"{c} {_value(v['before'])} → {_value(v['after'])}"
                for c, v in change["columns"].items()
            )
            lines.append(f"  {_fit(_pairs(change['key']) + ': ' + cells)}")
    return lines


def _pairs(row: dict[str, Any]) -> str:
    return ", ".join(f"{c}={_value(v)}" for c, v in row.items())


def _value(value: Any) -> str:
    text = "null" if value is None else str(value)
    return text if len(text) <= VALUE_WIDTH else text[: VALUE_WIDTH - 1] + "…"


def _fit(line: str) -> str:
    return line if len(line) <= LINE_WIDTH else line[: LINE_WIDTH - 1] + "…"


def _coloured(line: str) -> str:
    if line.startswith(("+++", "---")):
        return styled(line, bold=True)
    if line.startswith("+"):
        return styled(line, typer.colors.GREEN)
    if line.startswith("-"):
        return styled(line, typer.colors.RED)
    return styled(line, typer.colors.CYAN) if line.startswith("@@") else line
