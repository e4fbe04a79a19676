"""`seeknal run --env ENV`: execute what the plan needs, reading the rest from production."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from seeknal.context import Context, utc_now
from seeknal.digest import file_digest
from seeknal.engine import create_engine, open_early, require_engine
from seeknal.envs.access import check_fresh, locked, require_env, require_manifest
from seeknal.envs.resolve import EnvView
from seeknal.errors import EnvError
from seeknal.planning.select import SelectArgs
from seeknal.runner.feature_store import EntityOutcome, consolidate_env
from seeknal.runner.interrupts import Stopped, interrupted
from seeknal.state import atomic
from seeknal.state.access import sql_access
from seeknal.state.layout import Target
from seeknal.state.records import Manifest, NodeState, Plan, RunState
from seeknal.state.store import (
    read_refs,
    read_run_state,
    write_env_config,
    write_run_state,
)
from seeknal.types import Node, NodeStatus, Project

if TYPE_CHECKING:
    from seeknal.engine.warehouse import Warehouse
    from seeknal.runner.scheduler import NodeRun


@dataclass
class EnvRunOutcome:
    env: str
    plan: Plan
    to_run: list[str]
    reused: list[str]
    results: dict[str, NodeRun] = field(default_factory=dict)
    held: list[str] = field(default_factory=list)  # planned, not selected, not reusable
    entities: list[EntityOutcome] = field(default_factory=list)  # the feature store's merges

    @property
    def failed(self) -> list[NodeRun]:
        return [r for r in self.results.values() if r.status is NodeStatus.FAILED]


@dataclass(frozen=True)
class _Planned:
    """The env's planned snapshot, as this apply runs it."""

    project: Project  # rebuilt from the env's manifest: exactly what was planned
    manifest: Manifest
    previous: RunState  # the env's state before this apply
    planned: list[str]
    reused: list[str]
    view: EnvView  # what each node's input is read from
    held: tuple[str, ...] = ()  # planned nodes this apply leaves pending (not selected)


def apply_env(
    ctx: Context,
    env: str,
    force: bool = False,
    parallel: bool = False,
    max_workers: int = 4,
    on_done: Callable[[NodeRun], None] | None = None,
    on_start: Callable[[EnvRunOutcome], None] | None = None,
    profile: Path | None = None,
    selection: SelectArgs | None = None,
    on_node_start: Callable[[str], None] | None = None,
) -> EnvRunOutcome:
    """Run the env's planned nodes (only the selected ones, and with --nodes their planned
    downstream, when `selection` restricts it). The env counts as applied for promote only when
    every planned node succeeded: a node left out stays pending (`skipped`)."""
    from seeknal.project.profiles import check_uses

    target, config, plan = require_env(ctx, env)
    if config.promoted_plan_id == plan.plan_id:  # said before "stale": that is why it is
        raise EnvError(
            f"Environment '{env}' has already been promoted: production holds what its plan "
            "computes.",
            f"Plan it again ('seeknal plan {env}') to work on new changes.",
        )
    _use_planned_profile(ctx, env, plan, profile)
    with locked(ctx, f"seeknal run --env {env}"):
        if not force:
            check_fresh(ctx, env, plan)
        snap = _chosen(env, _planned(ctx, target, plan, force), selection)
        warehouse = ctx.warehouse(env)
        check_uses(warehouse.profile, (snap.project.nodes[n] for n in snap.planned))
        require_engine(ctx.engine_name(warehouse))
        to_run = [n for n in snap.planned if n not in snap.reused and n not in snap.held]
        outcome = EnvRunOutcome(env, plan, to_run, snap.reused, held=list(snap.held))
        if on_start:
            on_start(outcome)
        outcome.results, stopped = _execute(
            ctx,
            target,
            snap,
            outcome,
            warehouse,
            (parallel, max_workers),
            _env_hints(env, on_done),
            on_node_start,
        )
        now = utc_now()
        nodes = _env_nodes(ctx, target, snap, outcome.results, now)
        if not stopped:
            outcome.entities = _consolidate(ctx, target, snap, nodes, now)
        # stopped by Ctrl-C: what finished is kept for the next apply to reuse, but the env
        # does not count as applied (it cannot be promoted half done)
        applied = None if stopped else plan.plan_id
        write_run_state(target, RunState.applied(ctx.run_id, now, applied, force, nodes))
        write_env_config(target, config.touched(now))
        ctx.save_cache()
    if stopped:
        state_file = target.relative(target.run_state_path)
        raise interrupted(outcome.results, to_run, state_file, f"seeknal run --env {env}")
    return outcome


