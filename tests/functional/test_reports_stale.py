"""A report of a plan the YAML or production has moved past says so."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import cli, small_project

ADULTS = "seeknal/transforms/adults.yml"


def test_report_of_a_stale_plan_warns(git_project: Path) -> None:
    small_project(git_project)
    assert cli(git_project, "run").exit_code == 0
    adults = git_project / ADULTS
    adults.write_text(adults.read_text().replace("age >= 18", "age >= 30"))
    assert cli(git_project, "plan", "dev").exit_code == 0
    fresh = json.loads(cli(git_project, "report", "dev", "-f", "json").stdout)
    assert fresh["stale"] is None

    adults.write_text(adults.read_text().replace("age >= 30", "age >= 40"))
    stale = json.loads(cli(git_project, "report", "dev", "-f", "json").stdout)
    assert stale["stale"].startswith("Plan is stale -- manifest has changed")
    markdown = cli(git_project, "report", "dev", "-f", "markdown").stdout
    assert "This plan is stale:" in markdown and "Run `seeknal plan dev` again" in markdown
    text = cli(git_project, "report", "dev").stdout
    assert "WARNING: this plan is stale" in text


def test_an_unknown_report_format_is_a_usage_error(git_project: Path) -> None:
    small_project(git_project)
    assert cli(git_project, "plan", "dev").exit_code == 0
    res = cli(git_project, "report", "dev", "-f", "xml")
    assert res.exit_code == 2
    assert "use one of text, markdown, html, json" in res.output
