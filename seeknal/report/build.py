"""Building report models from saved state: the env's plan, its manifest and its run results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from seeknal.context import Context
from seeknal.envs.access import check_fresh, require_env
from seeknal.errors import SeeknalError
from seeknal.report.model import build_report
from seeknal.state import atomic
from seeknal.state.store import read_run_state
from seeknal.types import Output


def env_report(ctx: Context, env: str) -> tuple[dict[str, Any], str | None]:
    """The report of env's saved plan, with run results when the plan was applied.

    Returns the model and the plan's profile path (for redacting its secrets)."""
    target, _config, plan = require_env(ctx, env)
    manifest = atomic.read_json(target.manifest_path, "Environment manifest", "") or {}
    state = atomic.read_json(target.run_state_path, "Run state", "") or {}
    run = None
    if state.get("plan_id") == plan.get("plan_id"):
        run = run_details(ctx, plan, state)
    stale = None
    try:
        check_fresh(ctx, env, plan)
    except SeeknalError as exc:  # YAML or production moved on (or the YAML no longer loads)
        stale = exc.message.splitlines()[0]
    return build_report(plan, manifest, run, stale=stale), plan.get("profile_path")


def run_details(ctx: Context, plan: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    prod = read_run_state(ctx.production)["nodes"]
    details: dict[str, Any] = {}
    for node_id in plan.get("nodes_to_execute", []):
        entry = state.get("nodes", {}).get(node_id)
        if not entry:
            continue
        prod_entry = prod.get(node_id) or {}
        rows, prod_rows = entry.get("row_count"), prod_entry.get("row_count")
        details[node_id] = {
            "status": entry.get("status"),
            "rows": rows,
            "seconds": round((entry.get("duration_ms") or 0) / 1000, 3),
            "prod_rows": prod_rows,
            "row_delta": rows - prod_rows if rows is not None and prod_rows is not None else None,
            "schema_changes": schema_changes(
                ctx.root,
                ctx.production.absolute(entry["output_path"]) if entry.get("output_path") else None,
                ctx.production.absolute(prod_entry["output_path"])
                if prod_entry.get("output_path")
                else None,
            ),
        }
    return details


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
