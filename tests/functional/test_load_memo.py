"""What commands remember between them (docs/decisions.md): a node file's node, the tool cache
of a project that has no target/ yet, SQL change analyses, compiled templates. Each test
changes what a remembered value came from and checks the next command sees the change."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import cli, write_tree

PROBE = """
import json, sys
from seeknal.entry import main
module, sys.argv = sys.argv[1], ["seeknal", *sys.argv[2:]]
try:
    main()
except SystemExit as exc:
    assert not exc.code, exc.code
print(json.dumps(any(m in sys.modules for m in module.split(","))))
"""
TYPO = "  SELECT id, name, age, city\n  FORM ref('source.people')\n  WHERE age >= 18\n"
ADULTS = "seeknal/transforms/adults.yml"


def imports(project: Path, module: str, *args: str, env: dict[str, str] | None = None) -> bool:
    """Whether `seeknal ARGS` (exit code 0) imported `module` (or one of several, "a,b")."""
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, module, *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )
    assert proc.returncode == 0, proc.stderr
    return bool(json.loads(proc.stdout.strip().splitlines()[-1]))


def analyses_sql(project: Path, *args: str) -> bool:
    """Whether `seeknal ARGS` needed sqlglot. A command may ask a forked copy of itself that
    imported sqlglot (seeknal/sql/ahead.py); killed at its first question, the command answers
    itself, so that any question shows as the import."""
    return imports(project, "sqlglot", *args, env={"SEEKNAL_FAILPOINT": "ahead.answer"})


def plan_parses(project: Path) -> bool:
    """Whether a `seeknal plan` process needed DuckDB's parser (SQL it had not seen parse):
    DuckDB's compiled module (DuckDB 2 keeps it apart as `_duckdb`) or its package."""
    return imports(project, "duckdb,_duckdb", "plan")


def spare_caches() -> list[Path]:
    folder = Path(os.environ["XDG_CACHE_HOME"]) / "seeknal" / "projects"
    return sorted(folder.glob("*.pickle")) if folder.is_dir() else []


def test_a_project_never_run_is_not_parsed_again(small: Path) -> None:
    assert plan_parses(small)
    assert not (small / "target").exists()  # a plan still creates no target/
    assert len(spare_caches()) == 1
    assert not plan_parses(small)

    adults = small / ADULTS
    good = adults.read_text()
    adults.write_text(good.split("transform: |\n")[0] + "transform: |\n" + TYPO)
    res = cli(small, "plan")
    assert res.exit_code == 1
    assert f"{ADULTS}:8: SQL does not parse" in res.stderr, res.stderr
    adults.write_text(good)
    assert cli(small, "plan").exit_code == 0


def test_the_cache_moves_into_target_once_the_project_runs(small: Path) -> None:
    assert plan_parses(small)
    assert cli(small, "run").exit_code == 0
    assert (small / "target" / ".seeknal-cache" / "cache.pickle").is_file()
    assert not plan_parses(small)


def test_a_remembered_node_keeps_its_warnings(small: Path) -> None:
    names = small / "seeknal/transforms/names.yml"
    names.write_text(
        names.read_text().replace(
            "FROM ref('source.people')",
            "FROM input_0 JOIN ref('transform.adults') USING (id)",
        )
    )
    warning = "ref('transform.adults') is not listed in inputs, so it is input_1"
    for _ in range(3):
        res = cli(small, "plan")
        assert res.exit_code == 0, res.output
        assert warning in res.stderr, res.stderr


def test_a_source_whose_data_went_missing_is_a_problem_again(small: Path) -> None:
    assert cli(small, "run").exit_code == 0
    assert cli(small, "plan").exit_code == 0
    (small / "data" / "people.csv").rename(small / "data" / "moved.csv")
    res = cli(small, "plan")
    assert res.exit_code == 1
    assert "data file 'data/people.csv' does not exist" in res.stderr, res.stderr


def test_a_common_value_change_reaches_the_nodes_using_it(small: Path) -> None:
    write_tree(
        small,
        {
            "seeknal/common/sources.yml": "sources:\n  - id: min_age\n    params: {v: 18}\n",
            ADULTS: (
                "kind: transform\nname: adults\ninputs:\n  - ref: source.people\n"
                "transform: |\n  SELECT * FROM ref('source.people') WHERE age >= {{ min_age.v }}\n"
            ),
        },
    )
    assert cli(small, "run").exit_code == 0
    assert cli(small, "plan").stdout.count("unchanged") >= 4
    common = small / "seeknal/common/sources.yml"
    common.write_text(common.read_text().replace("18", "30"))
    res = cli(small, "plan", "--json")
    assert res.exit_code == 0, res.output
    assert "transform.adults" in json.dumps(res.json()["to_run"]), res.output


def test_the_same_edit_is_analysed_once(small: Path) -> None:
    assert cli(small, "run").exit_code == 0
    adults = small / ADULTS
    original = adults.read_text()
    adults.write_text(original.replace("age >= 18", "age >= 21"))
    assert analyses_sql(small, "plan", "dev")
    assert not analyses_sql(small, "plan", "dev")
    res = cli(small, "plan", "dev", "--json")
    assert res.json()["categorized_changes"]["transform.adults"] == "breaking", res.output

    # another edit of the same node: analysed, and its own answer
    adults.write_text(original.replace("city\n", "city, age * 2 AS twice\n"))
    assert analyses_sql(small, "plan", "dev")
    res = cli(small, "plan", "dev", "--json")
    assert res.json()["categorized_changes"]["transform.adults"] == "non_breaking", res.output


def test_an_edited_template_is_compiled_again(small: Path, tmp_path: Path) -> None:
    custom = tmp_path / "templates"
    custom.mkdir()
    (custom / "plan.txt.j2").write_text("first {{ r.env }}\n")
    assert cli(small, "run").exit_code == 0
    res = cli(small, "plan", "dev", "--template-dir", str(custom))
    assert res.stdout.startswith("first dev"), res.output
    compiled = Path(os.environ["XDG_CACHE_HOME"]) / "seeknal" / "templates"
    assert len(list(compiled.iterdir())) == 1  # kept compiled for the next command
    (custom / "plan.txt.j2").write_text("second {{ r.env }}\n")
    res = cli(small, "plan", "dev", "--template-dir", str(custom))
    assert res.stdout.startswith("second dev"), res.output
    res = cli(small, "plan", "dev")
    assert res.stdout.startswith("Plan for environment 'dev'"), res.output
