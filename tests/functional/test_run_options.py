"""`seeknal run` options (--full, --nodes, --dry-run, --json, --quiet) and `seeknal plan`."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import (
    SMALL_ROWS,
    cli,
    output,
    ran,
    run_json,
    run_state,
    seeknal_cmd,
    snapshot,
    statuses,
)

ADULTS = "seeknal/transforms/adults.yml"


def edit_adults(root: Path) -> None:
    path = root / ADULTS
    path.write_text(path.read_text().replace("age >= 18", "age >= 30"))


def test_full_runs_every_node(small: Path) -> None:
    assert cli(small, "run").exit_code == 0
    res, summary = run_json(small, "--full")
    assert res.exit_code == 0
    assert statuses(summary) == dict.fromkeys(SMALL_ROWS, "success")
    assert {n["reason"] for n in summary["nodes"]} == {"--full"}
    assert summary["counts"] == {
        "success": 4,
        "cached": 0,
        "failed": 0,
        "skipped": 0,
        "unsupported": 0,
    }
    assert {e["status"] for e in run_state(small)["nodes"].values()} == {"success"}


def test_nodes_selects_a_node_with_its_downstream(small: Path) -> None:
    assert cli(small, "run").exit_code == 0
    res, summary = run_json(small, "--nodes", "transform.adults")
    assert res.exit_code == 0
    assert ran(summary) == {"transform.adults", "transform.city_counts"}


def test_nodes_accepts_names_and_comma_lists(small: Path) -> None:
    assert cli(small, "run").exit_code == 0
    _, summary = run_json(small, "-n", "names,city_counts")
    assert ran(summary) == {"transform.names", "transform.city_counts"}
    _, summary = run_json(small, "-n", "source.people")
    assert ran(summary) == set(SMALL_ROWS)


def test_nodes_with_an_unknown_name_suggests_ids(small: Path) -> None:
    res = cli(small, "run", "--nodes", "adultz")
    assert res.exit_code == 1
    assert "adultz" in res.stderr and "transform.adults" in res.stderr
    assert not (small / "target" / "run_state.json").exists()


def test_dry_run_on_a_fresh_project_creates_nothing(small: Path) -> None:
    res = cli(small, "run", "--dry-run")
    assert res.exit_code == 0, res.output
    assert "Dry run" in res.stdout
    assert "4 node(s) to run, 0 cached." in res.stdout
    for node_id in SMALL_ROWS:
        assert node_id in res.stdout
    assert not (small / "target").exists()


def test_dry_run_after_a_change_writes_nothing(small: Path) -> None:
    assert cli(small, "run").exit_code == 0
    edit_adults(small)
    output(small, "transform.names").unlink()
    before = snapshot(small / "target")
    res = cli(small, "run", "--dry-run")
    assert res.exit_code == 0, res.output
    lines = {line.split()[1]: line for line in res.stdout.splitlines() if line.startswith("  ")}
    assert lines["transform.adults"].split()[0] == "run"
    assert lines["transform.names"].split()[0] == "run"
    assert "output file missing" in lines["transform.names"]
    assert lines["source.people"].split()[0] == "cached"
    assert snapshot(small / "target") == before
    # the real run then does what the dry run said
    _, summary = run_json(small)
    assert ran(summary) == {"transform.adults", "transform.city_counts", "transform.names"}


def test_dry_run_json(small: Path) -> None:
    res = cli(small, "run", "--dry-run", "--json")
    assert res.exit_code == 0
    data = json.loads(res.stdout)
    assert data["to_run"] == [n["id"] for n in data["nodes"] if n["action"] == "run"]
    assert set(data["to_run"]) == set(SMALL_ROWS)
    assert not (small / "target").exists()


def test_json_summary_is_valid_and_matches_the_run_state(small: Path) -> None:
    res = cli(small, "run", "--json")
    assert res.exit_code == 0
    summary = json.loads(res.stdout)  # stdout holds the JSON and nothing else
    assert summary["ok"] is True
    assert summary["counts"] == {
        "success": 4,
        "cached": 0,
        "failed": 0,
        "skipped": 0,
        "unsupported": 0,
    }
    assert summary["run_id"] == run_state(small)["run_id"]
    by_id = {n["id"]: n for n in summary["nodes"]}
    assert {nid: n["rows"] for nid, n in by_id.items()} == SMALL_ROWS
    assert all(n["error"] is None for n in summary["nodes"])


def test_quiet_prints_only_the_summary(small: Path) -> None:
    res = cli(small, "run", "--quiet")
    assert res.exit_code == 0
    assert res.stdout.strip().splitlines()[-1].startswith("Done in")
    assert "transform.adults" not in res.stdout


def test_plan_prints_run_or_cached_with_reasons_and_writes_no_state(small: Path) -> None:
    first = cli(small, "plan")
    assert first.exit_code == 0, first.output
    assert first.stdout.count("new node") == 4
    assert cli(small, "run").exit_code == 0
    edit_adults(small)
    state_before = (small / "target" / "run_state.json").read_bytes()
    manifest_before = (small / "target" / "manifest.json").read_bytes()
    res = cli(small, "plan")
    assert res.exit_code == 0, res.output
    actions = {
        line.split()[1]: (line.split()[0], " ".join(line.split()[2:]))
        for line in res.stdout.splitlines()
        if line.startswith("  ")
    }
    assert actions == {
        "source.people": ("cached", "unchanged"),
        "transform.adults": ("run", "SQL or config changed"),
        "transform.city_counts": ("run", "upstream transform.adults runs"),
        "transform.names": ("cached", "unchanged"),
    }
    assert "2 node(s) to run, 2 cached." in res.stdout
    assert (small / "target" / "run_state.json").read_bytes() == state_before
    assert (small / "target" / "manifest.json").read_bytes() == manifest_before


def test_plan_json(small: Path) -> None:
    res = cli(small, "plan", "--json")
    assert res.exit_code == 0
    data = json.loads(res.stdout)
    assert {n["id"]: n["action"] for n in data["nodes"]} == dict.fromkeys(SMALL_ROWS, "run")


def test_usage_errors_exit_2(small: Path) -> None:
    assert cli(small, "run", "--no-such-option").exit_code == 2
    assert cli(small, "run", "--max-workers", "0").exit_code == 2
    assert not (small / "target").exists()


def test_bad_params_json_is_a_usage_error(small: Path) -> None:
    """Exit code 2 like every invalid option value, for each command that takes --params."""
    for command in (("run",), ("plan",), ("plan", "dev"), ("env", "plan", "dev"), ("run", "dev")):
        res = cli(small, *command, "--params", "{not json")
        assert res.exit_code == 2, (command, res.output)
        assert "Invalid value for '--params': not valid JSON" in res.stderr
        assert """pass a JSON object, e.g. --params '{"run_date": "2024-01-31"}'""" in (
            " ".join(res.stderr.replace("│", " ").split())
        )
        res = cli(small, *command, "--params", "[1, 2]")
        assert res.exit_code == 2, (command, res.output)
        assert "it must be a JSON object" in res.stderr
    for command in (("run",), ("plan",)):  # the installed command, past its quick paths
        proc = seeknal_cmd(small, *command, "--params", "notjson")
        assert proc.exit_code == 2 and "Invalid value for '--params'" in proc.stderr
    assert not (small / "target").exists()


def test_project_path_option(small: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    res = cli(elsewhere, "run", "-p", str(small))
    assert res.exit_code == 0, res.output
    assert output(small, "transform.adults").is_file()
    assert not (elsewhere / "target").exists()
    res = cli(elsewhere, "run", "--project-path", str(elsewhere))
    assert res.exit_code == 1
    assert "not a seeknal project" in res.stderr


def test_outside_a_project_says_how_to_start_one(tmp_path: Path) -> None:
    res = cli(tmp_path, "run")
    assert res.exit_code == 1
    assert "No seeknal project found" in res.stderr
    assert "seeknal init" in res.stderr
