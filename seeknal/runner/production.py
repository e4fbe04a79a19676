"""Production runs: decide with `plan`, execute with `executor`, record with `state`."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from seeknal.context import Context, Loaded, utc_now
from seeknal.engine import create_engine, open_early, require_engine
from seeknal.errors import SeeknalError
from seeknal.planning.fingerprint import entries_fingerprint
from seeknal.planning.production import Decision, production_decisions
from seeknal.planning.select import SelectArgs, resolve
from seeknal.project.outputs import data_files, may_delete
from seeknal.runner.feature_store import EntityOutcome, consolidate_production
from seeknal.runner.interrupts import Stopped, interrupted
from seeknal.runner.scheduler import NodeRun, RunRequest, execute
from seeknal.state import atomic, temps
from seeknal.state.access import sql_access
from seeknal.state.guard import mutating
from seeknal.state.layout import Target
from seeknal.state.output_check import output_states
from seeknal.state.records import Manifest, NodeState, Promotion, RunState
from seeknal.state.store import read_manifest, read_run_state, write_manifest, write_run_state
from seeknal.types import NodeStatus, Project

if TYPE_CHECKING:
    from seeknal.engine.warehouse import Warehouse


@dataclass
class ProductionPlan:
    loaded: Loaded
    decisions: list[Decision]
    removed: list[str]
    state: RunState  # production's run state and manifest as planned from (a run holds the
    manifest: Manifest | None  # lock from planning to recording, so they are still current)

    @property
    def to_run(self) -> list[str]:
        return [d.node_id for d in self.decisions if d.run]


@dataclass
class RunOutcome:
    plan: ProductionPlan
    results: dict[str, NodeRun] = field(default_factory=dict)
    removed_outputs: list[str] = field(default_factory=list)
    run_id: str = ""
    history: Promotion | None = None  # its line in promotions.jsonl, when it changed outputs
    entities: list[EntityOutcome] = field(default_factory=list)  # the feature store's merges

    @property
    def failed(self) -> list[NodeRun]:
        return [r for r in self.results.values() if r.status is NodeStatus.FAILED]


def select_nodes_exact(project: Project, names: Iterable[str]) -> list[str]:
    """Resolve node ids or unique names (comma lists allowed) to ids."""
    names = list(names)
    chosen: list[str] = []
    by_name: dict[str, list[str]] = {}
    for node in project.nodes.values():
        by_name.setdefault(node.name, []).append(node.id)
    for raw in names:
        for name in (part.strip() for part in raw.split(",")):
            if not name:
                continue
            if name in project.nodes:
                chosen.append(name)
            elif len(by_name.get(name, [])) == 1:
                chosen.append(by_name[name][0])
            else:
                options = by_name.get(name) or difflib.get_close_matches(
                    name, list(project.nodes), n=3, cutoff=0.4
                )
                raise SeeknalError(
                    f"No node '{name}'"
                    + (f"; did you mean {', '.join(options)}?" if options else "."),
                    "Use node ids (kind.name) or unique node names; 'seeknal plan' lists them.",
                )
    if names and not chosen:
        raise SeeknalError(
            f"No node selected: {', '.join(repr(n) for n in names)} names no node.",
            "Pass node ids (kind.name) or names, e.g. --nodes transform.orders, or leave the "
            "option out.",
        )
    return chosen


def plan_production(
    ctx: Context,
    full: bool = False,
    nodes: SelectArgs | Iterable[str] = (),
    loaded: Loaded | None = None,
) -> ProductionPlan:
    loaded = loaded or ctx.load()
    target = ctx.production
    state = read_run_state(target)
    recorded = read_manifest(target)
    manifest = recorded or Manifest()
    args = nodes if isinstance(nodes, SelectArgs) else SelectArgs.of(nodes)
    selection = resolve(loaded.project, loaded.dag, args)
    valid, changed = output_states(target, loaded.project, state.nodes, ctx.cache.data)
    decisions = production_decisions(
        loaded.project,
        loaded.dag,
        loaded.fingerprints,
        {n: entry.to_json() for n, entry in state.nodes.items()},
        manifest.nodes,
        valid,
        full=full,
        selected=selection.direct if selection else None,
        changed_outputs=changed,
        allowed=selection.allowed if selection else None,
        option=selection.option if selection else "--nodes",
    )
    removed = sorted(set(state.nodes) - set(loaded.project.nodes))
    return ProductionPlan(loaded, decisions, removed, state, recorded)


def run_production(
    ctx: Context,
    full: bool = False,
    nodes: SelectArgs | Iterable[str] = (),
    parallel: bool = False,
    max_workers: int = 4,
    on_done: Callable[[NodeRun], None] | None = None,
    on_plan: Callable[[ProductionPlan], None] | None = None,
    command: str = "seeknal run",
    profile: Path | None = None,
    on_node_start: Callable[[str], None] | None = None,
    git_commit: str | None = None,
) -> RunOutcome:
    from seeknal.project.profiles import check_uses, resolve_profile_path
    from seeknal.state.history import record_run

    target = ctx.production
    ctx.use_profile(resolve_profile_path(ctx.root, None, profile))
    loaded = ctx.load()  # load errors are reported before anything under target/ is touched
    if full and loaded.project.nodes:
        open_early()  # --full executes every node: the database opens while they are planned
    warehouse = ctx.warehouse()
    check_uses(warehouse.profile, loaded.project.nodes.values())
    require_engine(ctx.engine_name(warehouse))
    with mutating(target.base, ctx.root, command):
        plan = plan_production(ctx, full, nodes, loaded)
        if on_plan:
            on_plan(plan)
        outcome = RunOutcome(plan, run_id=ctx.run_id)
        # Ctrl-C: what finished is recorded like any run's results, then the run says it stopped
        outcome.results, stopped = _execute_plan(
            ctx, plan, warehouse, parallel, max_workers, on_done, on_node_start
        )
        outcome.removed_outputs = _remove_outputs(target, plan.removed, plan.loaded.project)
        if not stopped:
            ran = {n for n, r in outcome.results.items() if r.status is NodeStatus.SUCCESS}
            every = list(plan.loaded.project.nodes.values())
            outcome.entities = consolidate_production(target, every, ran, utc_now())
        state = plan.state
        new_state = record_results(target, plan.loaded, state, outcome.results, ctx)
        write_run_state(target, new_state)
        manifest = production_manifest(plan.loaded, plan.manifest, new_state.nodes)
        write_manifest(target, manifest)
        outcome.history = record_run(
            target.base, state, new_state, plan.removed, manifest.fingerprint, git_commit
        )
        ctx.save_cache()
    if stopped:
        again = f"{command} --full" if full else command  # what --full left is up to date
        raise interrupted(outcome.results, plan.to_run, "target/run_state.json", again)
    return outcome


def _execute_plan(
    ctx: Context,
    plan: ProductionPlan,
    warehouse: Warehouse,
    parallel: bool,
    max_workers: int,
    on_done: Callable[[NodeRun], None] | None,
    on_node_start: Callable[[str], None] | None = None,
) -> tuple[dict[str, NodeRun], bool]:
    """Run the plan's nodes: their runs, and whether Ctrl-C stopped them."""
    target, project = ctx.production, plan.loaded.project
    if not plan.to_run:
        return {}, False
    open_early()  # unless --full started it: while the run gets ready below
    # exposures write beside their file, outside target/: recovery must know where
    folders = {target.output(project.nodes[n]).path.parent for n in plan.to_run}
    temps.note_folders(target.base, ctx.root, folders)
    request = RunRequest(
        project=project,
        to_run=plan.to_run,
        reasons={d.node_id: d.reason for d in plan.decisions},
        output_for=target.output,
        resolve_input=lambda nid: target.output(project.nodes[nid]),
        parallel=parallel,
        max_workers=max_workers,
        on_done=on_done,
        on_node_start=on_node_start,
        digest_memo=ctx.cache.data,
    )
    access = sql_access(target, project, project.settings.get("sql_sandbox", True))
    engine_name = ctx.engine_name(warehouse)
    if engine_name == "spark":
        from seeknal.planning.portable import check_portable

        check_portable(project.nodes[n] for n in request.to_run)
    with closing(
        create_engine(engine_name, ctx.root, warehouse, access, request.workers)
    ) as engine:
        try:
            return execute(request, engine), False
        except Stopped as stop:
            return stop.finished, True


