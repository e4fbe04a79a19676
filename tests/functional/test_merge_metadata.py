"""A merge that changes metadata only (descriptions, tags) and has no applied env: post-merge
records production's metadata itself, as promoting a metadata-only env does, instead of
sending the user to `seeknal run` with nothing to run."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import PROJECT_YML, cli
from envkit import production_digests
from gitkit import commit_files, ignore_target, install_hooks, run_git, seeknal_lines

PEOPLE = "seeknal/sources/people.yml"


@pytest.fixture
def small(small: Path) -> Path:
    return ignore_target(small)


def described(root: Path, text: str) -> dict[str, str]:
    return {PEOPLE: (root / PEOPLE).read_text().replace("People from the csv.", text)}


def merge(root: Path, branch: str) -> str:
    return run_git(root, "merge", "-q", "--no-ff", "-m", f"merge {branch}", branch).stderr


def test_metadata_only_merge_records_production_metadata(small: Path) -> None:
    assert cli(small, "run").exit_code == 0
    install_hooks(small)
    outputs = {k: v for k, v in production_digests(small).items() if "cache/" in k}
    run_git(small, "checkout", "-q", "-b", "feature/doc")
    commit_files(small, described(small, "Everyone, with age and city."), "describe")
    run_git(small, "checkout", "-q", "main")

    lines = seeknal_lines(merge(small, "feature/doc"))
    assert lines[-1] == (
        "seeknal: no node needs to run (the commit changes metadata only): production's "
        "metadata recorded, nothing recomputed"
    ), lines
    assert {k: v for k, v in production_digests(small).items() if "cache/" in k} == outputs
    assert "Everyone, with age and city." in (small / "target/manifest.json").read_text()
    res = cli(small, "sync")
    assert res.exit_code == 0 and "production already matches this commit" in res.stdout


def test_metadata_only_merge_records_it_with_on_merge_notify_too(small: Path) -> None:
    settings = PROJECT_YML.format(name="small") + "git:\n  on_merge: notify\n"
    commit_files(small, {"seeknal_project.yml": settings}, "notify")
    assert cli(small, "run").exit_code == 0
    install_hooks(small)
    run_git(small, "checkout", "-q", "-b", "feature/doc")
    commit_files(small, described(small, "Everyone."), "describe")
    run_git(small, "checkout", "-q", "main")

    lines = seeknal_lines(merge(small, "feature/doc"))
    assert "production's metadata recorded, nothing recomputed" in lines[-1], lines
    assert "Everyone." in (small / "target/manifest.json").read_text()


def test_merge_that_changes_data_without_env_names_what_runs(small: Path) -> None:
    assert cli(small, "run").exit_code == 0
    install_hooks(small)
    run_git(small, "checkout", "-q", "-b", "feature/sql")
    names = "seeknal/transforms/names.yml"
    text = (small / names).read_text().replace("upper(name)", "lower(name)")
    commit_files(small, {names: text}, "lower")
    run_git(small, "checkout", "-q", "main")
    lines = seeknal_lines(merge(small, "feature/sql"))
    assert lines[-1] == (
        "seeknal: no applied environment matches this commit; 'seeknal run' runs the 1 node(s) "
        "it changes in production"
    ), lines
