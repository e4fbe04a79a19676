"""pre-commit users add seeknal's hooks from the repository's `.pre-commit-hooks.yaml` (docs/git.md)
instead of `seeknal hooks install`. Installing seeknal from git inside pre-commit's own venv
downloads every dependency, so the hooks are mirrored as a `repo: local` entry with
`language: system` (same ids, entries and stages), fired by the real `git` through the hook
scripts `pre-commit install` writes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import cli, git
from gitkit import (
    ADULTS_WITH_COLUMN,
    BIN_DIR,
    bare_remote,
    commit_files,
    env_folder,
    git_env,
    ignore_target,
    promotions,
    read_json,
    rev,
    run_git,
    switch_file,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
MANIFEST = REPO_ROOT / ".pre-commit-hooks.yaml"
EXPECTED = {
    "seeknal-pre-push": ("seeknal hook pre-push", ["pre-push"]),
    "seeknal-post-checkout": ("seeknal hook post-checkout", ["post-checkout"]),
    "seeknal-post-merge": ("seeknal hook post-merge", ["post-merge"]),
    "seeknal-post-commit": ("seeknal hook post-commit", ["post-commit"]),
}
HOOK_TYPES = ("post-checkout", "pre-push", "post-merge", "post-commit")


def manifest_hooks() -> list[dict[str, Any]]:
    data = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert isinstance(data, list)
    return data


def pre_commit_exe() -> str | None:
    local = BIN_DIR / "pre-commit"
    return str(local) if local.exists() else shutil.which("pre-commit")


def test_pre_commit_hooks_manifest_lists_the_three_hooks() -> None:
    hooks = manifest_hooks()
    assert {h["id"]: (h["entry"], h["stages"]) for h in hooks} == EXPECTED
    for hook in hooks:
        assert hook["language"] == "python"
        assert hook["pass_filenames"] is False
        assert hook["always_run"] is True
        assert hook["name"]


def test_pre_commit_manifest_is_at_the_repository_root() -> None:
    # pre-commit reads it from the root of the repository a user points `repo:` at
    assert MANIFEST.parent == REPO_ROOT
    assert (REPO_ROOT / "pyproject.toml").is_file()
    assert '"pre-commit' in (REPO_ROOT / "pyproject.toml").read_text()


def local_config() -> str:
    """The manifest's hooks as a `repo: local` entry run from the installed seeknal."""
    hooks = []
    for hook in manifest_hooks():
        local = {k: v for k, v in hook.items() if k != "minimum_pre_commit_version"}
        local["language"] = "system"
        local["verbose"] = True
        hooks.append(local)
    return yaml.safe_dump({"repos": [{"repo": "local", "hooks": hooks}]}, sort_keys=False)


@pytest.fixture
def precommit_repo(small: Path) -> Path:
    exe = pre_commit_exe()
    # pre-commit is part of the test extra: missing, the test fails rather than skips
    assert exe is not None, "pre-commit is not installed: pip install '.[test]'"
    ignore_target(small)
    commit_files(small, {".pre-commit-config.yaml": local_config()}, "pre-commit config")
    hook_types = [arg for t in HOOK_TYPES for arg in ("--hook-type", t)]
    import subprocess

    proc = subprocess.run(
        [exe, "install", *hook_types],
        cwd=small,
        capture_output=True,
        text=True,
        timeout=120,
        env=git_env(),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for hook in HOOK_TYPES:
        text = (small / ".git" / "hooks" / hook).read_text()
        assert "pre-commit" in text and "seeknal-hook-shim" not in text
    return small


def test_checkout_switches_the_env_through_pre_commit(precommit_repo: Path) -> None:
    root = precommit_repo
    done = run_git(root, "checkout", "-b", "feature/y")
    assert "seeknal env switch" in done.output  # pre-commit ran the hook
    assert "seeknal: env feature-y" in done.output
    res = cli(root, "env", "current")
    assert res.stdout.split()[0] == "feature-y"
    assert "checkout" in res.stdout

    done = run_git(root, "checkout", "main")
    assert cli(root, "env", "current").stdout.split()[0] == "production"

    # a file checkout does not switch (a sentinel entry would be overwritten)
    sentinel = {".": {"at": "sentinel", "branch": "main", "env": "sentinel-env"}}
    switch_file(root).write_text(json.dumps(sentinel))
    (root / "seeknal_project.yml").write_text("changed: yes\n")
    run_git(root, "checkout", "--", "seeknal_project.yml")
    assert json.loads(switch_file(root).read_text()) == sentinel
    assert cli(root, "env", "current").stdout.split()[0] == "sentinel-env"

    status = cli(root, "hooks", "status")
    assert "pre-commit" in status.output


def test_push_and_merge_through_pre_commit(precommit_repo: Path) -> None:
    root = precommit_repo
    assert cli(root, "run").exit_code == 0
    bare_remote(root)
    run_git(root, "push", "-q", "origin", "main")
    run_git(root, "checkout", "-q", "-b", "feature/pc")
    head = commit_files(root, {"seeknal/transforms/adults.yml": ADULTS_WITH_COLUMN}, "adults")
    done = run_git(root, "push", "origin", "feature/pc")
    assert "feature-pc: 1 changed node(s)" in done.output, done.output
    plan = read_json(env_folder(root, "feature-pc") / "plan.json")
    assert plan["git"]["branch"] == "feature/pc" and plan["git"]["head"] == head
    assert plan["git"]["base"] == rev(root, "main")

    assert cli(root, "run").exit_code == 0  # apply the branch env
    run_git(root, "checkout", "-q", "main")
    done = run_git(root, "merge", "--no-ff", "-m", "merge", "feature/pc")
    assert "promoted env feature-pc" in done.output, done.output
    assert promotions(root)[-1]["env"] == "feature-pc"
    assert git(root, "log", "-1", "--format=%s").strip() == "merge"
