"""Looking around a project: `seeknal ls` (nodes and their status) and `seeknal show NODE`.

Status and outputs come from production's run state, or from an env's as the env sees each
node (envs/resolve.py). Nothing here takes the lock or writes under target/.
"""

from __future__ import annotations

from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seeknal.context import Context, Loaded
from seeknal.errors import SeeknalError
from seeknal.planning.select import SelectArgs, node_id_of, resolve, within
from seeknal.state.records import NodeState, RunState
from seeknal.state.store import read_run_state
from seeknal.types import Node, Output, OutputKind


@dataclass(frozen=True)
class NodeRow:
    id: str
    kind: str
    name: str
    tags: tuple[str, ...]
    status: str
    file: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "name": self.name,
            "tags": list(self.tags),
            "status": self.status,
            "file": self.file,
        }


@dataclass(frozen=True)
class NodeDetails:
    node: Node
    env: str | None
    file_text: str
    inputs: tuple[str, ...]
    downstream: tuple[str, ...]
    refs: dict[str, str]  # input id -> where its output is read from, as env/production sees it
    status: str
    last: NodeState | None
    output: Output | None
    schema: tuple[tuple[str, str], ...] | None
    damaged: str | None = None  # why the output cannot be read: changed since it was written


def list_nodes(ctx: Context, env: str | None, selectors: list[str]) -> list[NodeRow]:
    """The project's nodes (those the selectors name, when given) with their status."""
    loaded = ctx.load()
    project = loaded.project
    ids = set(project.nodes)
    if selectors:
        picked = resolve(project, loaded.dag, SelectArgs.of(select=selectors))
        ids = within(loaded.dag, picked, ids) if picked else ids
    state, planned = _state(ctx, env)
    changed = _changed_outputs(ctx, env, loaded, state)
    return [
        NodeRow(
            node.id,
            str(node.kind),
            node.name,
            tuple(str(t) for t in node.meta.get("tags") or ()),
            _status(loaded, node.id, state.nodes.get(node.id), env, planned, changed),
            node.file_path,
        )
        for node in (project.nodes[n] for n in project.order if n in ids)
    ]


def node_details(ctx: Context, env: str | None, name: str) -> NodeDetails:
    """One node: its file, inputs, downstream, last run, output and the output's schema."""
    loaded = ctx.load()
    project = loaded.project
    node = project.nodes[node_id_of(project, name)]
    state, planned = _state(ctx, env)
    entry = state.nodes.get(node.id)
    view = _view(ctx, env)
    refs = {up: _where(ctx, view, up) for up in node.inputs}
    output, schema, damaged = _output(ctx, view, node.id)
    changed = {node.id} if damaged else set()
    return NodeDetails(
        node,
        env,
        _file_text(ctx.root / node.file_path),
        node.inputs,
        tuple(n for n in project.order if node.id in loaded.dag.parents[n]),
        refs,
        _status(loaded, node.id, entry, env, planned, changed),
        entry,
        output,
        schema,
        damaged,
    )


def _state(ctx: Context, env: str | None) -> tuple[RunState, set[str]]:
    if env is None:
        return read_run_state(ctx.production), set()
    from seeknal.envs.access import require_env

    target, _config, plan = require_env(ctx, env)
    return read_run_state(target), set(plan.nodes_to_execute)


def _status(
    loaded: Loaded,
    node_id: str,
    entry: NodeState | None,
    env: str | None,
    planned: set[str],
    changed: set[str],
) -> str:
    """never run | success | failed | skipped | cached | changed (since its last run) |
    output missing (its recorded output file is gone) | output changed (its bytes are no longer
    the ones its last run wrote) | production (an env reads production's output) | planned (an
    env has not run it yet)."""
    if env is not None:
        if entry is None:
            return "planned" if node_id in planned else "production"
        if entry.ref:
            return "production"
    if entry is None or entry.status is None:
        return "never run"
    if env is None and entry.hash != loaded.fingerprints[node_id].fingerprint:
        return "changed"
    if env is None and entry.output_path and not _exists(loaded, entry.output_path):
        return "output missing"
    if node_id in changed:
        return "output changed"
    return str(entry.status)


def _changed_outputs(ctx: Context, env: str | None, loaded: Loaded, state: RunState) -> set[str]:
    """Nodes whose output file (production's, or the env's own) exists but no longer holds the
    bytes its last run wrote: what `plan` would run again for it."""
    from seeknal.state.output_check import output_states

    target = ctx.production if env is None else ctx.target(env)
    own = {n: e for n, e in state.nodes.items() if not e.ref}
    return output_states(target, loaded.project, own, ctx.cache.data)[1]


def _exists(loaded: Loaded, output_path: str) -> bool:
    path = Path(output_path)
    return (path if path.is_absolute() else Path(loaded.project.root) / path).exists()


def _view(ctx: Context, env: str | None) -> Any:
    from seeknal.envs.resolve import open_view

    try:
        return open_view(ctx, env, strict=False)
    except SeeknalError:
        return None


def _where(ctx: Context, view: Any, node_id: str) -> str:
    if view is None:
        return "not computed yet"
    try:
        seen = view.resolve(node_id)
    except SeeknalError:
        return "not computed yet"
    owner = "production" if seen.env is None else f"env {seen.env}"
    return f"{_relative(ctx, seen.output)} ({owner})"


def _output(
    ctx: Context, view: Any, node_id: str
) -> tuple[Output | None, tuple[tuple[str, str], ...] | None, str | None]:
    """The node's output as seen here, its columns when it can be read, and what is wrong with
    it when it changed since it was written (then it is shown flagged, without columns)."""
    from seeknal.engine import DEFAULT_ENGINE, create_engine

    if view is None:
        return None, None, None
    try:
        seen = view.resolve(node_id)
    except SeeknalError:
        return None, None, None
    output = seen.output
    with closing(create_engine(DEFAULT_ENGINE, ctx.root)) as engine:
        if not engine.exists(output):
            return output, None, None
        try:
            return output, tuple((str(c), str(t)) for c, t in engine.schema(output)), None
        except SeeknalError as unreadable:
            try:
                view.check_intact(seen)
            except SeeknalError as changed:
                return output, None, f"{changed.message} {changed.hint}"
            raise unreadable from None


def _relative(ctx: Context, output: Output) -> str:
    """A file or folder output relative to the project (a table output by its name)."""
    if output.kind is OutputKind.TABLE:
        return output.location
    try:
        return output.path.relative_to(ctx.root).as_posix()
    except ValueError:
        return output.location


def relative_output(ctx: Context, output: Output) -> str:
    return _relative(ctx, output)


def _file_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        return f"(cannot read {path}: {exc.strerror})"
