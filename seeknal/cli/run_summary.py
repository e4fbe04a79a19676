"""What a production run or an env apply prints when it ends: the summary line, the failures,
or the --json document in their place."""

from __future__ import annotations

import json
from typing import Any

from seeknal.cli.console import out, styled


def production_counts(outcome: Any) -> dict[str, int]:
    counts = {s: 0 for s in ("success", "failed", "skipped", "cached")}
    for res in outcome.results.values():
        counts[res.status.value] += 1
    unsupported = _unsupported(outcome)
    counts["unsupported"] = len(unsupported)
    counts["cached"] = len(outcome.plan.decisions) - len(outcome.plan.to_run) - len(unsupported)
    return counts


def _unsupported(outcome: Any) -> list[str]:
    return [d.node_id for d in outcome.plan.decisions if d.unsupported]


def production_summary(outcome: Any, counts: dict[str, int], elapsed: float) -> str:
    summary = (
        f"Done in {elapsed:.2f}s: {counts['success']} succeeded, {counts['cached']} cached, "
        f"{counts['failed']} failed, {counts['skipped']} skipped"
    )
    if not outcome.plan.to_run:
        summary = f"Nothing to do: all {counts['cached']} nodes are up to date."
    unsupported = _unsupported(outcome)
    if unsupported:
        summary = summary.rstrip(".") + (
            f"; {len(unsupported)} not executable yet ({', '.join(unsupported[:3])}"
            + (", ..." if len(unsupported) > 3 else "")
            + ")"
        )
        if not outcome.plan.to_run:
            summary = (
                f"Nothing to do: {counts['cached']} nodes up to date"
                + summary[summary.index(";") :]
            )
    return summary


def production_json(outcome: Any, counts: dict[str, int], elapsed: float) -> dict[str, Any]:
    nodes = []
    for decision in outcome.plan.decisions:
        res = outcome.results.get(decision.node_id)
        item: dict[str, Any] = {"id": decision.node_id, "reason": decision.reason}
        if res is None:
            item["status"] = "unsupported" if decision.unsupported else "cached"
        else:
            item.update(
                status=res.status.value,
                rows=res.row_count,
                duration_ms=res.duration_ms,
                error=res.error,
                warnings=res.warnings,
            )
        nodes.append(item)
    return {
        "run_id": outcome.run_id,
        "seconds": round(elapsed, 3),
        "counts": counts,
        "ok": not outcome.failed,
        "nodes": nodes,
        "removed_outputs": outcome.removed_outputs,
        "feature_store": [e.line() for e in outcome.entities],
        "warnings": list(outcome.plan.loaded.project.warnings),
    }


def print_production_outcome(outcome: Any, elapsed: float, quiet: bool, as_json: bool) -> None:
    counts = production_counts(outcome)
    if as_json:
        out(json.dumps(production_json(outcome, counts, elapsed), indent=2, sort_keys=True))
        return
    for rel in outcome.removed_outputs:
        out(f"Removed output of deleted node: {rel}")
    _entity_lines(outcome.entities)
    summary = production_summary(outcome, counts, elapsed)
    out(styled(summary, "red" if counts["failed"] else None, bold=True))
    if not outcome.failed:
        return
    if quiet:  # the progress lines were not shown: give the errors here
        for failed in outcome.failed:
            out(f"{failed.node_id}: {failed.error}", err=True)
            if failed.hint:
                out(f"  next: {failed.hint}", err=True)
    out(f"{len(outcome.failed)} node(s) failed; first: {outcome.failed[0].node_id}", err=True)


def apply_json(env: str, outcome: Any, counts: dict[str, int], elapsed: float) -> dict[str, Any]:
    return {
        "env": env,
        "ok": not outcome.failed,
        "seconds": round(elapsed, 3),
        "counts": counts,
        "reused": outcome.reused,
        "pending": outcome.held,
        "feature_store": [e.line() for e in outcome.entities],
        "nodes": [
            {
                "id": r.node_id,
                "status": r.status.value,
                "rows": r.row_count,
                "error": r.error,
                "warnings": list(r.warnings),
            }
            for r in outcome.results.values()
        ],
    }


def print_apply_outcome(env: str, outcome: Any, elapsed: float, quiet: bool, as_json: bool) -> None:
    counts = {"success": 0, "failed": 0, "skipped": 0}
    for res in outcome.results.values():
        counts[res.status.value] = counts.get(res.status.value, 0) + 1
    if as_json:
        out(json.dumps(apply_json(env, outcome, counts, elapsed), indent=2))
        return
    _entity_lines(outcome.entities)
    summary = (
        f"Env '{env}' done in {elapsed:.2f}s: {counts['success']} succeeded, "
        f"{counts['failed']} failed, {counts['skipped']} skipped"
        + (f", {len(outcome.reused)} reused" if outcome.reused else "")
    )
    out(styled(summary, "red" if outcome.failed else None, bold=True))
    if quiet:
        for failed in outcome.failed:
            out(f"{failed.node_id}: {failed.error}", err=True)
    if outcome.held and not outcome.failed:
        out(
            f"{len(outcome.held)} planned node(s) not selected are pending. "
            f"Next: seeknal run {env} (the whole plan, reusing what ran), then seeknal promote {env}"
        )
    elif not outcome.failed:
        out(f"Next: seeknal promote {env} (or merge the branch, with hooks installed)")


def _entity_lines(entities: list[Any]) -> None:
    """The feature store's merges: a failure is a warning (the run's nodes succeeded)."""
    for entity in entities:
        if entity.problem:
            out(styled(f"Warning: {entity.line()}", "yellow"), err=True)
        else:
            out(entity.line())
