"""Looking around: `seeknal ls`, `seeknal show NODE`, `seeknal lineage [NODE]`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from seeknal.cli.complete import env_names, selectors
from seeknal.cli.console import out, styled
from seeknal.cli.main import handled
from seeknal.cli.options import Params, ProjectPath
from seeknal.cli.plan_view import emit
from seeknal.cli.scope import read_env

LsEnv = typer.Option(
    None,
    "--env",
    "-e",
    autocompletion=env_names,
    help="Status in this environment (default: the active env).",
)
LINEAGE_FORMATS = ("text", "mermaid", "svg")


def register(app: typer.Typer) -> None:
    app.command("ls")(ls)
    app.command("show")(show)
    app.command("lineage")(lineage)


@handled
def ls(
    selectors: list[str] | None = typer.Argument(
        None,
        autocompletion=selectors,
        help="Selectors (node, +node, node+, tag:x, kind:k, path:dir, kind.*); all nodes.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the nodes as JSON."),
    env: str | None = LsEnv,
    params: str | None = Params,
    project_path: Path | None = ProjectPath,
) -> None:
    """List nodes with kind, tags and status (production's, or the active env's)."""
    from seeknal.envs.inspect import list_nodes

    ctx, chosen = read_env(project_path, env, unplanned_reads_production=True, params=params)
    rows = list_nodes(ctx, chosen, list(selectors or ()))
    if as_json:
        out(json.dumps([r.to_json() for r in rows], indent=2))
        return
    width = max((len(r.id) for r in rows), default=2)
    kinds = max((len(r.kind) for r in rows), default=4)
    states = max([10, *(len(r.status) for r in rows)])
    head = f"{'ID'.ljust(width)}  {'KIND'.ljust(kinds)}  {'STATUS'.ljust(states)}  TAGS"
    out(styled(head, bold=True))
    for r in rows:
        tags = ", ".join(r.tags)
        out(f"{r.id.ljust(width)}  {r.kind.ljust(kinds)}  {r.status.ljust(states)}  {tags}")
    where = "production" if chosen is None else f"env {chosen}"
    out(f"{len(rows)} node(s); status in {where}.")


@handled
def show(
    node: str = typer.Argument(
        ..., autocompletion=selectors, help="Node id (kind.name) or unique name."
    ),
    env: str | None = LsEnv,
    params: str | None = Params,
    project_path: Path | None = ProjectPath,
) -> None:
    """Show one node: its YAML, SQL, inputs, downstream, last run and output schema."""
    from seeknal.envs.inspect import node_details

    ctx, chosen = read_env(project_path, env, unplanned_reads_production=True, params=params)
    details = node_details(ctx, chosen, node)
    _print_details(ctx, details)


def _print_details(ctx: Any, d: Any) -> None:
    from seeknal.envs.inspect import relative_output

    node = d.node
    out(styled(f"{node.id}", bold=True) + f"  ({node.kind}, {node.file_path}:{node.line})")
    tags = node.meta.get("tags") or []
    if node.meta.get("description"):
        out(f"  {str(node.meta['description']).strip()}")
    if tags:
        out(f"  tags: {', '.join(str(t) for t in tags)}")
    _section("Python" if node.python is not None else "YAML", node.file_path)
    out(d.file_text.rstrip())
    if node.sql:
        _section("Compiled SQL", "placeholders rendered; env: values are filled in at run time")
        out(node.sql.rstrip())
    _section("Inputs", "" if d.inputs else "none")
    for up in d.inputs:
        out(f"  {up}  <- {d.refs[up]}")
    _section("Downstream", "" if d.downstream else "none")
    for kid in d.downstream:
        out(f"  {kid}")
    where = "production" if d.env is None else f"env {d.env}"
    _section("Last run", f"{where}: {d.status}")
    if d.last is not None and not d.last.ref and d.last.last_run:
        rows = "-" if d.last.row_count is None else f"{d.last.row_count:,}"
        secs = (d.last.duration_ms or 0) / 1000
        out(f"  at {d.last.last_run}, {rows} rows, {secs:.2f}s")
        if d.last.error:
            out(f"  error: {d.last.error}")
    if d.output is not None:
        out(f"  output: {relative_output(ctx, d.output)}")
    if d.damaged:
        out(styled(f"  {d.damaged}", "yellow"))
    if d.schema:
        _section("Schema", f"{len(d.schema)} column(s)")
        width = max(len(c) for c, _ in d.schema)
        for column, kind in d.schema:
            out(f"  {column.ljust(width)}  {kind}")


def _section(title: str, note: str) -> None:
    out("")
    out(styled(title, bold=True) + (f" ({note})" if note else ""))


@handled
def lineage(
    node: list[str] | None = typer.Argument(
        None,
        autocompletion=selectors,
        help="Node(s) or selectors to centre on (default: the whole project).",
    ),
    fmt: str = typer.Option("text", "--format", "-f", help="text (a tree), mermaid or svg."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write it to this file."),
    params: str | None = Params,
    project_path: Path | None = ProjectPath,
) -> None:
    """Show the node graph: upstream and downstream of NODE, or the whole project."""
    from seeknal.context import Context, parse_params
    from seeknal.planning.lineage import graph, lineage_ids, tree_lines
    from seeknal.planning.select import select_ids

    if fmt not in LINEAGE_FORMATS:
        raise typer.BadParameter(f"--format is one of {', '.join(LINEAGE_FORMATS)}, not {fmt}")
    loaded = Context(project_path, parse_params(params)).load()
    project, dag = loaded.project, loaded.dag
    focus = select_ids(project, dag, node) if node else None
    if fmt == "text":
        ordered = [n for n in project.order if n in focus] if focus is not None else None
        emit("\n".join(tree_lines(project, dag, ordered)) + "\n", output, "lineage")
        return
    drawn = graph(project, dag, lineage_ids(dag, focus), focus or set())
    if fmt == "mermaid":
        from seeknal.report.mermaid import flowchart

        emit(flowchart(drawn), output, "mermaid lineage")
        return
    from seeknal.report.svg import render_svg

    emit(render_svg(drawn) + "\n", output, "svg lineage")
