"""Node SQL reads and writes only the project's own files (docs/concepts.md, "What node SQL can
reach"): files elsewhere, seeknal's state, ATTACH and extensions fail with the node named;
`sql_sandbox` in seeknal_project.yml opts out or allows more folders."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import PROJECT_YML, cli, output, rows, run_state, write_tree

NODE = "seeknal/transforms/escape.yml"
REFUSED = "its SQL reaches outside the project's own folders or DuckDB's settings"


def transform(sql: str, name: str = "escape") -> str:
    body = "\n".join("  " + line for line in sql.strip().splitlines())
    return f"kind: transform\nname: {name}\ninputs:\n  - ref: source.people\ntransform: |\n{body}\n"


ESCAPES = {
    "copy-out": "COPY (SELECT 1 AS x) TO '{out}/copied.csv';\nSELECT 1 AS x",
    "copy-out-single": "SELECT * FROM read_csv('{out}/copied.csv')",
    "copy-state": "COPY (SELECT 1 AS x) TO '{root}/target/run_state.json' (FORMAT json);\nSELECT 1 AS x",
    "attach": "ATTACH '{out}/other.duckdb' AS other;\nSELECT 1 AS x",
    "read-passwd": "SELECT * FROM read_csv('/etc/passwd', sep = ':', header = false)",
    "read-project-file": "SELECT * FROM read_text('{root}/seeknal_project.yml')",
    "read-node-file": "SELECT * FROM read_text('{root}/seeknal/sources/people.yml')",
    "list-project": "SELECT * FROM glob('{root}/*')",
    "install": "INSTALL httpfs;\nSELECT 1 AS x",
    "set": "SET enable_external_access = true;\nSELECT 1 AS x",
}


@pytest.mark.parametrize("case", list(ESCAPES))
def test_node_sql_cannot_reach_files_outside_the_project(
    small: Path, tmp_path: Path, case: str
) -> None:
    out = tmp_path / "outside"
    out.mkdir()
    (out / "copied.csv").write_text("x\n1\n") if case == "copy-out-single" else None
    sql = ESCAPES[case].format(out=out, root=small)
    write_tree(small, {NODE: transform(sql)})
    res = cli(small, "run")
    assert res.exit_code == 1
    assert "transform.escape (seeknal/transforms/escape.yml)" in res.output, res.output
    assert REFUSED in res.output and "sql_sandbox" in res.output, res.output
    assert sorted(p.name for p in out.iterdir()) == (
        ["copied.csv"] if case == "copy-out-single" else []
    )
    nodes = run_state(small)["nodes"]
    assert nodes["transform.escape"]["status"] == "failed"
    assert nodes["transform.adults"]["status"] == "success"


def test_an_env_run_cannot_write_productions_state(small: Path) -> None:
    assert cli(small, "run").exit_code == 0
    state = small / "target" / "run_state.json"
    before = state.read_bytes()
    sql = f"COPY (SELECT 1 AS x) TO '{state}' (FORMAT json);\nSELECT 1 AS x"
    write_tree(small, {NODE: transform(sql)})
    assert cli(small, "plan", "dev").exit_code == 0
    res = cli(small, "run", "--env", "dev")
    assert res.exit_code == 1
    assert "transform.escape" in res.output and REFUSED in res.output
    assert f'"{state}"' in res.output
    assert state.read_bytes() == before
    # nor the env's own state, next to its outputs
    plan = small / "target" / "environments" / "dev" / "plan.json"
    sql = f"COPY (SELECT 1 AS x) TO '{plan}' (FORMAT json);\nSELECT 1 AS x"
    write_tree(small, {NODE: transform(sql)})
    assert cli(small, "plan", "dev").exit_code == 0
    plan_before = plan.read_bytes()
    res = cli(small, "run", "--env", "dev")
    assert res.exit_code == 1 and REFUSED in res.output
    assert plan.read_bytes() == plan_before


def test_node_sql_reads_the_projects_files_and_writes_its_exports(small: Path) -> None:
    write_tree(
        small,
        {
            "seeknal/transforms/direct.yml": transform(
                f"SELECT count(*) AS n FROM read_csv('{small}/data/people.csv')", "direct"
            ),
            "seeknal/transforms/relative.yml": transform(
                "SELECT count(*) AS n FROM read_csv('data/people.csv')", "relative"
            ),
            "seeknal/exposures/at_root.yml": (
                "kind: exposure\nname: at_root\ndepends_on:\n  - ref: transform.adults\n"
                "params:\n  format: csv\n  path: adults.csv\n"
            ),
        },
    )
    res = cli(small, "run")
    assert res.exit_code == 0, res.output
    assert rows(output(small, "transform.direct")) == [(5,)]
    assert rows(output(small, "transform.relative")) == [(5,)]
    assert rows(small / "adults.csv", "SELECT count(*) FROM t") == [(3,)]
    adults = small / "seeknal" / "transforms" / "adults.yml"
    adults.write_text(adults.read_text().replace("age >= 18", "age >= 30"))
    for args in (["plan", "dev"], ["run", "--env", "dev"]):
        res = cli(small, *args)
        assert res.exit_code == 0, res.output
    env_export = small / "target" / "environments" / "dev" / "adults.csv"
    assert rows(env_export, "SELECT count(*) FROM t") == [(2,)]


def test_sql_sandbox_false_lifts_the_limits(small: Path, tmp_path: Path) -> None:
    out = tmp_path / "outside"
    out.mkdir()
    write_tree(
        small,
        {
            "seeknal_project.yml": PROJECT_YML.format(name="small") + "sql_sandbox: false\n",
            NODE: transform(f"COPY (SELECT 1 AS x) TO '{out}/copied.csv';\nSELECT 1 AS x"),
        },
    )
    res = cli(small, "run")
    assert res.exit_code == 0, res.output
    assert (out / "copied.csv").read_text() == "x\n1\n"


def test_sql_sandbox_allow_adds_folders(small: Path, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    write_tree(shared, {"lookup.csv": "id,label\n1,one\n"})
    write_tree(
        small,
        {
            "seeknal_project.yml": PROJECT_YML.format(name="small")
            + f"sql_sandbox:\n  allow: [{shared}]\n",
            NODE: transform(f"SELECT * FROM read_csv('{shared}/lookup.csv')"),
            "seeknal/transforms/still_out.yml": transform(
                "SELECT * FROM read_csv('/etc/passwd', sep = ':', header = false)", "still_out"
            ),
        },
    )
    res = cli(small, "run")
    assert res.exit_code == 1
    assert rows(output(small, "transform.escape")) == [(1, "one")]
    failed = run_state(small)["nodes"]["transform.still_out"]
    assert failed["status"] == "failed" and REFUSED in failed["error"]


@pytest.mark.parametrize("value", ["[a, b]", "{allow: /data}", "{deny: [x]}", "maybe"])
def test_a_bad_sql_sandbox_setting_is_a_load_error(small: Path, value: str) -> None:
    write_tree(
        small, {"seeknal_project.yml": PROJECT_YML.format(name="small") + f"sql_sandbox: {value}\n"}
    )
    res = cli(small, "run")
    assert res.exit_code == 1
    assert "seeknal_project.yml:6: sql_sandbox must be true (the default), false" in res.stderr
