"""Load errors say what is wrong in the user's terms, at the right line: an absolute output
path is called absolute, an input's ref that is not text is named as YAML wrote it (not as a
Python repr), SQL given as a number must be text, and a YAML error at the end of a file is on
its last line."""

from __future__ import annotations

from pathlib import Path

from conftest import cli, small_project, state_files


def load_errors(root: Path) -> list[str]:
    res = cli(root, "plan")
    assert res.exit_code == 1, res.output
    assert res.stdout == "" and state_files(root) == []
    return [line.strip() for line in res.stderr.splitlines() if line.strip().startswith("- ")]


def test_absolute_exposure_path_is_called_absolute(git_project: Path) -> None:
    small_project(
        git_project,
        {
            "seeknal/exposures/out.yml": (
                "kind: exposure\nname: out\ntype: file\ndepends_on:\n  - ref: source.people\n"
                "params:\n  format: csv\n  path: /tmp/out.csv\n"
            )
        },
    )
    assert load_errors(git_project) == [
        "- seeknal/exposures/out.yml:8: params.path /tmp/out.csv is an absolute path; write a "
        "path relative to the project root (e.g. exports/name.csv): outputs stay inside the "
        "project"
    ]


def test_input_refs_that_are_not_text(git_project: Path) -> None:
    small_project(
        git_project,
        {
            "seeknal/transforms/t.yml": (
                "kind: transform\nname: t\ninputs: [{ref: 5}, {refs: source.people}, {ref: }]\n"
                "transform: SELECT 1\n"
            )
        },
    )
    assert load_errors(git_project) == [
        "- seeknal/transforms/t.yml:3: an entry of 'inputs' has ref number 5: it must be a "
        "node id in text, such as {ref: kind.name}",
        "- seeknal/transforms/t.yml:3: an entry of 'inputs' has no 'ref' (it has refs); write "
        "each as {ref: kind.name}",
        "- seeknal/transforms/t.yml:3: an entry of 'inputs' has an empty 'ref'; write each as "
        "{ref: kind.name}",
    ]


def test_transform_that_is_a_number_must_be_text(git_project: Path) -> None:
    small_project(
        git_project, {"seeknal/transforms/n.yml": "kind: transform\nname: n\n\ntransform: 42\n"}
    )
    assert load_errors(git_project) == [
        "- seeknal/transforms/n.yml:4: 'transform' must be text (the SQL), not a number (42): "
        "write the SQL as a 'transform: |' block"
    ]


def test_unclosed_bracket_on_the_last_line(git_project: Path) -> None:
    text = "kind: transform\nname: v\ntransform: SELECT 1\ninputs: ["
    small_project(
        git_project,
        {
            "seeknal/transforms/v.yml": text,
            "seeknal/transforms/w.yml": text.replace("v", "w") + "\n\n",
        },
    )
    errors = load_errors(git_project)
    assert (
        "- seeknal/transforms/v.yml:4: invalid YAML: did not find expected node content" in errors
    )
    assert (
        "- seeknal/transforms/w.yml:4: invalid YAML: did not find expected node content" in errors
    )
