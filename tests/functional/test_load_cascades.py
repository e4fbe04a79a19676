"""One broken or unsupported file gives one clear problem, not a cascade of false ones."""

from __future__ import annotations

from pathlib import Path

from conftest import cli, write_tree

BASE = {
    "seeknal_project.yml": "name: cascade\nversion: 1.0.0\n",
    "data/people.csv": "id,name\n1,Ann\n",
    "seeknal/transforms/names.yml": (
        "kind: transform\nname: names\ninputs:\n  - ref: source.people\n"
        "transform: SELECT name FROM ref('source.people')\n"
    ),
}


def test_a_broken_node_file_is_the_only_problem(git_project: Path) -> None:
    write_tree(git_project, {**BASE, "seeknal/sources/people.yml": "kind: source\nname: [people\n"})
    res = cli(git_project, "plan")
    assert res.exit_code == 1
    assert "seeknal/sources/people.yml" in res.stderr and "invalid YAML" in res.stderr
    assert "unknown node" not in res.stderr
    assert "Project has 1 error" in res.stderr


def test_a_broken_python_node_file_is_the_only_problem(git_project: Path) -> None:
    write_tree(
        git_project,
        {
            **BASE,
            "seeknal/pipelines/people.py": (
                "from seeknal.pipeline import source\n\n"
                "@source(name='people', source='csv', table='data/people.csv'\n"
                "def people(): ...\n"
            ),
        },
    )
    res = cli(git_project, "plan")
    assert res.exit_code == 1
    assert "seeknal/pipelines/people.py:3: Python syntax error" in res.stderr
    assert "unknown node" not in res.stderr
    assert "Project has 1 error" in res.stderr


def test_a_broken_common_file_hides_its_placeholder_cascade(git_project: Path) -> None:
    write_tree(
        git_project,
        {
            **BASE,
            "seeknal/sources/people.yml": (
                "kind: source\nname: people\nsource: csv\ntable: data/people.csv\n"
            ),
            "seeknal/common/rules.yml": "rules: [ {id: adult\n",
            "seeknal/transforms/adults.yml": (
                "kind: transform\nname: adults\ninputs:\n  - ref: source.people\n"
                "transform: SELECT * FROM ref('source.people') WHERE {{ rules.adult }}\n"
            ),
        },
    )
    res = cli(git_project, "plan")
    assert res.exit_code == 1
    assert "seeknal/common/rules.yml" in res.stderr
    assert "unknown placeholder" not in res.stderr


def test_a_node_that_does_not_build_is_the_only_problem(git_project: Path) -> None:
    """A node whose file parses but does not build (here an unknown placeholder) is reported
    once; the nodes reading it are not said to read an unknown node."""
    scored = (
        "kind: transform\nname: scored\ninputs:\n  - ref: source.people\n"
        "transform: SELECT id, {{ default_score }} AS score FROM ref('source.people')\n"
    )
    after = (
        "kind: transform\nname: after\ninputs:\n  - ref: transform.scored\n"
        "transform: SELECT * FROM ref('transform.scored')\n"
    )
    people = "kind: source\nname: people\nsource: csv\ntable: data/people.csv\n"
    write_tree(
        git_project,
        {
            **BASE,
            "seeknal/sources/people.yml": people,
            "seeknal/transforms/scored.yml": scored,
            "seeknal/transforms/after.yml": after,
        },
    )
    res = cli(git_project, "plan")
    assert res.exit_code == 1
    assert "Project has 1 error" in res.stderr, res.stderr
    assert "unknown node" not in res.stderr
    assert (
        "seeknal/transforms/scored.yml:5: unknown placeholder '{{ default_score }}' "
        "(give it a value with --params '{\"default_score\": ...}')"
    ) in res.stderr
