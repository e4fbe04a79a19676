"""`seeknal report ENV` after `seeknal promote ENV`: the env was promoted (when, into
production), with what the report showed at promote time, read from the promotion's kept
history; or, when production moved on or the history is gone, why data changes are not
available. Never a warning that the plan is stale: a promoted plan is behind production by
nature."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from conftest import cli
from envkit import NAMES, applied_dev_env, edit, history_lines, promotions


def report_json(root: Path) -> dict[str, Any]:
    res = cli(root, "report", "dev", "--json")
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def adults_change(report: dict[str, Any]) -> dict[str, Any]:
    return next(d for d in report["data_changes"] if d["id"] == "transform.adults")


def test_report_after_promote_shows_promote_time_data(git_project: Path) -> None:
    root = applied_dev_env(git_project)
    before = report_json(root)
    assert cli(root, "promote", "dev").exit_code == 0
    promotion = promotions(root)[-1]

    after = report_json(root)
    assert after["stale"] is None
    assert after["promoted"] == {
        "into": "production",
        "time": promotion["time"],
        "promotion_id": promotion["id"],
        "data_unavailable": None,
    }
    # the same rows as before the promotion: production's 3 adults → the env's 2
    assert (adults_change(after)["rows_before"], adults_change(after)["rows_after"]) == (3, 2)
    assert adults_change(after) == adults_change(before)
    run = next(n for n in after["nodes"] if n["id"] == "transform.adults")["run"]
    assert run["prod_rows"] == 3

    text = cli(root, "report", "dev")
    assert text.exit_code == 0
    assert "stale" not in text.output
    assert f"Promoted into production at {promotion['time']} (promotion {promotion['id']})" in (
        text.stdout
    )
    assert "transform.adults" in text.stdout and "3 → 2 rows (-1)" in text.stdout
    md = cli(root, "report", "dev", "-f", "markdown").stdout
    assert "**Promoted into production**" in md and "stale" not in md
    # diff has nothing to compare any more, and says where the promote-time changes are
    res = cli(root, "diff", "dev")
    assert res.exit_code == 1
    assert "'seeknal report dev' shows what it changed, as at the promotion" in res.stderr


def test_report_after_production_moved_on_says_why_no_data(git_project: Path) -> None:
    root = applied_dev_env(git_project)
    assert cli(root, "promote", "dev").exit_code == 0
    edit(root, NAMES, "upper(name)", "lower(name)")
    assert cli(root, "run").exit_code == 0
    run_id = history_lines(root)[-1]["id"]

    report = report_json(root)
    assert report["stale"] is None and report["data_changes"] is None
    assert report["promoted"]["data_unavailable"] == (
        f"production changed since the promotion (run {run_id})"
    )
    text = cli(root, "report", "dev").stdout
    assert (
        f"Data changes are not available: production changed since the promotion (run {run_id})."
        in text
    )
    assert "stale" not in text
    md = cli(root, "report", "dev", "-f", "markdown").stdout
    assert f"_Not available: production changed since the promotion (run {run_id})._" in md


def test_report_after_history_pruned_says_why_no_data(git_project: Path) -> None:
    root = applied_dev_env(git_project)
    assert cli(root, "promote", "dev").exit_code == 0
    promotion_id = promotions(root)[-1]["id"]
    shutil.rmtree(root / "target/history" / promotion_id)

    report = report_json(root)
    assert report["data_changes"] is None and report["stale"] is None
    assert report["promoted"]["data_unavailable"] == (
        f"production's outputs from before promotion {promotion_id} are no longer kept "
        "(history: in seeknal_project.yml)"
    )
