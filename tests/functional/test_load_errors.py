"""Bad input: a clear message naming the file (and line), exit 1, nothing executed or written."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import cli, git, minimal_project, seeknal_cmd, small_project, state_files, write_tree

SOURCE = "kind: source\nname: {name}\nsource: csv\ntable: {table}\n"


def assert_load_error(root: Path, *needles: str) -> str:
    """`seeknal run` fails to load: exit 1, every needle in stderr, no state under target/."""
    res = cli(root, "run")
    assert res.exit_code == 1, res.output
    assert "Project has" in res.stderr
    for needle in needles:
        assert needle in res.stderr, f"{needle!r} not in:\n{res.stderr}"
    assert "Nothing was executed" in res.stderr
    assert res.stdout == ""
    assert state_files(root) == []
    # planning fails the same way, and writes nothing either
    for args in (["plan"], ["run", "--dry-run"]):
        again = cli(root, *args)
        assert again.exit_code == 1 and needles[0] in again.stderr
    assert state_files(root) == []
    return res.stderr


def test_invalid_yaml(git_project: Path) -> None:
    small_project(
        git_project,
        {
            "seeknal/transforms/bad.yml": (
                "kind: transform\nname: bad\ntransform: |\n  SELECT 1\ninputs: [ref: x\n"
            )
        },
    )
    assert_load_error(git_project, "seeknal/transforms/bad.yml:", "invalid YAML")


def test_invalid_yaml_tab_indentation_has_a_line(git_project: Path) -> None:
    small_project(
        git_project,
        {"seeknal/transforms/tabs.yml": ("kind: transform\nname: tabs\ntransform:\n\tSELECT 1\n")},
    )
    err = assert_load_error(git_project, "seeknal/transforms/tabs.yml:", "invalid YAML")
    assert "tabs.yml:4:" in err or "tabs.yml:3:" in err


def test_file_that_is_a_list(git_project: Path) -> None:
    small_project(git_project, {"seeknal/transforms/list.yml": "- kind: transform\n- name: x\n"})
    assert_load_error(git_project, "seeknal/transforms/list.yml:1", "mapping", "list")


def test_file_that_is_a_scalar(git_project: Path) -> None:
    small_project(git_project, {"seeknal/transforms/scalar.yml": "42\n"})
    assert_load_error(git_project, "seeknal/transforms/scalar.yml:1", "mapping", "int")


def test_missing_kind(git_project: Path) -> None:
    small_project(git_project, {"seeknal/transforms/nokind.yml": "name: x\ntransform: SELECT 1\n"})
    assert_load_error(git_project, "seeknal/transforms/nokind.yml:1", "missing 'kind'")


def test_missing_name(git_project: Path) -> None:
    small_project(
        git_project, {"seeknal/transforms/noname.yml": ("kind: transform\ntransform: SELECT 1\n")}
    )
    assert_load_error(git_project, "seeknal/transforms/noname.yml:1", "missing 'name'")


def test_unknown_kind(git_project: Path) -> None:
    small_project(
        git_project,
        {"seeknal/transforms/odd.yml": ("name: odd\nkind: tranform\ntransform: SELECT 1\n")},
    )
    assert_load_error(
        git_project, "seeknal/transforms/odd.yml:2", "unknown kind 'tranform'", "transform"
    )


def test_duplicate_node_ids_name_both_files(git_project: Path) -> None:
    small_project(
        git_project,
        {
            "seeknal/transforms/zz_again.yml": (
                "kind: transform\nname: adults\ninputs:\n  - ref: source.people\n"
                "transform: SELECT * FROM input_0\n"
            )
        },
    )
    assert_load_error(
        git_project,
        "duplicate node id 'transform.adults'",
        "seeknal/transforms/adults.yml",
        "seeknal/transforms/zz_again.yml",
    )


def test_ref_to_a_missing_node_names_the_closest(git_project: Path) -> None:
    small_project(
        git_project,
        {
            "seeknal/transforms/t.yml": (
                "kind: transform\nname: t\ntransform: SELECT * FROM ref('transform.adlts')\n"
            )
        },
    )
    assert_load_error(
        git_project,
        "seeknal/transforms/t.yml",
        "unknown node 'transform.adlts'",
        "did you mean 'transform.adults'",
    )


def test_cycle_is_printed_as_a_path(git_project: Path) -> None:
    small_project(
        git_project,
        {
            "seeknal/transforms/a.yml": (
                "kind: transform\nname: a\ninputs:\n  - ref: transform.b\n"
                "transform: SELECT * FROM input_0\n"
            ),
            "seeknal/transforms/b.yml": (
                "kind: transform\nname: b\ninputs:\n  - ref: transform.a\n"
                "transform: SELECT * FROM input_0\n"
            ),
        },
    )
    assert_load_error(
        git_project, "seeknal/transforms/a.yml", "cycle: transform.a -> transform.b -> transform.a"
    )


def test_same_ref_twice_is_not_called_a_cycle(git_project: Path) -> None:
    small_project(
        git_project,
        {
            "seeknal/transforms/twice.yml": (
                "kind: transform\nname: twice\ninputs:\n"
                "  - ref: source.people\n  - ref: source.people\n"
                "transform: SELECT * FROM input_0\n"
            )
        },
    )
    err = assert_load_error(
        git_project, "seeknal/transforms/twice.yml:", "'source.people' is listed twice"
    )
    assert "cycle" not in err.lower()


def test_unsupported_source_type_lists_supported_types(git_project: Path) -> None:
    small_project(
        git_project,
        {
            "seeknal/sources/sheet.yml": (
                "kind: source\nname: sheet\nsource: excel\ntable: data/people.csv\n"
            )
        },
    )
    assert_load_error(
        git_project,
        "seeknal/sources/sheet.yml:3",
        "unsupported source type 'excel'",
        "csv, parquet, json, jsonl, postgresql, iceberg",
    )


def test_data_file_that_does_not_exist(git_project: Path) -> None:
    small_project(
        git_project, {"seeknal/sources/gone.yml": SOURCE.format(name="gone", table="data/gone.csv")}
    )
    assert_load_error(git_project, "seeknal/sources/gone.yml:4", "data/gone.csv", "does not exist")


def test_empty_project(git_project: Path) -> None:
    minimal_project(git_project, {})
    (git_project / "seeknal").mkdir()
    assert_load_error(git_project, "no nodes")


def test_project_without_node_folder(git_project: Path) -> None:
    minimal_project(git_project, {})
    assert_load_error(git_project, "no nodes")


def test_non_utf8_file(git_project: Path) -> None:
    small_project(
        git_project,
        {
            "seeknal/transforms/latin1.yml": (
                "kind: transform\nname: latin1\n# caf\xe9\ntransform: SELECT 1\n".encode("latin-1")
            )
        },
    )
    assert_load_error(git_project, "seeknal/transforms/latin1.yml", "UTF-8")


@pytest.mark.parametrize(
    "table",
    ['"data/people.csv\' ; --"', "data/people.csv;rm", '"data/peo\'ple.csv"'],
    ids=["quote-and-semicolon", "semicolon", "quote"],
)
def test_table_path_with_a_quote_or_semicolon(git_project: Path, table: str) -> None:
    small_project(
        git_project, {"seeknal/sources/inject.yml": SOURCE.format(name="inject", table=table)}
    )
    assert_load_error(git_project, "seeknal/sources/inject.yml:4", "table path")


def test_node_name_that_is_a_path(git_project: Path) -> None:
    small_project(
        git_project,
        {
            "seeknal/transforms/escape.yml": (
                "kind: transform\nname: ../../escape\ninputs:\n  - ref: source.people\n"
                "transform: SELECT * FROM input_0\n"
            )
        },
    )
    assert_load_error(git_project, "seeknal/transforms/escape.yml:2", "'../../escape'")
    assert not (git_project / "escape.parquet").exists()
    assert not (git_project.parent / "escape.parquet").exists()


def test_broken_project_file(git_project: Path) -> None:
    small_project(git_project, {"seeknal_project.yml": "name: [unclosed\n"})
    assert_load_error(git_project, "seeknal_project.yml:", "invalid YAML")


def test_unknown_placeholder_names_the_closest_key(git_project: Path) -> None:
    small_project(
        git_project,
        {
            "seeknal/common/sources.yml": (
                "sources:\n- id: people\n  ref: source.people\n  params:\n    ageCol: age\n"
            ),
            "seeknal/transforms/ph.yml": (
                "kind: transform\nname: ph\ninputs:\n  - ref: source.people\n"
                "transform: |\n  SELECT {{ people.agecol }} FROM input_0\n"
            ),
        },
    )
    assert_load_error(
        git_project,
        "seeknal/transforms/ph.yml:6",
        "unknown placeholder '{{ people.agecol }}'",
        "did you mean 'people.ageCol'",
    )


def test_several_problems_are_reported_in_one_run(git_project: Path) -> None:
    small_project(
        git_project,
        {
            "seeknal/transforms/bad_yaml.yml": "kind: transform\nname: [x\n",
            "seeknal/transforms/no_kind.yml": "name: no_kind\n",
            "seeknal/transforms/wrong_kind.yml": "kind: widget\nname: w\n",
            "seeknal/transforms/dup.yml": (
                "kind: transform\nname: names\ntransform: SELECT * FROM ref('source.people')\n"
            ),
            "seeknal/transforms/dangling.yml": (
                "kind: transform\nname: dangling\ntransform: SELECT * FROM ref('source.peeple')\n"
            ),
            "seeknal/sources/xls.yml": "kind: source\nname: xls\nsource: xlsx\ntable: a.xlsx\n",
            "seeknal/sources/nofile.yml": SOURCE.format(name="nofile", table="data/none.csv"),
            "seeknal/transforms/c1.yml": (
                "kind: transform\nname: c1\ntransform: SELECT * FROM ref('transform.c2')\n"
            ),
            "seeknal/transforms/c2.yml": (
                "kind: transform\nname: c2\ntransform: SELECT * FROM ref('transform.c1')\n"
            ),
            "seeknal/transforms/utf.yml": b"kind: transform\nname: \xff\n",
        },
    )
    err = assert_load_error(
        git_project,
        "bad_yaml.yml",
        "no_kind.yml:1: missing 'kind'",
        "wrong_kind.yml:1: unknown kind 'widget'",
        "duplicate node id 'transform.names'",
        "ref to unknown node 'source.peeple'; did you mean 'source.people'",
        "unsupported source type 'xlsx'",
        "data/none.csv",
        "transform.c1 -> transform.c2 -> transform.c1",
        "utf.yml",
    )
    assert "Project has 9 errors" in err  # the cycle is one problem


def test_load_errors_through_the_installed_command_show_no_traceback(git_project: Path) -> None:
    small_project(
        git_project,
        {
            "seeknal/transforms/bad.yml": "kind: [\n",
            "seeknal/transforms/t.yml": (
                "kind: transform\nname: t\ntransform: SELECT * FROM ref('x.y')\n"
            ),
        },
    )
    res = seeknal_cmd(git_project, "run")
    assert res.exit_code == 1
    assert "seeknal/transforms/bad.yml" in res.stderr and "x.y" in res.stderr
    assert "Traceback" not in res.output
    assert state_files(git_project) == []


def test_symbolic_links_under_seeknal_are_named_and_not_followed(
    small: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    write_tree(elsewhere, {"other.yml": "kind: transform\nname: other\ntransform: SELECT 1 AS x\n"})
    links = {
        "seeknal/transforms/other.yml": elsewhere / "other.yml",  # a file outside the project
        "seeknal/transforms/gone.yml": tmp_path / "missing.yml",  # dangling
        "seeknal/shared": elsewhere,  # a folder
    }
    for rel, target in links.items():
        (small / rel).symlink_to(target)
    res = cli(small, "plan")
    assert res.exit_code == 0, res.output
    for rel, target in links.items():
        assert f"warning: {rel}: symbolic link to {target}, not loaded" in res.stderr, res.stderr
    assert "transform.other" not in res.stdout and "transform.adults" in res.stdout

    # a plan from git objects (what pre-push does) sees the same project: git keeps the links
    git(small, "checkout", "-q", "-b", "links")
    git(small, "add", "-A")
    git(small, "commit", "-qm", "links")
    res = cli(small, "plan", "--base", "main", "--head", "links")
    assert res.exit_code == 0, res.output
    assert "No changes against production" in res.stdout


def test_a_ref_by_bare_name_is_told_the_node_of_that_name(git_project: Path) -> None:
    """`ref('x')` for `transform.x`: too short for a spelling match, named all the same."""
    small_project(
        git_project,
        {
            "seeknal/transforms/x.yml": (
                "kind: transform\nname: x\ninputs:\n  - ref: source.people\n"
                "transform: SELECT id FROM ref('source.people')\n"
            ),
            "seeknal/transforms/t.yml": (
                "kind: transform\nname: t\ninputs:\n  - ref: x\ntransform: SELECT * FROM ref('x')\n"
            ),
        },
    )
    assert_load_error(git_project, "ref to unknown node 'x'; did you mean 'transform.x'?")
