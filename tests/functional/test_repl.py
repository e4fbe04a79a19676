"""`seeknal repl` through the CLI: every node a view by id and by unique name, `-e` for one
statement, the shell fed on stdin (errors printed, the shell goes on), and read-only."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import cli
from envkit import applied_dev_env, files_and_times


@pytest.fixture
def applied(git_project: Path) -> Path:
    return applied_dev_env(git_project)


def one(root: Path, statement: str, *args: str) -> str:
    res = cli(root, "repl", "-e", statement, *args)
    assert res.exit_code == 0, res.output
    return res.stdout


def test_every_node_is_a_view_by_id_and_by_name(applied: Path) -> None:
    assert one(applied, "SELECT count(*) AS n FROM adults", "--env", "dev").split() == [
        "n",
        "-",
        "2",
        "(1",
        "row)",
    ]
    assert "3\n(1 row)" in one(applied, 'SELECT count(*) AS n FROM "transform.adults"')
    # a node the env did not change is production's, under both names
    by_id = one(applied, 'SELECT count(*) AS n FROM "transform.names"', "--env", "dev")
    assert "5\n(1 row)" in by_id
    assert "2\n(1 row)" in one(
        applied, "SELECT count(*) FROM ref('transform.adults')", "--env", "dev"
    )
    tables = one(applied, ".tables", "--env", "dev").splitlines()
    assert '"transform.adults"  (also adults)' in tables
    assert '"exposure.adults_export"  (also adults_export)' in tables
    assert len(tables) == 7  # every node of the env project has an output


def test_a_name_two_nodes_share_is_no_view(applied: Path) -> None:
    (applied / "seeknal/transforms/people.yml").write_text(
        "kind: transform\nname: people\ninputs:\n  - ref: source.people\n"
        "transform: SELECT id FROM ref('source.people') WHERE id < 3\n"
    )
    assert cli(applied, "run").exit_code == 0
    tables = one(applied, ".tables").splitlines()
    assert '"source.people"' in tables and '"transform.people"' in tables
    assert "2\n(1 row)" in one(applied, 'SELECT count(*) FROM "transform.people"')
    res = cli(applied, "repl", "-e", "SELECT * FROM people")
    assert res.exit_code == 1
    assert "Table with name people does not exist" in res.stderr


def test_execute_exits_1_on_error(applied: Path) -> None:
    res = cli(applied, "repl", "-e", "SELECT nope FROM adults")
    assert res.exit_code == 1
    assert "Error: The query failed in DuckDB: Binder Error" in res.stderr
    res = cli(applied, "repl", "-e", "SELECT * FROM ref('transform.adultz')")
    assert res.exit_code == 1
    assert "No node transform.adultz in production (did you mean transform.adults?)" in res.stderr
    res = cli(applied, "repl", "-e", ".nope")
    assert res.exit_code == 1 and "Unknown command .nope." in res.stderr
    res = cli(applied, "repl", "--env", "nope", "-e", "SELECT 1")
    assert res.exit_code == 1 and "Environment 'nope' not found" in res.stderr


SCRIPT = """\
SELECT count(*) AS n
FROM adults;
SELECT * FROM missing_table;
.tables
CREATE TABLE t AS SELECT 1;
SELECT max(age) AS oldest FROM "transform.adults";
.quit
SELECT 'never' AS after_quit;
"""


def repl(root: Path, stdin: str, *args: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "seeknal", "repl", *args],
        cwd=root,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Traceback" not in proc.stdout + proc.stderr
    return proc


def test_the_shell_reads_statements_from_stdin_and_goes_on_after_errors(applied: Path) -> None:
    before = files_and_times(applied / "target")
    proc = repl(applied, SCRIPT, "--env", "dev")
    assert proc.returncode == 1  # the shell went on, and says at the end that two failed
    assert proc.stderr.endswith("2 statement(s) or command(s) failed.\n")
    out = proc.stdout
    assert out.index("n\n-\n2\n(1 row)") < out.index('"transform.adults"  (also adults)')
    assert "oldest\n------\n    45\n(1 row)" in out
    assert "after_quit" not in out
    assert "seeknal repl: env dev, 7 node(s)." in proc.stderr
    assert "Table with name missing_table does not exist" in proc.stderr
    assert (
        "A query must be one SELECT (or EXPLAIN): queries are read-only SQL, which reads node "
        "outputs and the files you can read, and writes nothing."
    ) in proc.stderr
    assert files_and_times(applied / "target") == before


def test_the_last_statement_needs_no_semicolon(applied: Path) -> None:
    proc = repl(applied, "SELECT 40 + 2 AS answer")
    assert proc.returncode == 0
    assert proc.stdout == "answer\n------\n    42\n(1 row)\n"


def test_an_interactive_session_with_an_error_exits_1(applied: Path) -> None:
    """At a terminal too: the errors are shown as they happen and the exit code says so."""
    import os
    import pty

    def session(lines: str) -> tuple[int, str]:
        leader, follower = pty.openpty()
        proc = subprocess.Popen(
            [sys.executable, "-m", "seeknal", "repl"],
            cwd=applied,
            stdin=follower,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        os.close(follower)
        os.write(leader, lines.encode())
        try:
            _out, err = proc.communicate(timeout=60)
        finally:
            os.close(leader)
        return proc.returncode, err

    code, err = session("SELECT * FROM missing_table;\nSELECT 1;\n.quit\n")
    assert code == 1 and "Table with name missing_table does not exist" in err
    assert err.endswith("1 statement(s) or command(s) failed.\n")
    code, err = session("SELECT 1;\n.quit\n")
    assert code == 0 and "failed" not in err


def test_a_damaged_output_leaves_the_other_views(applied: Path) -> None:
    damaged = applied / "target/cache/transform/names.parquet"
    assert damaged.is_file()
    damaged.write_bytes(b"not parquet any more")
    # production's other outputs are still there, by id and by name
    assert "3\n(1 row)" in one(applied, "SELECT count(*) AS n FROM adults")
    tables = one(applied, ".tables").splitlines()
    assert '"transform.adults"  (also adults)' in tables
    (said,) = [line for line in tables if "transform.names" in line]
    assert said.startswith("no view for transform.names: "), tables
    for statement in ("SELECT * FROM names", "SELECT * FROM ref('transform.names')"):
        res = cli(applied, "repl", "-e", statement)
        assert res.exit_code == 1
        assert "transform.names" in res.stderr and "Traceback" not in res.stderr, res.stderr
        assert "does not exist" not in res.stderr, res.stderr
        assert "(transform.names) changed since 'seeknal run' wrote it" in res.stderr


def test_a_view_id_without_quotes_gets_the_quoting_hint(applied: Path) -> None:
    res = cli(applied, "repl", "-e", "SELECT count(*) FROM transform.adults")
    assert res.exit_code == 1
    assert "The query failed in DuckDB" in res.stderr
    assert (
        'Next: A view named by id needs double quotes: "transform.adults" '
        "(or ref('transform.adults'), adults)." in res.stderr
    ), res.stderr
    assert "3\n(1 row)" in one(applied, 'SELECT count(*) FROM "transform.adults"')
