"""The values of sensitive `{{ env:VAR }}` placeholders never reach what seeknal writes: errors,
warnings, `run --json`, production's and an env's state files, and a rule's output rows
(docs/concepts.md, "Secrets")."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import cli, output, rows, run_state, small_project, write_tree

SECRET = "hunter2-Secret"

LEAKY_TRANSFORM = """\
kind: transform
name: leaky
inputs:
  - ref: source.people
transform: |
  SELECT id, CAST('{{ env:DB_PASSWORD }}' AS INTEGER) AS pw FROM ref('source.people')
"""
WARN_RULE = """\
kind: rule
name: named_right
inputs:
  - ref: source.people
rule:
  type: custom
  expression: "name <> '{{ env:DB_PASSWORD }}' AND age >= 18"
params:
  severity: warn
  error_message: "people checked with {{ env:DB_PASSWORD }} failed"
"""
ERROR_RULE = """\
kind: rule
name: grown_up
inputs:
  - ref: source.people
rule:
  type: custom
  expression: "age >= 18 OR name = '{{ env:API_TOKEN }}'"
params:
  error_message: "token {{ env:API_TOKEN }} says minors"
"""


@pytest.fixture
def leaky(git_project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DB_PASSWORD", SECRET)
    monkeypatch.setenv("API_TOKEN", SECRET + "-token")
    return small_project(
        git_project,
        {
            "seeknal/transforms/leaky.yml": LEAKY_TRANSFORM,
            "seeknal/rules/named_right.yml": WARN_RULE,
            "seeknal/rules/grown_up.yml": ERROR_RULE,
        },
    )


def files_holding_the_secret(root: Path) -> list[str]:
    """Every file under target/ whose bytes hold the secret (state, outputs, the tool cache)."""
    return sorted(
        p.relative_to(root).as_posix()
        for p in (root / "target").rglob("*")
        if p.is_file() and SECRET.encode() in p.read_bytes()
    )


def test_production_run_output_state_and_json_hide_the_secret(leaky: Path) -> None:
    res = cli(leaky, "run")
    assert res.exit_code == 1
    assert SECRET not in res.output
    assert "transform.leaky" in res.output and "Could not convert string '****'" in res.output
    assert "people checked with **** failed" in res.output  # the warn rule's warning

    nodes = run_state(leaky)["nodes"]
    assert "****" in nodes["transform.leaky"]["error"]
    assert "token **** says minors" in nodes["rule.grown_up"]["error"]
    assert nodes["rule.named_right"]["status"] == "success"
    checks = rows(output(leaky, "rule.named_right"), "SELECT check_description FROM t")
    assert checks == [("name <> '****' AND age >= 18",)]

    res = cli(leaky, "run", "--json")
    assert res.exit_code == 1 and SECRET not in res.stdout
    assert "****" in res.stdout
    assert files_holding_the_secret(leaky) == []


def test_env_run_and_its_state_hide_the_secret(leaky: Path) -> None:
    for args in (["plan", "dev"], ["run", "--env", "dev", "--json"], ["report", "dev"]):
        res = cli(leaky, *args)
        assert SECRET not in res.output, args
    state = (leaky / "target" / "environments" / "dev" / "run_state.json").read_text()
    assert "Could not convert string '****'" in state and "people checked with **** failed" in state
    assert files_holding_the_secret(leaky) == []


def test_the_secret_still_reaches_duckdb(leaky: Path) -> None:
    """Redaction is of what seeknal writes out, never of what the SQL computes with."""
    write_tree(
        leaky,
        {
            "seeknal/transforms/leaky.yml": LEAKY_TRANSFORM.replace(
                "CAST('{{ env:DB_PASSWORD }}' AS INTEGER)",
                "'{{ env:DB_PASSWORD }}' = 'hunter2-Secret'",
            )
        },
    )
    (leaky / "seeknal" / "rules" / "grown_up.yml").unlink()
    res = cli(leaky, "run")
    assert res.exit_code == 0, res.output
    assert rows(output(leaky, "transform.leaky"), "SELECT DISTINCT pw FROM t") == [(True,)]
