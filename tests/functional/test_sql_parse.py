"""Every node's SQL is parsed when the project loads (docs/concepts.md, "Load problems"): a syntax
error is a load problem with file and line for `plan`, `run` and pre-push, never a run-time
failure; SQL that parsed is remembered, so an unchanged project is not parsed again."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import cli, git, state_files, write_tree
from gitkit import bare_remote, commit_files, install_hooks, run_git

TYPO = """\
kind: transform
name: typo
description: A transform with a typo.
inputs:
  - ref: source.people
transform: |
  SELECT id,
    name
  FORM ref('source.people')
"""
BAD_RULE = """\
kind: rule
name: odd
inputs:
  - ref: source.people
rule:
  - type: custom
    expression: "age >= AND 3"
  - type: sql_assertion
    sql: |
      SELECT * FROM ref('source.people')
      WHERE WHERE age < 0
"""


def test_plan_reports_a_syntax_error_with_file_and_line(small: Path) -> None:
    write_tree(small, {"seeknal/transforms/typo.yml": TYPO})
    for args in (["plan"], ["plan", "dev"], ["run"], ["run", "--dry-run"]):
        res = cli(small, *args)
        assert res.exit_code == 1, (args, res.output)
        assert (
            'seeknal/transforms/typo.yml:9: SQL does not parse: syntax error at or near "ref"'
            in res.stderr
        ), res.stderr
    assert state_files(small) == []


def test_rule_sql_is_parsed_too(small: Path) -> None:
    write_tree(small, {"seeknal/rules/odd.yml": BAD_RULE})
    res = cli(small, "plan")
    assert res.exit_code == 1
    assert "seeknal/rules/odd.yml:7: SQL does not parse" in res.stderr, res.stderr
    assert "seeknal/rules/odd.yml:11: SQL does not parse" in res.stderr, res.stderr


def test_placeholders_and_refs_parse(small: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIN_AGE", "30")
    write_tree(
        small,
        {
            "seeknal/transforms/older.yml": (
                "kind: transform\nname: older\ninputs:\n  - ref: transform.adults\n"
                "transform: |\n"
                '  SELECT * FROM ref("transform.adults") WHERE age >= {{ env:MIN_AGE|18 }}\n'
                "  AND name <> '{{ env:SKIP_NAME|nobody }}' AND '{{ run_date }}' <> ''\n"
            )
        },
    )
    res = cli(small, "run")
    assert res.exit_code == 0, res.output


def test_the_push_of_a_syntax_error_is_blocked(small: Path) -> None:
    install_hooks(small)
    bare_remote(small)
    run_git(small, "checkout", "-q", "-b", "feature/typo")
    commit_files(small, {"seeknal/transforms/typo.yml": TYPO}, "a typo")
    done = run_git(small, "push", "origin", "feature/typo", check=False)
    assert done.exit_code != 0, done.output
    assert "push blocked" in done.stderr
    assert "seeknal/transforms/typo.yml:9: SQL does not parse" in done.stderr, done.stderr
    assert "feature/typo" not in git(small, "ls-remote", "--heads", "origin")


PROBE = """
import json, sys
from seeknal.entry import main
sys.argv = ["seeknal", "plan"]
try:
    main()
except SystemExit as exc:
    assert not exc.code, exc.code
print(json.dumps(sorted(m for m in sys.modules if m in ("duckdb", "_duckdb"))))
"""


def test_an_unchanged_project_is_not_parsed_again(small: Path) -> None:
    def plan_imports() -> list[str]:
        proc = subprocess.run(
            [sys.executable, "-c", PROBE], cwd=small, capture_output=True, text=True, timeout=60
        )
        assert proc.returncode == 0, proc.stderr
        return list(json.loads(proc.stdout.strip().splitlines()[-1]))

    assert cli(small, "run").exit_code == 0  # parses every node's SQL, and remembers it
    assert plan_imports() == []
    adults = small / "seeknal" / "transforms" / "adults.yml"
    adults.write_text(adults.read_text().replace("age >= 18", "age >= 21"))
    # a changed SQL text is parsed again, by DuckDB's compiled module alone where it stands apart
    # (DuckDB 2): the package around it costs twice as much to import
    compiled_apart = importlib.util.find_spec("_duckdb") is not None
    assert plan_imports() == (["_duckdb"] if compiled_apart else ["duckdb"])
    assert plan_imports() == []
