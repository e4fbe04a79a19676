"""Where an exposure may write (docs/concepts.md, "Exposures"): refused at load when the file is
seeknal's own, a node file, a source's data, outside the project or through a link out of it, or
another exposure's; `target/exports/...` is accepted; a removed node never takes a user's file
with it."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import (
    PEOPLE_CSV,
    cli,
    rows,
    run_state,
    small_project,
    snapshot,
    state_files,
    write_tree,
)

EXPOSURE = "seeknal/exposures/export.yml"


def exposure(path: str, name: str = "export", ref: str = "transform.adults") -> str:
    return (
        f"kind: exposure\nname: {name}\ntype: file\ndepends_on:\n  - ref: {ref}\n"
        f"params:\n  format: csv\n  path: {path}\n"
    )


def assert_refused(root: Path, *needles: str) -> None:
    """Every command that loads refuses the project; nothing runs, no file changes."""
    before = snapshot(root)
    for args in (["run"], ["plan"], ["plan", "dev"]):
        res = cli(root, *args)
        assert res.exit_code == 1, res.output
        for needle in needles:
            assert needle in res.stderr, f"{needle!r} not in:\n{res.stderr}"
    assert snapshot(root) == before
    assert state_files(root) == []


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("plan.json", "would overwrite an environment's plan.json"),
        ("env_config.json", "would overwrite an environment's env_config.json"),
        ("manifest.json", "would overwrite an environment's manifest.json"),
        ("refs.json", "would overwrite an environment's refs.json"),
        ("run_state.json", "would overwrite an environment's run_state.json"),
        ("cache/transform/adults.parquet", "would overwrite an environment's cache"),
        ("target/run_state.json", "is inside target/, seeknal's own state folder"),
        ("target/cache/transform/adults.parquet", "is inside target/"),
        ("target/exports", "is inside target/"),
        ("data/people.csv", "is the data file of source.people (data/people.csv)"),
        ("./data/people.csv", "is the data file of source.people"),
        ("seeknal/transforms/adults.yml", "is inside seeknal/, the folder of node files"),
        ("seeknal_project.yml", "is seeknal_project.yml, the project file"),
        (".git/hooks/pre-push", "is inside .git/"),
        ("../outside.csv", "is outside the project"),
        (
            "/tmp/seeknal-export.csv",
            "is an absolute path; write a path relative to the project root",
        ),
    ],
)
def test_a_path_seeknal_or_the_user_owns_is_refused_at_load(
    git_project: Path, path: str, reason: str
) -> None:
    small_project(git_project, {EXPOSURE: exposure(path)})
    assert_refused(git_project, f"{EXPOSURE}:8: params.path {path} {reason}")
    assert (git_project / "data" / "people.csv").read_text() == PEOPLE_CSV


def test_a_path_through_a_link_out_of_the_project_is_refused(
    git_project: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    small_project(git_project, {EXPOSURE: exposure("exports/adults.csv")})
    (git_project / "exports").symlink_to(elsewhere)
    assert_refused(
        git_project,
        "params.path exports/adults.csv leads out of the project through a symbolic link "
        f"(to {elsewhere.resolve() / 'adults.csv'})",
    )
    assert list(elsewhere.iterdir()) == []


def test_a_path_through_a_link_onto_a_source_file_is_refused(git_project: Path) -> None:
    small_project(git_project, {EXPOSURE: exposure("inbox/people.csv")})
    (git_project / "inbox").symlink_to(git_project / "data")
    assert_refused(git_project, "params.path inbox/people.csv is the data file of source.people")

    # a link to seeknal's state folder is refused the same way
    (git_project / "inbox").unlink()
    (git_project / "inbox").symlink_to(git_project / "target")
    (git_project / "target").mkdir()
    write_tree(git_project, {EXPOSURE: exposure("inbox/run_state.json")})
    assert_refused(
        git_project,
        "params.path inbox/run_state.json leads to target/run_state.json through a symbolic "
        "link, and target/run_state.json is inside target/",
    )


def test_a_path_a_source_glob_reads_is_refused(git_project: Path) -> None:
    small_project(git_project, {EXPOSURE: exposure("data/adults.csv")})
    people = git_project / "seeknal" / "sources" / "people.yml"
    people.write_text(people.read_text().replace("data/people.csv", "data/*.csv"))
    assert_refused(git_project, "params.path data/adults.csv is the data file of source.people")


def test_two_exposures_writing_one_file_are_refused_naming_both(git_project: Path) -> None:
    small_project(
        git_project,
        {
            EXPOSURE: exposure("exports/out.csv"),
            "seeknal/exposures/again.yml": exposure("exports/out.csv", "again", "transform.names"),
        },
    )
    assert_refused(
        git_project,
        "seeknal/exposures/export.yml:8: params.path exports/out.csv is also written by "
        "exposure.again (seeknal/exposures/again.yml)",
    )


def test_target_exports_is_written_by_production_and_envs_and_promoted(small: Path) -> None:
    write_tree(small, {EXPOSURE: exposure("target/exports/adults.csv")})
    res = cli(small, "run")
    assert res.exit_code == 0, res.output
    prod = small / "target" / "exports" / "adults.csv"
    assert rows(prod, "SELECT count(*) FROM t") == [(3,)]
    assert run_state(small)["nodes"]["exposure.export"]["output_path"] == (
        "target/exports/adults.csv"
    )
    before = prod.read_bytes()

    adults = small / "seeknal" / "transforms" / "adults.yml"
    adults.write_text(adults.read_text().replace("age >= 18", "age >= 30"))
    for args in (["plan", "dev"], ["run", "--env", "dev"]):
        res = cli(small, *args)
        assert res.exit_code == 0, res.output
    env_copy = small / "target" / "environments" / "dev" / "target" / "exports" / "adults.csv"
    assert rows(env_copy, "SELECT count(*) FROM t") == [(2,)]
    assert prod.read_bytes() == before  # production untouched by the env run

    res = cli(small, "promote", "dev")
    assert res.exit_code == 0, res.output
    assert rows(prod, "SELECT count(*) FROM t") == [(2,)]


def test_a_refused_exposure_removed_later_takes_no_user_file(small: Path) -> None:
    write_tree(small, {EXPOSURE: exposure("data/people.csv")})
    assert_refused(small, "params.path data/people.csv is the data file of source.people")
    (small / EXPOSURE).unlink()
    res = cli(small, "run")
    assert res.exit_code == 0, res.output
    assert (small / "data" / "people.csv").read_text() == PEOPLE_CSV


def test_removing_an_exposure_keeps_its_file_once_a_source_reads_it(small: Path) -> None:
    write_tree(small, {EXPOSURE: exposure("data/adults.csv")})
    res = cli(small, "run")
    assert res.exit_code == 0, res.output
    written = (small / "data" / "adults.csv").read_bytes()
    # the exported file becomes a source of its own, and the exposure goes
    (small / EXPOSURE).unlink()
    write_tree(
        small,
        {
            "seeknal/sources/adults_in.yml": (
                "kind: source\nname: adults_in\nsource: csv\ntable: data/adults.csv\n"
            )
        },
    )
    res = cli(small, "run")
    assert res.exit_code == 0, res.output
    assert (small / "data" / "adults.csv").read_bytes() == written
    assert "exposure.export" not in run_state(small)["nodes"]