def _consolidate(
    ctx: Context, target: Target, snap: _Planned, nodes: dict[str, NodeState], now: str
) -> list[EntityOutcome]:
    """The env's consolidated feature store files, from its feature groups as it sees them."""
    from seeknal.errors import SeeknalError

    def output_of(node_id: str) -> Path | None:
        try:
            return snap.view.resolve(node_id).output.path
        except SeeknalError:
            return None

    own = {n for n, entry in nodes.items() if entry.ok and not entry.ref}
    every = list(snap.project.nodes.values())
    return consolidate_env(target, ctx.production, every, own, output_of, now, ctx.cache.data)


def _use_planned_profile(ctx: Context, env: str, plan: Plan, profile: Path | None) -> None:
    """The profile the env was planned with, whatever the chain would pick today (`--profile`
    must name it); the database the run needs starts opening meanwhile."""
    _check_profile(ctx, env, plan, profile)
    if plan.nodes_to_execute:
        open_early()  # while the plan is checked against the project and production
    ctx.use_profile(plan.profile_path)


def _check_profile(ctx: Context, env: str, plan: Plan, profile: Path | None) -> None:
    """`--profile` on `run --env` must name the profile the plan recorded."""
    from seeknal.project.profiles import ProfileError, resolve_profile_path

    if profile is None:
        return
    wanted = resolve_profile_path(ctx.root, env, profile)
    if wanted != plan.profile_path:
        recorded = plan.profile_path or "no profile file"
        raise ProfileError(
            f"Env '{env}' was planned with {recorded}, not {wanted}.",
            f"Plan it with that profile first: seeknal plan {env} --profile {profile}",
        )


def _execute(
    ctx: Context,
    target: Target,
    snap: _Planned,
    outcome: EnvRunOutcome,
    warehouse: Warehouse,
    workers: tuple[bool, int],  # --parallel, --max-workers
    on_done: Callable[[NodeRun], None] | None,
    on_node_start: Callable[[str], None] | None = None,
) -> tuple[dict[str, NodeRun], bool]:
    """Run the nodes the env computes: their runs, and whether Ctrl-C stopped them."""
    from seeknal.runner.scheduler import RunRequest, execute

    if not outcome.to_run:
        return {}, False
    request = RunRequest(
        project=snap.project,
        to_run=outcome.to_run,
        reasons=dict(outcome.plan.reasons),
        output_for=target.output,
        resolve_input=lambda node_id: snap.view.resolve(node_id).output,
        parallel=workers[0],
        max_workers=workers[1],
        on_done=on_done,
        on_node_start=on_node_start,
        digest_memo=ctx.cache.data,
    )
    access = sql_access(target, snap.project, ctx.load_settings().get("sql_sandbox", True))
    engine_name = ctx.engine_name(warehouse)
    if engine_name == "spark":
        from seeknal.planning.portable import check_portable

        check_portable(snap.project.nodes[n] for n in request.to_run)
    with closing(
        create_engine(engine_name, ctx.root, warehouse, access, request.workers)
    ) as engine:
        try:
            return execute(request, engine), False
        except Stopped as stop:
            return stop.finished, True


