"""Building report models from saved state: the env's plan, its manifest and its run results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from seeknal.context import Context
from seeknal.envs.access import check_fresh, require_env, require_manifest
from seeknal.envs.diff import data_changes, promoted_data_changes
from seeknal.envs.diff_json import node_json
from seeknal.envs.promoted import promoted
from seeknal.envs.resolve import EnvView, env_view, production_view
from seeknal.errors import SeeknalError
from seeknal.report.model import build_report
from seeknal.state.records import EnvConfig, Manifest, Plan, RunState
from seeknal.state.store import read_run_state
from seeknal.types import Output


def env_report(ctx: Context, env: str) -> tuple[dict[str, Any], str | None]:
    """The report of env's saved plan, with run results when the plan was applied.

    Returns the model and the plan's profile path (for redacting its secrets)."""
    target, config, plan = require_env(ctx, env)
    manifest = require_manifest(target)
    state = read_run_state(target)
    if state.plan_id == plan.plan_id and config.promoted_plan_id == plan.plan_id:
        return _promoted_report(ctx, env, config, plan, manifest, state), plan.profile_path
    run = data = None
    if state.plan_id == plan.plan_id:
        run = run_details(ctx, plan, state, env_view(ctx, target, plan, manifest, state))
        data = [node_json(n) for n in data_changes(ctx, env)]
    stale = None
    try:
        check_fresh(ctx, env, plan)
    except SeeknalError as exc:  # YAML or production moved on (or the YAML no longer loads)
        stale = exc.message.splitlines()[0]
    report = build_report(plan, manifest.to_json(), run, stale=stale, data_changes=data)
    return report, plan.profile_path


def _promoted_report(
    ctx: Context, env: str, config: EnvConfig, plan: Plan, manifest: Manifest, state: RunState
) -> dict[str, Any]:
    """A promoted env's report as it was at promote time (production before the promotion
    against the outputs it promoted), or saying why its data changes are no longer available.
    Its plan is naturally behind production now: that is not staleness."""
    seen = promoted(ctx, env, config)
    run = data = None
    if seen.before is not None and seen.after is not None:
        run = run_details(ctx, plan, state, seen.after, seen.before_state, seen.before)
        data = [node_json(n) for n in promoted_data_changes(ctx, env, seen)]
    report = build_report(plan, manifest.to_json(), run, data_changes=data)
    report["promoted"] = {
        "into": "production",
        "time": seen.time,
        "promotion_id": seen.promotion_id,
        "data_unavailable": seen.unavailable,
    }
    return report


def run_details(
    ctx: Context,
    plan: Plan,
    state: RunState,
    env: EnvView,
    prod_state: RunState | None = None,
    prod_view: EnvView | None = None,
) -> dict[str, Any]:
    """Per executed node: its status, rows and time in the env, against production's rows and
    schema (production now, or `prod_state`/`prod_view`: production as it was)."""
    prod_state = prod_state or read_run_state(ctx.production)
    prod, prod_view = prod_state.nodes, prod_view or production_view(ctx, prod_state)
    details: dict[str, Any] = {}
    for node_id in plan.nodes_to_execute:
        entry = state.nodes.get(node_id)
        if not entry:
            continue
        prod_entry = prod.get(node_id)
        rows, prod_rows = entry.row_count, prod_entry.row_count if prod_entry else None
        details[node_id] = {
            "status": entry.status,
            "rows": rows,
            "seconds": round((entry.duration_ms or 0) / 1000, 3),
            "prod_rows": prod_rows,
            "row_delta": rows - prod_rows if rows is not None and prod_rows is not None else None,
            "schema_changes": schema_changes(
                ctx.root,
                _seen(env, node_id) if entry.output_path else None,
                _seen(prod_view, node_id),
            ),
        }
    return details


def _seen(view: EnvView, node_id: str) -> Path | None:
    try:
        seen = view.resolve(node_id)
    except SeeknalError:  # no output of it there (production never computed it)
        return None
    return view.check_intact(seen).path  # a damaged file is named, not read


def schema_changes(root: Path, env_file: Path | None, prod_file: Path | None) -> list[str]:
    if env_file is None or prod_file is None:
        return []
    if env_file.suffix != ".parquet" or prod_file.suffix != ".parquet":
        return []
    if not env_file.is_file() or not prod_file.is_file():
        return []
    from seeknal.engine import DEFAULT_ENGINE, create_engine

    engine = create_engine(DEFAULT_ENGINE, root)
    try:
        new = dict(engine.schema(Output.file(env_file)))
        old = dict(engine.schema(Output.file(prod_file)))
    finally:
        engine.close()
    changes = [f"+{c} {t}" for c, t in new.items() if c not in old]
    changes += [f"-{c}" for c in old if c not in new]
    changes += [f"{c}: {old[c]} → {t}" for c, t in new.items() if c in old and old[c] != t]
    return changes
