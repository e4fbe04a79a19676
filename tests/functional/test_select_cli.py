"""Selectors on `run` and `plan` (production and env runs): --select/-s, --nodes, --exclude."""

from __future__ import annotations

from pathlib import Path

from conftest import cli, ran, run_json, write_tree

ADULTS = "seeknal/transforms/adults.yml"
TRANSFORMS = {"transform.adults", "transform.city_counts", "transform.names"}


def _tag_names(root: Path) -> None:
    path = root / "seeknal/transforms/names.yml"
    path.write_text(path.read_text().replace("name: names\n", "name: names\ntags: [daily]\n"))


def test_select_runs_exactly_the_selection_nodes_adds_downstream(small: Path) -> None:
    assert cli(small, "run").exit_code == 0
    res, summary = run_json(small, "-s", "adults")
    assert res.exit_code == 0, res.output
    assert ran(summary) == {"transform.adults"}
    res, summary = run_json(small, "--nodes", "adults")
    assert ran(summary) == {"transform.adults", "transform.city_counts"}
    res, summary = run_json(small, "--select", "adults+")
    assert ran(summary) == {"transform.adults", "transform.city_counts"}


def test_upstream_glob_tag_kind_path_and_exclude(small: Path) -> None:
    _tag_names(small)
    assert cli(small, "run").exit_code == 0
    cases = {
        ("-s", "+city_counts", "--exclude", "source.people"): {
            "transform.adults",
            "transform.city_counts",
        },
        ("-s", "transform.*"): TRANSFORMS,
        ("-s", "tag:daily"): {"transform.names"},
        ("-s", "kind:source"): {"source.people"},
        ("-s", "path:seeknal/transforms", "--exclude", "tag:daily"): {
            "transform.adults",
            "transform.city_counts",
        },
        ("-s", "names", "-s", "adults"): {"transform.names", "transform.adults"},
        ("--nodes", "people", "--exclude", "adults"): {"source.people", "transform.names"},
    }
    for args, expected in cases.items():
        res, summary = run_json(small, *args)
        assert res.exit_code == 0, (args, res.output)
        assert ran(summary) == expected, args


def test_exclude_alone_keeps_the_change_based_run(small: Path) -> None:
    assert cli(small, "run").exit_code == 0
    csv = small / "data/people.csv"
    csv.write_text(csv.read_text() + "99,Zed,40,Oslo\n")
    res, summary = run_json(small, "--exclude", "transform.names")
    assert res.exit_code == 0, res.output
    assert ran(summary) == {"source.people", "transform.adults", "transform.city_counts"}


def test_plan_takes_selectors(small: Path) -> None:
    assert cli(small, "run").exit_code == 0
    res = cli(small, "plan", "-s", "transform.*", "--exclude", "city_counts", "--json")
    assert res.exit_code == 0, res.output
    assert set(res.json()["to_run"]) == {"transform.adults", "transform.names"}
    text = cli(small, "plan", "-s", "adults")
    assert "selected with --select" in text.stdout
    assert "not selected (--select)" in text.stdout


def test_selector_errors(small: Path) -> None:
    for args, message in (
        (("-s", "tag:nope"), "No node matches 'tag:nope'"),
        (("-s", "colour:red"), "Unknown selector method 'colour:'"),
        (("-s", "adults", "--nodes", "names"), "two ways to choose nodes"),
        (("-s", "adultz"), "did you mean transform.adults"),
    ):
        res = cli(small, "run", *args)
        assert res.exit_code == 1, (args, res.output)
        assert message in res.stderr, (args, res.stderr)


def _env_with_change(root: Path) -> None:
    assert cli(root, "run").exit_code == 0
    path = root / ADULTS
    path.write_text(path.read_text().replace("age >= 18", "age >= 30"))
    assert cli(root, "plan", "dev").exit_code == 0


def test_env_run_of_a_selection_leaves_the_rest_pending_and_promote_waits(small: Path) -> None:
    _env_with_change(small)
    res, summary = run_json(small, "--env", "dev", "-s", "adults")
    assert res.exit_code == 0, res.output
    assert {n["id"] for n in summary["nodes"]} == {"transform.adults"}
    assert summary["pending"] == ["transform.city_counts"]
    refused = cli(small, "promote", "dev")
    assert refused.exit_code == 1
    assert "has planned nodes still pending" in refused.stderr
    assert "left them out): transform.city_counts." in refused.stderr
    res, summary = run_json(small, "--env", "dev")
    assert res.exit_code == 0, res.output
    assert {n["id"] for n in summary["nodes"]} == {"transform.city_counts"}
    assert summary["reused"] == ["transform.adults"]
    assert cli(small, "promote", "dev").exit_code == 0


def test_env_nodes_runs_the_planned_downstream(small: Path) -> None:
    _env_with_change(small)
    res, summary = run_json(small, "dev", "--nodes", "transform.adults")
    assert res.exit_code == 0, res.output
    assert {n["id"] for n in summary["nodes"]} == {"transform.adults", "transform.city_counts"}
    assert summary["pending"] == []
    assert cli(small, "promote", "dev").exit_code == 0


def test_env_selection_refuses_a_missing_planned_input(small: Path) -> None:
    _env_with_change(small)
    res = cli(small, "run", "dev", "-s", "city_counts")
    assert res.exit_code == 1
    assert "transform.city_counts reads transform.adults" in res.stderr
    assert "seeknal run dev --select +transform.city_counts" in res.stderr
    assert not (small / "target/environments/dev/run_state.json").exists()
    ok = cli(small, "run", "dev", "-s", "+city_counts")
    assert ok.exit_code == 0, ok.output


def test_env_selection_of_unplanned_nodes_says_so(small: Path) -> None:
    _env_with_change(small)
    res = cli(small, "run", "dev", "-s", "names")
    assert res.exit_code == 1
    assert "None of the selected nodes is in env 'dev''s plan" in res.stderr


def test_a_failed_env_node_suggests_a_rerun_that_works(small: Path) -> None:
    assert cli(small, "run").exit_code == 0
    path = small / ADULTS
    good = path.read_text()
    path.write_text(good.replace("age >= 18", "no_such_column >= 18"))
    assert cli(small, "plan", "dev").exit_code == 0
    failed = cli(small, "run", "dev")
    assert failed.exit_code == 1
    assert "seeknal run dev --nodes transform.adults" in failed.stdout
    write_tree(small, {ADULTS: good.replace("age >= 18", "age >= 30")})
    assert cli(small, "plan", "dev").exit_code == 0
    again = cli(small, "run", "dev", "--nodes", "transform.adults")
    assert again.exit_code == 0, again.output
