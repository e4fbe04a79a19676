"""What an applied env changes against production, node by node: the definition diff (YAML and
SQL, from both manifests) and the data diff of the env's output against production's.

Read-only: no lock, nothing written. Outputs are found through the one resolver
(`envs/resolve.py`) and compared by the engine (`Engine.compare`), which joins them itself.
`seeknal diff` shows every changed node with examples; reports take the data part
(`data_changes`) without examples, for the nodes the env computed and the nodes it removes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from seeknal.context import Context
from seeknal.envs.access import check_fresh, require_env
from seeknal.envs.promoted import Promoted
from seeknal.envs.resolve import EnvView, env_view, production_view
from seeknal.errors import EnvError, SeeknalError
from seeknal.planning.definition import definition_diff
from seeknal.planning.keys import Key, declared_key
from seeknal.report.model import CATEGORY_ORDER as REPORT_CATEGORY_ORDER
from seeknal.state import journal
from seeknal.state.records import Manifest, Plan, RunState
from seeknal.state.store import read_manifest, read_run_state

if TYPE_CHECKING:
    from seeknal.engine.base import DataDiff, Engine

EXAMPLES = 5
# the report's order; "computed" is a node a production-style plan runs without a category
CATEGORY_ORDER = (*REPORT_CATEGORY_ORDER, "computed")


@dataclass(frozen=True)
class NodeDiff:
    """One changed node: how its definition and its data differ from production's."""

    node_id: str
    category: str
    reason: str
    definition: str = ""  # unified diff of the YAML, production → env
    rows_before: int | None = None  # production's rows (None: no production output)
    rows_after: int | None = None  # the env's rows (None: the env has no output of its own)
    key: Key | None = None  # the key the rows were compared by
    data: DataDiff | None = None  # when both sides have an output
    note: str | None = None  # what the data diff could not say, and why


@dataclass(frozen=True)
class EnvDiff:
    env: str
    plan_id: str
    stale: str | None  # why the plan no longer matches the YAML or production, else None
    nodes: tuple[NodeDiff, ...]


@dataclass(frozen=True)
class _Sides:
    """What both sides hold: manifests, the env's run state, and a resolver for each."""

    env: str
    plan: Plan
    manifest: Manifest
    production: Manifest
    state: RunState
    view: EnvView
    prod_view: EnvView


def diff_env(ctx: Context, env: str, examples: int = EXAMPLES) -> EnvDiff:
    """Every node the env's plan changes, computes, adds or removes, most severe first."""
    if journal.pending(ctx.production.base):
        raise EnvError(
            "A promotion is in progress or was interrupted: production's outputs are being "
            "replaced.",
            f"Run 'seeknal diff {env}' again in a moment; if no seeknal command is running, "
            "'seeknal env list' finishes or undoes the promotion first.",
        )
    sides = _open(ctx, env)
    with _engine(ctx) as engine:
        nodes = tuple(
            _node_diff(sides, node_id, engine, examples, definitions=True)
            for node_id in _changed(sides.plan)
        )
    return EnvDiff(env, str(sides.plan.plan_id), _stale(ctx, env, sides.plan), nodes)


def data_changes(ctx: Context, env: str) -> list[NodeDiff]:
    """The data part, without examples, of the nodes the env computed or removes (reports)."""
    sides = _open(ctx, env)
    wanted = set(sides.plan.nodes_to_execute) | set(sides.plan.removed_nodes)
    with _engine(ctx) as engine:
        return [
            _node_diff(sides, node_id, engine, 0, definitions=False)
            for node_id in _changed(sides.plan)
            if node_id in wanted
        ]


def promoted_data_changes(ctx: Context, env: str, promoted: Promoted) -> list[NodeDiff]:
    """`data_changes` of a promoted env as it was at promote time: production before the
    promotion (its kept files) against production after it (the env's outputs)."""
    target, _config, plan = require_env(ctx, env)
    assert promoted.before is not None and promoted.after is not None
    sides = _Sides(
        env,
        plan,
        read_manifest(target) or Manifest(),
        promoted.before_manifest or Manifest(),
        read_run_state(target),
        promoted.after,
        promoted.before,
    )
    wanted = set(plan.nodes_to_execute) | set(plan.removed_nodes)
    with _engine(ctx) as engine:
        return [
            _node_diff(sides, node_id, engine, 0, definitions=False)
            for node_id in _changed(plan)
            if node_id in wanted
        ]


