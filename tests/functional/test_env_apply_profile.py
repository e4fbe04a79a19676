"""`seeknal env apply ENV --profile PATH` is `seeknal run --env ENV --profile PATH`: the same
profile as the plan recorded applies it, another is refused naming both."""

from __future__ import annotations

from pathlib import Path

from conftest import cli, write_tree
from envkit import ADULTS, edit, env_project

PROFILE = "connections:\n  wh:\n    type: duckdb\n    path: {path}\n"


def test_env_apply_takes_the_profile_its_plan_recorded(git_project: Path, tmp_path: Path) -> None:
    env_project(git_project)
    write_tree(git_project, {"profiles-ci.yml": PROFILE.format(path="ci.duckdb")})
    other = tmp_path / "other.yml"
    other.write_text(PROFILE.format(path="other.duckdb"))
    assert cli(git_project, "run").exit_code == 0
    edit(git_project, ADULTS, "age >= 18", "age >= 30")
    res = cli(git_project, "plan", "staging", "--profile", "profiles-ci.yml")
    assert res.exit_code == 0, res.output

    res = cli(git_project, "env", "apply", "staging", "--profile", str(other))
    assert res.exit_code == 1, res.output
    assert f"Env 'staging' was planned with {git_project / 'profiles-ci.yml'}" in res.output
    assert not (git_project / "target/environments/staging/cache").exists()

    res = cli(git_project, "env", "apply", "staging", "--profile", "profiles-ci.yml")
    assert res.exit_code == 0, res.output
    assert "Env 'staging' done" in res.stdout
