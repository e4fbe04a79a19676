"""The post-checkout hook: which env the checked-out branch works on, said in one line.

git runs it on every checkout, so it must cost little beyond starting Python. The shim starts
Python with `-I -S` (no site-packages: ~3 ms less) and seeknal's folder on `sys.path`, and this
module imports only `os`, `sys`, `time` and seeknal modules written for it (`_json` instead of
`json`, str paths instead of `pathlib`, no `typing`, `re` or `dataclasses`: together ~15 ms).
What it cannot decide from the small files (the project file's `git:` settings not in the
settings memo yet) it hands to the full loader, turning site-packages on first.
"""

from __future__ import annotations

import os
import sys
import time

from seeknal import jsonfile
from seeknal.envs.names import EnvFacts, branch_env_name, env_status
from seeknal.git import gitfiles
from seeknal.git.settings import GitSettings, git_settings
from seeknal.state import settings_memo
from seeknal.state.manifest_head import manifest_fingerprint_of

PROJECT_FILE = "seeknal_project.yml"
SQUASH_MARKER = os.path.join("seeknal", "squash-pending")  # in this worktree's git dir


def say(text: str) -> None:
    sys.stderr.write(text.rstrip("\n") + "\n")


def main(args: list[str]) -> int:
    """`seeknal hook post-checkout <old> <new> <flag>`; never fails the checkout."""
    if os.environ.get("SEEKNAL_SKIP_HOOKS") == "1":
        return 0
    dirs = gitfiles.find_dirs(os.getcwd())
    if dirs is None:
        return 0
    worktree, gitdir, common = dirs
    try:
        os.unlink(os.path.join(gitdir, SQUASH_MARKER))  # switching away abandons a squash
    except OSError:
        pass
    flag = args[2] if len(args) >= 3 else os.environ.get("PRE_COMMIT_CHECKOUT_TYPE", "1")
    if flag != "1" or gitfiles.rebase_in_progress(gitdir):
        return 0
    branch = gitfiles.head_branch(gitdir)
    if branch is None:
        return 0
    for root in gitfiles.registered_projects(worktree, common):
        if not os.path.isfile(os.path.join(root, PROJECT_FILE)):
            say(f"seeknal: no project at {root} any more; run 'seeknal hooks install' again")
            continue
        try:
            switch(root, worktree, gitdir, branch)
        except Exception as exc:  # noqa: BLE001 - a hook never breaks the git command
            if os.environ.get("SEEKNAL_DEBUG"):
                raise
            say(f"seeknal: post-checkout hook skipped ({skipped_because(exc)})")
    return 0


def skipped_because(exc: BaseException) -> str:
    """An exception in one line, for a hook that skips a project instead of failing git."""
    text = str(exc).strip().splitlines()
    return f"{exc.__class__.__name__}: {text[0] if text else ''}"


def switch(root: str, worktree: str, gitdir: str, branch: str) -> None:
    """Record the env `branch` works on for the project at `root`, and say it."""
    git = settings(root)
    if not git.bind_branches:
        return
    env = env_for_branch(root, branch, git)
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())  # datetime costs an import
    key = gitfiles.project_key(root, worktree)
    if os.environ.get("SEEKNAL_FAILPOINT"):  # tests: Ctrl-C while the hook records the switch
        from seeknal.state.failpoints import hit  # (imports signal and enum: not on every hook)

        hit("checkout.switch")
    gitfiles.write_switch(gitdir, key, {"env": env, "branch": branch, "at": now})
    label = "" if root == os.path.realpath(worktree) else f" [{os.path.basename(root)}]"
    if env is None:
        say(f"seeknal{label}: production (branch {branch})")
    else:
        say(f"seeknal{label}: env {env} ({quick_status(root, env)})")


def settings(root: str) -> GitSettings:
    """The project's git settings: from the settings memo when it holds them for the project
    file as it is, else parsed by the full loader (a broken file is a SeeknalError)."""
    with open(os.path.join(root, PROJECT_FILE), encoding="utf-8") as handle:
        text = handle.read()
    known = settings_memo.recall(root, text)
    if known is not None:
        return git_settings(known)
    if sys.flags.no_site:  # started by the shim without site-packages: the YAML parser is there
        import site

        site.main()
    from pathlib import Path

    from seeknal.git.hook_support import settings_of

    return settings_of(Path(root), strict=True, remember=True)


def env_for_branch(root: str, branch: str, git: GitSettings) -> str | None:
    """None (production) for a production branch, else the branch's env."""
    if branch in git.production_branches:
        return None
    return branch_env_name(branch, lambda name: bound_branch(root, name))


def bound_branch(root: str, env: str) -> str | None:
    """The branch env `env` was made for, from its config."""
    config = jsonfile.read(os.path.join(root, "target", "environments", env, "env_config.json"))
    branch = config.get("branch") if isinstance(config, dict) else None
    return branch if isinstance(branch, str) or branch is None else str(branch)


def quick_status(root: str, env: str) -> str:
    """planned / applied / promoted / stale from the env's small files: neither the manifest nor
    the state records are loaded on this path."""
    folder = os.path.join(root, "target", "environments", env)

    def load(name: str) -> dict[str, object]:
        data = jsonfile.read(os.path.join(folder, name))
        return data if isinstance(data, dict) else {}  # a damaged file counts as missing

    def text(data: dict[str, object], key: str) -> str | None:
        value = data.get(key)
        return value if isinstance(value, str) else None

    config = load("env_config.json")
    if not config:
        return "new; 'seeknal plan' creates it"
    prod_fp = manifest_fingerprint_of(os.path.join(root, "target", "manifest.json"))
    plan, state = load("plan.json"), load("run_state.json")
    nodes = state.get("nodes")
    entries = nodes.values() if isinstance(nodes, dict) else ()
    facts = EnvFacts(
        text(plan, "plan_id") if plan else None,
        text(config, "promoted_plan_id"),
        text(plan, "base_fingerprint"),
        text(state, "plan_id"),
        all(isinstance(e, dict) and e.get("status") in ("success", "cached") for e in entries),
    )
    return env_status(facts, prod_fp)
