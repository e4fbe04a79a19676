"""`seeknal demo --dir`: a new or empty folder only; a user's folder is never staged or committed."""

from __future__ import annotations

from pathlib import Path

from conftest import cli, git, snapshot, write_tree


def assert_refused(res_output: str, folder: Path, reason: str) -> None:
    assert f"{folder.resolve()} {reason}" in res_output, res_output
    assert "Next: seeknal demo --dir EMPTY_OR_NEW_FOLDER" in res_output, res_output


def test_demo_refuses_an_existing_repository_with_uncommitted_files(git_project: Path) -> None:
    write_tree(git_project, {"notes.txt": "mine\n", "src/app.py": "print('hi')\n"})
    git(git_project, "add", "notes.txt")
    git(git_project, "commit", "-qm", "notes")
    (git_project / "notes.txt").write_text("mine, edited\n")
    status = git(git_project, "status", "--porcelain")
    head = git(git_project, "rev-parse", "HEAD")
    before = snapshot(git_project)

    res = cli(git_project.parent, "demo", "--dir", str(git_project))
    assert res.exit_code == 1
    assert_refused(res.stderr, git_project, "is not empty")
    assert snapshot(git_project) == before  # .git included: nothing staged, nothing committed
    assert git(git_project, "status", "--porcelain") == status
    assert git(git_project, "rev-parse", "HEAD") == head


def test_demo_refuses_a_folder_with_files_and_a_file(tmp_path: Path) -> None:
    folder = write_tree(tmp_path / "mine", {"data.csv": "a\n1\n"})
    res = cli(tmp_path, "demo", "--dir", str(folder))
    assert res.exit_code == 1
    assert_refused(res.stderr, folder, "is not empty")
    assert snapshot(folder) == {"data.csv": b"a\n1\n"}
    assert not (folder / ".git").exists()

    res = cli(tmp_path, "demo", "--dir", str(folder / "data.csv"))
    assert res.exit_code == 1
    assert_refused(res.stderr, folder / "data.csv", "is a file")


def test_demo_runs_in_an_empty_folder(tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    res = cli(tmp_path, "demo", "--dir", str(folder))
    assert res.exit_code == 0, res.output
    assert "Demo finished" in res.stdout
    assert (folder / ".git").is_dir() and (folder / "exports").is_dir()
    assert git(folder, "branch", "--show-current").strip() == "main"
