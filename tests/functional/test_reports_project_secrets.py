"""A password written directly in seeknal_project.yml `connections:` is redacted from plans and
reports like a profile's: env reports, production plans and plans between revisions."""

from __future__ import annotations

from pathlib import Path

from conftest import PROJECT_YML, cli, git
from envkit import ADULTS, edit, env_project

PASSWORD = "Pr0ject-Pa55word"
CONNECTIONS = f"""\
connections:
  wh:
    type: postgres
    host: db.internal
    user: analyst
    password: {PASSWORD}
"""


def test_project_file_password_never_reaches_a_report(git_project: Path) -> None:
    env_project(git_project)
    (git_project / "seeknal_project.yml").write_text(PROJECT_YML.format(name="envs") + CONNECTIONS)
    git(git_project, "add", "-A")
    git(git_project, "commit", "-q", "-m", "project")
    assert cli(git_project, "run").exit_code == 0
    git(git_project, "checkout", "-q", "-b", "feature")
    # the password is where a report shows it: a changed node's SQL
    edit(git_project, ADULTS, "WHERE age >= 18", f"WHERE age >= 30 -- replica {PASSWORD}")
    git(git_project, "commit", "-q", "-am", "adults")
    shown: dict[str, str] = {}
    for args in (
        ("plan", "dev"),
        ("plan", "dev", "-f", "markdown"),
        ("run", "--env", "dev"),
        ("report", "dev"),
        ("report", "dev", "-f", "json"),
        ("report", "dev", "-f", "markdown"),
        ("report", "dev", "-f", "html"),
        ("plan", "--base", "main", "-f", "markdown"),
    ):
        res = cli(git_project, *args)
        assert res.exit_code == 0, (args, res.output)
        shown[" ".join(args)] = res.output
    assert "replica ****" in shown["report dev -f markdown"]  # it was there to leak
    assert [name for name, text in shown.items() if PASSWORD in text] == []
