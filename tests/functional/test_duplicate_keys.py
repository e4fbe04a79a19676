"""A key written twice in one YAML mapping is a load error naming the file, the line and the
key (YAML itself keeps the last value silently): in node files, seeknal_project.yml, common
files and profiles. Merge keys (`<<: *anchor`) may still override what they bring."""

from __future__ import annotations

from pathlib import Path

from conftest import cli, small_project, state_files, write_tree

TWICE = "key '{key}' appears twice in one mapping (lines {first} and {second})"


def load_error(root: Path, *args: str) -> str:
    res = cli(root, *(args or ("plan",)))
    assert res.exit_code == 1, res.output
    assert res.stdout == ""
    assert state_files(root) == []
    return res.stderr


def test_node_file_with_a_key_twice(git_project: Path) -> None:
    small_project(
        git_project,
        {
            "seeknal/transforms/twice.yml": (
                "kind: transform\nname: twice\ninputs:\n  - ref: source.people\n"
                "transform: |\n  SELECT id FROM ref('source.people')\n"
                "transform: |\n  SELECT name FROM ref('source.people')\n"
            )
        },
    )
    err = load_error(git_project)
    assert "seeknal/transforms/twice.yml:7:" in err
    assert TWICE.format(key="transform", first=5, second=7) in err
    assert cli(git_project, "run").exit_code == 1
    assert state_files(git_project) == []


def test_nested_key_twice(git_project: Path) -> None:
    small_project(
        git_project,
        {
            "seeknal/rules/r.yml": (
                "kind: rule\nname: r\ninputs:\n  - ref: source.people\nrule:\n"
                "  type: uniqueness\n  columns: [id]\n  type: not_null\n"
            )
        },
    )
    err = load_error(git_project)
    assert "seeknal/rules/r.yml:8:" in err and TWICE.format(key="type", first=6, second=8) in err


def test_project_file_with_a_key_twice(git_project: Path) -> None:
    small_project(git_project)
    with (git_project / "seeknal_project.yml").open("a") as fh:
        fh.write("name: other\n")
    err = load_error(git_project)
    assert "seeknal_project.yml:6:" in err and TWICE.format(key="name", first=1, second=6) in err


def test_common_file_with_a_key_twice(git_project: Path) -> None:
    small_project(
        git_project,
        {
            "seeknal/common/rules.yml": (
                "rules:\n  - id: adult\n    value: age >= 18\n    value: age >= 21\n"
            )
        },
    )
    err = load_error(git_project)
    assert "seeknal/common/rules.yml:4:" in err
    assert TWICE.format(key="value", first=3, second=4) in err


def test_profile_with_a_key_twice(git_project: Path) -> None:
    small_project(git_project)
    write_tree(
        git_project,
        {"profiles-dev.yml": "connections:\n  wh:\n    type: postgres\n    type: duckdb\n"},
    )
    res = cli(git_project, "plan", "dev", "--profile", "profiles-dev.yml")
    assert res.exit_code == 1, res.output
    assert "profiles-dev.yml" in res.stderr
    assert TWICE.format(key="type", first=3, second=4) in res.stderr
    assert not (git_project / "target/environments/dev").exists()


def test_merge_keys_may_override(git_project: Path) -> None:
    small_project(
        git_project,
        {
            "seeknal/common/rules.yml": (
                "base: &base\n  value: age >= 18\nrules:\n"
                "  - id: adult\n    <<: *base\n    value: age >= 21\n"
            ),
            "seeknal/transforms/grown.yml": (
                "kind: transform\nname: grown\ninputs:\n  - ref: source.people\n"
                "transform: SELECT id FROM ref('source.people') WHERE {{ rules.adult }}\n"
            ),
        },
    )
    res = cli(git_project, "run")
    assert res.exit_code == 0, res.output
    assert "age >= 21" in cli(git_project, "show", "grown").stdout