def _planned(ctx: Context, target: Target, plan: Plan, force: bool) -> _Planned:
    """Check the production outputs the env reads, then pick the env outputs to reuse."""
    from seeknal.planning.manifest import project_from_manifest

    view = EnvView(
        target.env,
        ctx.production,
        {},
        read_refs(target).by_node(),
        memo=ctx.cache.data,
        strict=not force,  # --force: production outputs only have to exist
    )
    view.check_refs()
    # half-written outputs of an env run that was killed: nobody else writes here (lock)
    atomic.remove_temp_files(target.dir)
    manifest = require_manifest(target)
    snapshot = project_from_manifest(manifest.to_json(), str(ctx.root))
    previous = read_run_state(target)
    planned = [n for n in plan.nodes_to_execute if n in snapshot.nodes]
    reused = [
        n
        for n in planned
        if _reusable(target, snapshot.nodes[n], previous.nodes.get(n), manifest, ctx)
    ]
    own = {n: target.output(snapshot.nodes[n]) for n in planned}
    return _Planned(snapshot, manifest, previous, planned, reused, replace(view, own=own))


def _env_nodes(
    ctx: Context, target: Target, snap: _Planned, results: dict[str, NodeRun], now: str
) -> dict[str, NodeState]:
    """The env's run-state entries: executed, reused from an earlier apply, or read from
    production."""
    from seeknal.runner.production import state_entry

    prod_nodes = read_run_state(ctx.production).nodes
    nodes: dict[str, NodeState] = {}
    for node_id in snap.project.order:
        fp = snap.manifest.nodes[node_id]["fingerprint"]
        if node_id in results:
            nodes[node_id] = state_entry(target, fp, results[node_id], now)
        elif node_id in snap.reused:
            nodes[node_id] = snap.previous.nodes[node_id].reused()
        elif node_id in snap.held:
            nodes[node_id] = NodeState.held(fp)
        elif node_id in snap.view.refs:
            ref = snap.view.refs[node_id]
            nodes[node_id] = NodeState.production_ref(fp, ref, prod_nodes.get(node_id))
    return nodes


def _reusable(
    target: Target, node: Node, entry: NodeState | None, manifest: Manifest, ctx: Context
) -> bool:
    """An env output from an earlier apply of the same node definition can be kept."""
    if not entry or entry.ref or not entry.ok:
        return False
    if entry.hash != manifest.nodes[node.id]["fingerprint"]:
        return False
    path = target.output(node).path
    return path.is_file() and file_digest(path, ctx.cache.data) == entry.output_digest


def _chosen(env: str, snap: _Planned, selection: SelectArgs | None) -> _Planned:
    """Narrow the planned nodes to the selection; refuse one whose input would be missing."""
    from seeknal.dag import Dag
    from seeknal.planning.select import resolve, within

    if not selection:
        return snap
    nodes = snap.project.nodes
    dag = Dag({n: node.inputs for n, node in nodes.items()})
    picked = resolve(snap.project, dag, selection)
    chosen = within(dag, picked, snap.planned) if picked else set(snap.planned)
    if not chosen:
        raise EnvError(
            f"None of the selected nodes is in env '{env}''s plan: the env reads them from "
            "production.",
            f"'seeknal plan {env}' lists the planned nodes; select among them, or run the whole "
            f"plan: seeknal run {env}",
        )
    reused = [n for n in snap.reused if n not in chosen]
    held = tuple(n for n in snap.planned if n not in chosen and n not in reused)
    for node_id in (n for n in snap.planned if n in chosen):
        missing = [up for up in nodes[node_id].inputs if up in held]
        if missing:
            raise EnvError(
                f"{node_id} reads {missing[0]}, which env '{env}' has not computed for its "
                "current plan, and the selection leaves it out.",
                f"Select it too: seeknal run {env} --select +{node_id}, or run the whole "
                f"plan: seeknal run {env}",
            )
    return replace(snap, reused=reused, held=held)


def _env_hints(
    env: str, on_done: Callable[[NodeRun], None] | None
) -> Callable[[NodeRun], None] | None:
    """Hints that name `seeknal run --nodes X` name this env, where that reruns the node."""

    def done(result: NodeRun) -> None:
        if result.hint:
            result.hint = result.hint.replace("seeknal run --nodes", f"seeknal run {env} --nodes")
        if on_done is not None:
            on_done(result)

    return done
