"""Environment names (docs/concepts.md): 1–63 characters of a-z 0-9 . _ -, starting with a letter or
digit; prod, production, . and .. reserved. Anything else is refused before a path is built, by
every command that takes an env name, and nothing is created or deleted."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import cli, git, small_project, snapshot

from seeknal.envs.names import validate_env_name
from seeknal.errors import EnvError

VALID = ["dev", "a", "0day", "dev.1", "feature_x-2", "ci-3f2a9c", "a" * 63, "x.y.z"]

INVALID = {
    "parent": "../x",
    "parent-twice": "../../seeknal",
    "slash": "a/b",
    "prod": "prod",
    "production": "production",
    "dot": ".",
    "dotdot": "..",
    "empty": "",
    "too-long": "a" * 64,
    "uppercase": "Dev",
    "trailing-newline": "dev\n",
    "leading-underscore": "_dev",
    "leading-dot": ".hidden",
    "space": "my env",
    "backslash": "a\\b",
    "absolute": "/abs/path",
}


@pytest.mark.parametrize("name", VALID)
def test_valid_names_are_accepted(name: str) -> None:
    assert validate_env_name(name) == name


@pytest.mark.parametrize("name", list(INVALID.values()), ids=list(INVALID))
def test_invalid_names_are_refused_with_a_clear_message(name: str) -> None:
    with pytest.raises(EnvError) as err:
        validate_env_name(name)
    message = str(err.value)
    if name in ("prod", "production", ".", ".."):
        assert f"'{name}' is reserved" in message
    else:
        assert "Invalid environment name" in message
        assert "1-63 characters" in message
    assert err.value.hint


def commands(name: str) -> list[list[str]]:
    return [
        ["plan", name],
        ["env", "plan", name],
        ["run", "--env", name],
        ["env", "apply", name],
        ["promote", name],
        ["env", "promote", "dev", name],
        ["env", "promote", name, "dev"],
        ["env", "delete", name, "--yes"],
    ]


@pytest.fixture
def planned(tmp_path: Path) -> Path:
    """The small project with production run, env dev applied, and a folder beside it."""
    root = tmp_path / "proj"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    small_project(root)
    assert cli(root, "run").exit_code == 0
    path = root / "seeknal/transforms/adults.yml"
    path.write_text(path.read_text().replace("age >= 18", "age >= 21"))
    assert cli(root, "plan", "dev").exit_code == 0
    assert cli(root, "run", "--env", "dev").exit_code == 0
    (tmp_path / "victim").mkdir()
    (tmp_path / "victim" / "keep.txt").write_text("precious")
    return root


@pytest.mark.parametrize("key", list(INVALID), ids=list(INVALID))
def test_every_env_command_refuses_a_bad_name_and_touches_nothing(
    planned: Path, tmp_path: Path, key: str
) -> None:
    name = INVALID[key]
    if key == "absolute":
        name = str(tmp_path / "victim")  # an absolute path to a real folder
    before = snapshot(tmp_path)
    assert "proj/target/environments/dev/plan.json" in before
    for args in commands(name):
        res = cli(planned, *args)
        assert res.exit_code == 1, (args, res.output)
        assert "Invalid environment name" in res.stderr or "is reserved" in res.stderr, (
            args,
            res.output,
        )
        assert snapshot(tmp_path) == before, args
    # the folders a bad name could have pointed at are all still there
    assert (planned / "seeknal/transforms/adults.yml").is_file()
    assert (tmp_path / "victim/keep.txt").read_text() == "precious"


def test_env_delete_parent_path_cannot_delete_the_project(planned: Path) -> None:
    nodes = sorted(p.name for p in (planned / "seeknal").rglob("*.yml"))
    res = cli(planned, "env", "delete", "../../seeknal", "--yes")
    assert res.exit_code == 1
    assert "Invalid environment name '../../seeknal'" in res.stderr
    assert sorted(p.name for p in (planned / "seeknal").rglob("*.yml")) == nodes
    assert (planned / "target/environments/dev").is_dir()


def test_longest_valid_name_works_end_to_end(planned: Path) -> None:
    name = "e" * 63
    res = cli(planned, "plan", name)
    assert res.exit_code == 0, res.output
    assert (planned / "target/environments" / name / "plan.json").is_file()
    res = cli(planned, "env", "delete", name, "--yes")
    assert res.exit_code == 0, res.output
    assert not (planned / "target/environments" / name).exists()
