"""A plan may keep a downstream node's production data only when that data is still what the
node would compute (docs/concepts.md, "Change categories"): checked end to end through the CLI
in a real git repository, by comparing what `promote` leaves with what `run --full` computes."""

from __future__ import annotations

from pathlib import Path

from conftest import PROJECT_YML, cli, git, output, rows, write_tree
from envkit import edit, promoted_then_full

S_CSV = "id,v\n1,10\n2,20\n2,20\n"


def _transform(name: str, inputs: list[str], sql: str) -> str:
    listed = "".join(f"  - ref: {i}\n" for i in inputs)
    body = "".join(f"  {line}\n" for line in sql.splitlines())
    return f"kind: transform\nname: {name}\ninputs:\n{listed}transform: |\n{body}"


def _project(root: Path, files: dict[str, str]) -> Path:
    write_tree(
        root,
        {
            "seeknal_project.yml": PROJECT_YML.format(name="trust"),
            "data/s.csv": S_CSV,
            "seeknal/sources/s.yml": "kind: source\nname: s\nsource: csv\ntable: data/s.csv\n",
            **files,
        },
    )
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "project")
    res = cli(root, "run")
    assert res.exit_code == 0, res.output
    return root


def _promoted_then_full(root: Path, nodes: list[str]) -> tuple[dict, dict, str]:
    """Rows of `nodes` after plan/run --env/promote, and after a full production run; and the
    plan's text."""
    return promoted_then_full(root, lambda: {n: rows(output(root, n)) for n in nodes})


def test_an_added_column_below_a_breaking_change_rebuilds_what_reads_it(
    git_project: Path,
) -> None:
    a = "seeknal/transforms/a.yml"
    t = "seeknal/transforms/t.yml"
    root = _project(
        git_project,
        {
            a: _transform("a", ["source.s"], "SELECT id, v FROM input_0"),
            t: _transform("t", ["transform.a"], "SELECT id, v FROM input_0"),
            "seeknal/transforms/u.yml": _transform(
                "u", ["transform.t"], "SELECT count(*) AS n, sum(v) AS total FROM input_0"
            ),
        },
    )
    edit(root, a, "FROM input_0", "FROM input_0 WHERE id > 1")
    edit(root, t, "SELECT id, v FROM", "SELECT id, v, v * 2 AS v2 FROM")
    promoted, full, plan = _promoted_then_full(root, ["transform.u", "transform.t"])
    assert "upstream transform.a is breaking; also only new column `v2` added" in plan
    assert "transform.u" in plan and "production data kept" not in plan
    assert promoted == full
    assert full["transform.u"] == [(2, 40.0)]


def test_results_that_depend_on_the_set_of_columns_are_recomputed(git_project: Path) -> None:
    base = "seeknal/transforms/base.yml"
    root = _project(
        git_project,
        {
            base: _transform("base", ["source.s"], "SELECT id, v FROM input_0"),
            "seeknal/transforms/n_distinct.yml": _transform(
                "n_distinct",
                ["transform.base"],
                "WITH d AS (SELECT DISTINCT * FROM input_0)\nSELECT count(*) AS n FROM d",
            ),
            "seeknal/transforms/row_hash.yml": _transform(
                "row_hash", ["transform.base"], "SELECT id, md5(b::VARCHAR) AS h FROM input_0 b"
            ),
            "seeknal/transforms/col_max.yml": _transform(
                "col_max", ["transform.base"], "SELECT max(COLUMNS(*)) FROM input_0"
            ),
            "seeknal/transforms/kept.yml": _transform(
                "kept", ["transform.base"], "SELECT id, sum(v) AS v FROM input_0 GROUP BY id"
            ),
            "seeknal/pipelines/py_copy.py": (
                "from seeknal.pipeline import transform\n\n\n"
                '@transform(name="py_copy", inputs=["transform.base"])\n'
                "def py_copy(ctx):\n"
                '    b = ctx.ref("transform.base")\n'
                '    return ctx.duckdb.sql("SELECT * FROM b")\n'
            ),
        },
    )
    edit(root, base, "SELECT id, v FROM", "SELECT id, v, row_number() OVER () AS rn FROM")
    nodes = ["transform.n_distinct", "transform.row_hash", "transform.col_max"]
    nodes += ["transform.py_copy", "transform.kept"]
    promoted, full, plan = _promoted_then_full(root, nodes)
    assert promoted == full
    assert full["transform.n_distinct"] == [(3,)]
    lines = {line.split()[0]: line for line in plan.splitlines() if line.startswith("  ")}
    assert "`*` inside the query" in lines["transform.n_distinct"]
    assert "whole rows" in lines["transform.row_hash"]
    assert "a Python node" in lines["transform.py_copy"]
    assert "production data kept" in lines["transform.kept"]


def test_production_outputs_a_selected_run_left_stale_are_computed_in_the_env(
    git_project: Path,
) -> None:
    """`run --select source.s` recomputes the source but not what reads it: production's
    transform.t is stale. An env planned then must compute t, not read it and promote it as
    current."""
    root = _project(
        git_project,
        {
            "seeknal/transforms/t.yml": _transform(
                "t", ["source.s"], "SELECT count(*) AS n FROM input_0"
            ),
        },
    )
    (root / "data/s.csv").write_text(S_CSV + "3,30\n")
    git(root, "commit", "-qam", "data")
    res = cli(root, "run", "--select", "source.s")
    assert res.exit_code == 0, res.output
    assert rows(output(root, "transform.t")) == [(3,)]  # stale: the source has 4 rows
    plan = cli(root, "plan", "dev")
    assert plan.exit_code == 0, plan.output
    assert "transform.t" in plan.stdout and "computed here" in plan.stdout
    for command in (("run", "--env", "dev"), ("promote", "dev")):
        res = cli(root, *command)
        assert res.exit_code == 0, res.output
    assert rows(output(root, "transform.t")) == [(4,)]
    res = cli(root, "run")
    assert res.exit_code == 0 and "Nothing to do" in res.stdout, res.output