def production_manifest(
    loaded: Loaded, previous: Manifest | None, state_nodes: Mapping[str, NodeState]
) -> Manifest:
    """The manifest production really holds: a node that did not (successfully) run for its
    current definition keeps its previous entry, so env plans diff against what production
    outputs were computed from."""
    manifest = loaded.manifest()
    old_nodes = previous.nodes if previous else {}
    for node_id, entry in list(manifest["nodes"].items()):
        state = state_nodes.get(node_id)
        current = state is not None and state.hash == entry["fingerprint"] and state.ok
        if not current and node_id in old_nodes:
            manifest["nodes"][node_id] = old_nodes[node_id]
    manifest["fingerprint"] = entries_fingerprint(
        {n: (e["fingerprint"], e["metadata_hash"]) for n, e in manifest["nodes"].items()}
    )
    return Manifest.of(manifest)


def record_results(
    target: Target,
    loaded: Loaded,
    previous: RunState,
    results: dict[str, NodeRun],
    ctx: Context,
) -> RunState:
    now = utc_now()
    nodes: dict[str, NodeState] = {}
    for node_id in loaded.project.order:
        fp = loaded.fingerprints[node_id].fingerprint
        run = results.get(node_id)
        old = previous.nodes.get(node_id)
        if run is None:
            if old is not None:
                nodes[node_id] = old.kept()
            continue
        nodes[node_id] = state_entry(target, fp, run, now)
    return RunState.production(ctx.run_id, now, nodes)


def state_entry(target: Target, fingerprint: str, run: NodeRun, now: str) -> NodeState:
    """A node's run-state entry after it executed (or failed, or was skipped)."""
    output = target.relative(run.output.path) if run.output else None
    return NodeState.executed(fingerprint, run, output, now)


def _remove_outputs(target: Target, removed: list[str], project: Project) -> list[str]:
    """Delete outputs of nodes that no longer exist: only files such a node may write (never a
    source's data file, a node file or anything outside the project; `may_delete`)."""
    gone: list[str] = []
    if not removed:
        return gone
    manifest, data = read_manifest(target), data_files(project.nodes)
    state = read_run_state(target)
    old_nodes = manifest.nodes if manifest else {}
    for node_id in removed:
        entry = state.nodes.get(node_id)
        rel = entry.output_path if entry else None
        if not rel and node_id in old_nodes:
            # its last run failed (no output recorded): an older output may still be there
            from seeknal.planning.manifest import project_from_manifest

            node = project_from_manifest({"nodes": {node_id: old_nodes[node_id]}}, "").nodes
            rel = target.relative(target.output(node[node_id]).path)
        if not rel:
            continue
        path = target.absolute(rel)
        if not may_delete(target.root, rel, data):
            continue
        if path.is_file():
            path.unlink()
            gone.append(rel)
    if gone:
        atomic.fsync_dir(target.cache_dir)
    return gone
