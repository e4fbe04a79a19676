"""`seeknal query` through the CLI on real projects: the env's outputs with production's for the
nodes it did not change, the three formats, --limit, the errors a user meets, and that a query
takes no lock and leaves target/ byte for byte as it was."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import cli, git
from envkit import ADULTS, applied_dev_env, edit, env_dir, env_project, files_and_times

from seeknal.state.lock import target_lock

ADULT_COUNT = "SELECT count(*) AS n FROM ref('transform.adults')"


@pytest.fixture
def applied(git_project: Path) -> Path:
    return applied_dev_env(git_project)


def query(root: Path, *args: str) -> str:
    res = cli(root, "query", *args)
    assert res.exit_code == 0, res.output
    return res.stdout


def test_env_outputs_with_production_for_unchanged_nodes(applied: Path) -> None:
    assert query(applied, ADULT_COUNT, "--env", "dev", "-f", "csv") == "n\n2\n"
    assert query(applied, ADULT_COUNT, "-f", "csv") == "n\n3\n"
    # names is not in the env: dev reads production's through its ref
    assert not (env_dir(applied, "dev") / "cache" / "transform" / "names.parquet").exists()
    joined = (
        "SELECT a.id, n.name FROM ref('transform.adults') a "
        "JOIN ref('transform.names') n USING (id) ORDER BY a.id"
    )
    assert json.loads(query(applied, joined, "--env", "dev", "-f", "json")) == [
        {"id": 1, "name": "ANN"},
        {"id": 3, "name": "CID"},
    ]
    assert len(json.loads(query(applied, joined, "-f", "json"))) == 3


def test_table_is_aligned_with_a_row_count(applied: Path) -> None:
    sql = "SELECT id, name, age FROM ref('source.people') WHERE id <= 2 ORDER BY id"
    assert query(applied, sql) == (
        "id  name  age\n--  ----  ---\n 1  Ann    34\n 2  Bob    17\n(2 rows)\n"
    )


VALUES = (
    "SELECT 1.50::DECIMAL(5, 2) AS price, DATE '2024-06-01' AS day, "
    "TIMESTAMP '2024-06-01 10:00:00' AS at, NULL AS missing, 'a,b' AS text, [1, 2] AS list"
)


def test_values_in_each_format(applied: Path) -> None:
    assert query(applied, VALUES, "-f", "json") == (
        '[\n  {"price": 1.50, "day": "2024-06-01", "at": "2024-06-01T10:00:00", '
        '"missing": null, "text": "a,b", "list": [1, 2]}\n]\n'
    )
    assert query(applied, VALUES, "-f", "csv") == (
        'price,day,at,missing,text,list\n1.50,2024-06-01,2024-06-01 10:00:00,,"a,b","[1, 2]"\n'
    )
    table = query(applied, VALUES).splitlines()
    assert table[0].split() == ["price", "day", "at", "missing", "text", "list"]
    assert table[2] == " 1.50  2024-06-01  2024-06-01 10:00:00     NULL  a,b   [1, 2]"
    assert query(applied, "SELECT 1 AS n WHERE false", "-f", "json") == "[]\n"


def test_limit_and_the_default_rows_of_a_table(applied: Path) -> None:
    many = "SELECT range AS i FROM range(150)"
    table = query(applied, many).splitlines()
    assert len(table) == 2 + 100 + 1
    assert table[-1] == "(first 100 rows; more not shown: --limit N shows N, --format csv all)"
    assert len(query(applied, many, "-f", "csv").splitlines()) == 1 + 150
    limited = query(applied, many, "--limit", "2").splitlines()
    assert limited[2:] == ["0", "1", "(first 2 rows; more not shown: raise --limit)"]
    assert query(applied, many, "--limit", "3", "-f", "csv") == "i\n0\n1\n2\n"
    assert query(applied, "SELECT 7 AS n", "--limit", "1").endswith("7\n(1 row)\n")


def failure(root: Path, *args: str) -> str:
    res = cli(root, "query", *args)
    assert res.exit_code == 1, res.output
    assert res.stdout == ""
    return res.stderr


def test_unknown_and_unapplied_envs_are_refused(applied: Path) -> None:
    err = failure(applied, ADULT_COUNT, "--env", "nope")
    assert "Environment 'nope' not found" in err and "seeknal plan nope" in err
    edit(applied, ADULTS, "WHERE age >= 30", "WHERE age >= 40")
    assert cli(applied, "plan", "stage").exit_code == 0
    err = failure(applied, ADULT_COUNT, "--env", "stage")
    assert "Environment 'stage' is planned but not applied" in err
    assert "Next: Run 'seeknal run --env stage' to compute them." in err


def test_a_ref_to_a_node_that_does_not_exist_names_the_closest(applied: Path) -> None:
    err = failure(applied, "SELECT * FROM ref('transform.adult')", "--env", "dev")
    assert "No node transform.adult in env 'dev' (did you mean transform.adults?)" in err
    assert "seeknal repl --env dev -e .tables" in err
    err = failure(applied, "SELECT * FROM ref('city_counts')")
    assert "No node city_counts in production (did you mean transform.city_counts?)" in err


def test_a_node_without_output_says_which_command_computes_it(applied: Path) -> None:
    (applied / "seeknal/transforms/olds.yml").write_text(
        "kind: transform\nname: olds\ninputs:\n  - ref: source.people\n"
        "transform: SELECT * FROM ref('source.people') WHERE age >= 40\n"
    )
    err = failure(applied, "SELECT * FROM ref('transform.olds')")
    assert "transform.olds has no output in production yet." in err
    assert "Next: Run 'seeknal run' to compute it." in err
    err = failure(applied, "SELECT * FROM ref('transform.olds')", "--env", "dev")
    assert "transform.olds is not in env 'dev': the env was planned before it existed." in err
    assert "seeknal plan dev" in err


def test_a_node_whose_last_run_failed(applied: Path) -> None:
    (applied / "seeknal/transforms/broken.yml").write_text(
        "kind: transform\nname: broken\ninputs:\n  - ref: source.people\n"
        "transform: SELECT no_such_column FROM ref('source.people')\n"
    )
    assert cli(applied, "run").exit_code == 1
    err = failure(applied, "SELECT * FROM ref('transform.broken')")
    assert "transform.broken has no output in production: its last run failed." in err
    assert "Next: Fix it, then run 'seeknal run' to compute it." in err


def test_sql_errors_are_duckdbs_and_only_selects_run(applied: Path) -> None:
    err = failure(applied, "SELECT nope FROM ref('source.people')")
    assert "The query failed in DuckDB: Binder Error" in err and '"nope"' in err
    copy = applied / "copy.csv"
    err = failure(applied, f"COPY (SELECT 1) TO '{copy}'")
    assert (
        "A query must be one SELECT statement: queries are read-only SQL, which reads node "
        "outputs and the files you can read, and writes nothing."
    ) in err
    err = failure(applied, "SELECT 1; SELECT 2")
    assert "one SELECT statement" in err
    assert not copy.exists()
    res = cli(applied, "query", "SELECT 1", "-f", "xml")
    assert res.exit_code == 2 and "'xml' is not one of table, csv, json" in res.output


def test_a_promoted_env_is_refused(applied: Path) -> None:
    assert cli(applied, "promote", "dev").exit_code == 0
    err = failure(applied, ADULT_COUNT, "--env", "dev")
    assert "Environment 'dev' was promoted: its outputs are production's now." in err
    assert query(applied, ADULT_COUNT, "-f", "csv") == "n\n2\n"


def test_queries_leave_target_byte_for_byte_as_it_was(applied: Path) -> None:
    before = files_and_times(applied / "target")
    query(applied, ADULT_COUNT, "--env", "dev")
    query(applied, "SELECT * FROM ref('transform.names')", "--env", "dev", "-f", "json")
    query(applied, ADULT_COUNT)
    failure(applied, "SELECT * FROM ref('transform.nope')", "--env", "dev")
    failure(applied, "SELECT nope FROM ref('transform.adults')")
    assert files_and_times(applied / "target") == before


def test_a_query_runs_while_another_command_holds_the_lock(applied: Path) -> None:
    with target_lock(applied / "target", "seeknal run (held by the test)"):
        started = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "-m", "seeknal", "query", ADULT_COUNT, "--env", "dev", "-f", "csv"],
            cwd=applied,
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "SEEKNAL_LOCK_TIMEOUT": "5"},
        )
        waited = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "n\n2\n"
    assert waited < 5


def test_the_active_env_is_read_when_no_env_is_named(
    git_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_project(git_project)
    git(git_project, "add", "-A")
    git(git_project, "commit", "-q", "-m", "env project")
    assert cli(git_project, "run").exit_code == 0
    git(git_project, "checkout", "-q", "-b", "feature/olds")
    edit(git_project, ADULTS, "WHERE age >= 18", "WHERE age >= 30")
    res = cli(git_project, "run")  # on a branch: plans and applies the branch's env
    assert res.exit_code == 0, res.output
    res = cli(git_project, "query", ADULT_COUNT, "-f", "csv")
    assert res.exit_code == 0, res.output
    assert res.stdout == "n\n2\n"
    assert "reading env feature-olds (branch, branch feature/olds;" in res.stderr
    monkeypatch.setenv("SEEKNAL_ENV", "prod")
    res = cli(git_project, "query", ADULT_COUNT, "-f", "csv")
    assert res.stdout == "n\n3\n" and res.stderr == ""
