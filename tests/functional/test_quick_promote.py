"""`seeknal promote ENV [--copy-data]` is answered before typer, click and rich are imported
(seeknal/cli/quick.py): what it prints and its exit codes stay exactly the typer command's."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import cli
from envkit import ADULTS, applied_dev_env, edit, promotions
from test_fast_paths import entry, through_typer

FRAMEWORK = {"typer", "click", "rich"}
PROMOTED = re.compile(
    r"Promoted env 'dev' to production in \d+ ms: \d output\(s\) (\w+), 0 removed\.\n"
)


def test_promote_without_typer_prints_what_typer_prints(git_project: Path) -> None:
    root = applied_dev_env(git_project)
    code, stdout, stderr, loaded = entry(root, "promote", "dev")
    assert code == 0 and stderr == "", stderr
    found = PROMOTED.fullmatch(stdout)
    assert found and found.group(1) == "moved", stdout
    assert not FRAMEWORK & set(loaded), loaded
    assert "yaml" not in loaded  # the history: setting comes from the settings memo
    assert promotions(root)[-1]["mode"] == "move"
    # refusals: the same words and exit code as the typer command
    for args in (("promote", "dev"), ("promote", "nosuch"), ("promote", "Bad Name")):
        code, stdout, stderr, loaded = entry(root, *args)
        assert code == 1 and "Error: " in stderr and "Next: " in stderr, stderr
        assert (code, stdout, stderr) == through_typer(root, *args)
        assert not FRAMEWORK & set(loaded), loaded
    # --copy-data too
    edit(root, ADULTS, "WHERE age >= 30", "WHERE age >= 31")
    for command in (("plan", "dev"), ("run", "--env", "dev")):
        assert cli(root, *command).exit_code == 0
    code, stdout, stderr, loaded = entry(root, "promote", "dev", "--copy-data")
    found = PROMOTED.fullmatch(stdout)
    assert code == 0 and found and found.group(1) == "copied", (stdout, stderr)
    assert not FRAMEWORK & set(loaded)
    assert promotions(root)[-1]["mode"] == "copy"


def test_other_promote_forms_go_to_typer(git_project: Path) -> None:
    root = applied_dev_env(git_project)
    for args in (
        ("promote",),
        ("promote", "--env", "nosuch"),
        ("promote", "nosuch", "--rematerialize"),
    ):
        code, stdout, stderr, loaded = entry(root, *args)
        assert "typer" in loaded, args
        assert (code, stdout, stderr) == through_typer(root, *args)
    code, stdout, _, loaded = entry(root, "promote", "--env", "dev")
    assert code == 0 and PROMOTED.fullmatch(stdout) and "typer" in loaded