# -- the env and its plan --------------------------------------------------------------------
def _open(ctx: Context, env: str) -> _Sides:
    target, config, plan = require_env(ctx, env)
    if config.promoted_plan_id == plan.plan_id:
        raise EnvError(
            f"Environment '{env}' has been promoted: production holds its data now.",
            f"'seeknal report {env}' shows what it changed, as at the promotion; plan it again "
            f"('seeknal plan {env}') and apply it to compare new changes.",
        )
    state = read_run_state(target)
    if state.plan_id is None or state.plan_id != plan.plan_id:
        raise EnvError(
            f"Environment '{env}' has not been applied: it has no data to compare yet.",
            f"Run 'seeknal run --env {env}' first, then 'seeknal diff {env}'.",
        )
    manifest = read_manifest(target) or Manifest()
    production = read_manifest(ctx.production) or Manifest()
    view = env_view(ctx, target, plan, manifest, state, strict=False)
    return _Sides(env, plan, manifest, production, state, view, production_view(ctx))


def _changed(plan: Plan) -> list[str]:
    cats = plan.categorized_changes
    ids = set(cats) | set(plan.nodes_to_execute) | set(plan.added_nodes) | set(plan.removed_nodes)
    rank = {c: i for i, c in enumerate(CATEGORY_ORDER)}
    return sorted(ids, key=lambda n: (rank.get(_category(plan, n), 99), n))


def _category(plan: Plan, node_id: str) -> str:
    if node_id in plan.categorized_changes:
        return plan.categorized_changes[node_id]
    if node_id in plan.added_nodes:
        return "added"
    return "removed" if node_id in plan.removed_nodes else "computed"


def _stale(ctx: Context, env: str, plan: Plan) -> str | None:
    try:
        check_fresh(ctx, env, plan)
    except SeeknalError as exc:  # YAML or production moved on (or the YAML no longer loads)
        return exc.message.splitlines()[0]
    return None


@contextmanager
def _engine(ctx: Context) -> Iterator[Engine]:
    from seeknal.engine import DEFAULT_ENGINE, create_engine

    engine = create_engine(DEFAULT_ENGINE, ctx.root)
    try:
        yield engine
    finally:
        engine.close()


# -- one node ------------------------------------------------------------------------------
def _node_diff(
    sides: _Sides, node_id: str, engine: Engine, examples: int, definitions: bool
) -> NodeDiff:
    category = _category(sides.plan, node_id)
    node = NodeDiff(node_id, category, sides.plan.reasons.get(node_id, ""))
    if definitions:
        node = _with(
            node,
            definition=definition_diff(
                sides.production.nodes.get(node_id),
                sides.manifest.nodes.get(node_id),
                node_id,
                ("production", sides.env),
            ),
        )
    before = _output(sides.prod_view, node_id, engine)
    if category == "removed":
        rows = engine.row_count(before) if before else None
        return _with(node, rows_before=rows, note="removed: promote deletes production's output")
    if node_id not in sides.view.own:
        why = "metadata only: nothing runs" if category == "metadata" else "not recomputed"
        return _with(node, note=f"{why}; the env reads production's output")
    entry = sides.state.nodes.get(node_id)
    after = _output(sides.view, node_id, engine)
    if after is None or entry is None or not entry.ok:
        status = entry.status if entry else "not run"
        return _with(node, note=f"the env has no output of it ({status})")
    if before is None:
        note = "new node" if category == "added" else "production has no output of it"
        return _with(node, rows_after=engine.row_count(after), note=note)
    return _compared(sides, node, before, after, engine, examples)


def _compared(
    sides: _Sides, node: NodeDiff, before: Any, after: Any, engine: Engine, examples: int
) -> NodeDiff:
    key = declared_key(node.node_id, sides.manifest.nodes) or declared_key(
        node.node_id, sides.production.nodes
    )
    note = None
    if key is not None:
        for side, output in (("production's", before), (f"env '{sides.env}''s", after)):
            have = {name for name, _type in engine.schema(output)}
            missing = [c for c in key.columns if c not in have]
            if missing and note is None:
                note = (
                    f"key {', '.join(missing)} is not in {side} output: rows compared by count only"
                )
        key = None if note else key
    try:
        data = engine.compare(before, after, key.columns if key else (), examples)
    except SeeknalError as exc:
        return _with(node, note=f"not compared: {exc.message}")
    return _with(
        node,
        rows_before=data.rows_before,
        rows_after=data.rows_after,
        key=key,
        data=data,
        note=note,
    )


def _output(view: EnvView, node_id: str, engine: Engine) -> Any:
    """The node's output as `view` sees it, when it exists."""
    try:
        output = view.resolve(node_id).output
    except SeeknalError:  # no output of it there
        return None
    return output if engine.exists(output) else None


def _with(node: NodeDiff, **changes: Any) -> NodeDiff:
    from dataclasses import replace

    return replace(node, **changes)
