"""What a second new-user trial of main ran into: each case drives the real CLI in a real git
repository the way the user did, and checks the message and the exit code."""

from __future__ import annotations

from pathlib import Path

from conftest import cli, output, rows, state_files
from gitkit import (
    commit_files,
    ignore_target,
    install_hooks,
    promotions,
    rev,
    run_git,
    seeknal_lines,
)

LAST_CREATE = """\
kind: transform
name: made
inputs: [{ref: source.people}]
transform: |
  SELECT 1 AS a;
  CREATE TABLE t AS
    SELECT id FROM ref('source.people');
"""


def test_sql_ending_in_create_is_a_load_error_with_its_line(small: Path) -> None:
    (small / "seeknal/transforms/made.yml").write_text(LAST_CREATE)
    for command in (("run",), ("plan",)):
        res = cli(small, *command)
        assert res.exit_code == 1, res.output
        assert (
            "seeknal/transforms/made.yml:6: the last statement must be a query (SELECT, WITH ..., "
            "VALUES or FROM ...) whose rows become the node's output, not a CREATE statement"
        ) in res.stderr
        assert "COPY" not in res.output and "Parser Error" not in res.output
    assert state_files(small) == []


def test_query_errors_say_the_next_step_and_what_a_query_may_read(
    small: Path, tmp_path: Path
) -> None:
    assert cli(small, "run").exit_code == 0
    res = cli(small, "query", "SELEC 1")
    assert res.exit_code == 1
    assert 'Error: The query is not valid SQL: Parser Error: syntax error at or near "SELEC"' in (
        res.stderr
    )
    assert "Next: Fix the SQL and run it again; ref('kind.name') reads a node's output." in (
        res.stderr
    )
    outside = tmp_path / "outside.csv"
    outside.write_text("x\n41\n")
    res = cli(small, "query", f"SELECT x + 1 AS y FROM read_csv('{outside}')", "-f", "csv")
    assert res.exit_code == 0 and res.stdout == "y\n42\n"  # a file the user can read
    written = tmp_path / "written.csv"
    res = cli(small, "query", f"COPY (SELECT 1) TO '{written}'")
    assert res.exit_code == 1 and not written.exists()
    assert "queries are read-only SQL, which reads node outputs and the files you can read" in (
        res.stderr
    )


def test_an_unknown_exposure_format_names_its_line(small: Path) -> None:
    (small / "seeknal/exposures").mkdir(exist_ok=True)
    (small / "seeknal/exposures/e3.yml").write_text(
        "kind: exposure\nname: e3\n# a sheet for finance\ninputs: [{ref: transform.adults}]\n"
        "params:\n  path: exports/e3.xlsx\n  format: xlsx\n"
    )
    res = cli(small, "plan")
    assert res.exit_code == 1
    assert (
        "seeknal/exposures/e3.yml:7: exposure format 'xlsx' (supported: csv, parquet, json)"
        in res.stderr
    )


DBT_STYLE = """\
kind: transform
name: joined
transform: |
  SELECT a.id, a.name, n.name AS upper_name
  FROM ref('transform.adults') a JOIN ref('transform.names') n USING (id)
"""
POSITIONAL = """\
kind: transform
name: mixed
inputs: [{ref: transform.adults}]
transform: SELECT * FROM input_0 JOIN ref('transform.names') USING (id)
"""


def test_refs_in_sql_alone_are_inputs_without_a_warning(small: Path) -> None:
    (small / "seeknal/transforms/joined.yml").write_text(DBT_STYLE)
    for command in (("plan",), ("run",), ("ls",), ("show", "transform.joined")):
        res = cli(small, *command)
        assert res.exit_code == 0, (command, res.output)
        assert "warning" not in res.stderr.lower(), (command, res.stderr)
    res = cli(small, "query", "SELECT count(*) AS n FROM ref('transform.joined')", "-f", "csv")
    assert res.stdout == "n\n3\n" and "warning" not in res.stderr.lower()
    shown = cli(small, "show", "transform.joined").stdout
    assert "transform.adults" in shown and "transform.names" in shown


def test_an_unlisted_ref_beside_positional_names_is_warned_about(small: Path) -> None:
    (small / "seeknal/transforms/mixed.yml").write_text(POSITIONAL)
    res = cli(small, "plan")
    assert res.exit_code == 0, res.output
    assert (
        "warning: seeknal/transforms/mixed.yml: ref('transform.names') is not listed in inputs, "
        "so it is input_1, and the SQL also names inputs by position (input_N): list every "
        "input under 'inputs', in the order input_N means"
    ) in res.stderr


STAMPED = "seeknal/transforms/stamped.yml"
STAMPED_YML = """\
kind: transform
name: stamped
transform: SELECT 42 AS x, '{{ run_id }}' AS run
"""


def test_a_node_rendering_run_id_is_promoted_by_the_merge_of_its_applied_env(
    small: Path,
) -> None:
    root = ignore_target(small)
    assert cli(root, "run").exit_code == 0
    install_hooks(root)
    run_git(root, "checkout", "-q", "-b", "feature/rid")
    commit_files(root, {STAMPED: STAMPED_YML}, "stamped")
    res = cli(root, "run")  # the branch env, rendered with its plan's run id
    assert res.exit_code == 0, res.output
    [(_, env_run)] = rows(root / "target/environments/feature-rid/cache/transform/stamped.parquet")
    run_git(root, "checkout", "-q", "main")
    merged = run_git(root, "merge", "-q", "--no-ff", "feature/rid", "-m", "merge").stderr
    assert "seeknal: promoted env feature-rid (1 output(s)" in merged, merged
    assert promotions(root)[-1]["git_commit"] == rev(root, "HEAD")
    assert rows(output(root, "transform.stamped")) == [(42, env_run)]  # nothing recomputed

    # a later merge that changes metadata only still reruns it: the hook says why
    run_git(root, "checkout", "-q", "-b", "feature/desc")
    commit_files(
        root,
        {STAMPED: STAMPED_YML.replace("name: stamped", "name: stamped\ndescription: stamped rows")},
        "desc",
    )
    run_git(root, "checkout", "-q", "main")
    merged = run_git(root, "merge", "-q", "--no-ff", "feature/desc", "-m", "merge 2").stderr
    assert seeknal_lines(merged)[-1] == (
        "seeknal: no applied environment matches this commit; 'seeknal run' runs the 1 node(s) "
        "it changes in production (transform.stamped renders {{ run_id }}, new on every run, "
        "so it counts as changed in every production run, even after a merge that changes "
        "only metadata)"
    ), merged
