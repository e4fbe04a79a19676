"""A warehouse makes target/ a link (docs/spark.md): git must not commit that link, although
`target/` in .gitignore matches folders only."""

from __future__ import annotations

import subprocess
from pathlib import Path

from conftest import cli, git, write_tree


def status(root: Path) -> list[str]:
    out = git(root, "status", "--porcelain", "--untracked-files=all")
    return [line[3:] for line in out.splitlines()]


def test_the_warehouse_link_is_never_committed(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    root = repo / "shop project"  # a project in a sub-folder, with a space in its name
    res = cli(repo, "init", "--example", str(root))
    assert res.exit_code == 0, res.output
    write_tree(root, {"profiles.yml": f"warehouse: {tmp_path / 'wh'}\n"})
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "example")
    for _ in range(2):
        res = cli(root, "run")
        assert res.exit_code == 0, res.output
    assert (root / "target").is_symlink()
    assert (tmp_path / "wh" / "run_state.json").is_file()
    assert status(repo) == []  # the link is not even untracked: git ignores it
    git(repo, "add", "-A")
    tracked = git(repo, "ls-files").splitlines()
    assert not any("target" in path for path in tracked), tracked
    exclude = (repo / ".git" / "info" / "exclude").read_text().splitlines()
    assert exclude.count("/shop\\ project/target") == 1, exclude  # once, after two runs
    # git's own reading of the pattern
    check = subprocess.run(
        ["git", "check-ignore", "-v", "shop project/target"],
        cwd=repo,
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0 and "info/exclude" in check.stdout, check.stdout
