"""`seeknal hook <name> ...`: what the git hook shims call.

post-checkout is git/checkout.py (a process of its own, importing almost nothing); no hook ever
fails a checkout or a merge; pre-push blocks only when the project says so.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from seeknal.git import checkout, dotgit, gitfiles

HOOK_NAMES = ("post-checkout", "pre-push", "post-merge", "post-commit")
SQUASH_MARKER = checkout.SQUASH_MARKER


def registered_projects(dirs: dotgit.GitDirs) -> list[Path]:
    roots = gitfiles.registered_projects(str(dirs.worktree), str(dirs.common))
    return [Path(root) for root in roots]


say = checkout.say


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in HOOK_NAMES:
        say(f"seeknal hook: expected one of {', '.join(HOOK_NAMES)}")
        return 2
    name, args = argv[0], argv[1:]
    if name == "post-checkout":
        return checkout.main(args)
    if os.environ.get("SEEKNAL_SKIP_HOOKS") == "1":
        return 0
    dirs = dotgit.find_git(Path.cwd())
    if dirs is None:
        return 0
    squash_marker = dirs.gitdir / SQUASH_MARKER
    if name == "post-commit":
        # only the commit that completes a merge concerns seeknal: a `git merge --squash`, or
        # a merge finished by hand after conflicts (git fires no post-merge for either)
        if squash_marker.exists():
            squash_marker.unlink(missing_ok=True)
        elif not dotgit.committed_merge(dirs):
            return 0
    stdin = sys.stdin.read() if name == "pre-push" and not sys.stdin.isatty() else ""
    code = 0
    for root in registered_projects(dirs):
        if not (root / "seeknal_project.yml").is_file():
            say(f"seeknal: no project at {root} any more; run 'seeknal hooks install' again")
            continue
        try:
            if name == "post-merge":
                post_merge(root, dirs, args)
            elif name == "post-commit":
                post_merge(root, dirs, ["0"])
            else:
                code |= pre_push(root, args, stdin)
        except Exception as exc:  # noqa: BLE001 - a hook never breaks the git command
            if os.environ.get("SEEKNAL_DEBUG"):
                raise
            say(f"seeknal: {name} hook skipped ({checkout.skipped_because(exc)})")
    return code


# -- pre-push and post-merge (these may load the whole project) ------------------------------------
def pre_push(root: Path, args: list[str], stdin: str) -> int:
    from seeknal.cli.report_lines import plan_summary_lines
    from seeknal.context import Context
    from seeknal.envs.git_events import pre_push as run_pre_push

    updates = [line for line in stdin.splitlines() if line.strip()]
    if not updates and os.environ.get("PRE_COMMIT_TO_REF"):
        updates = [
            " ".join(
                (
                    os.environ.get("PRE_COMMIT_LOCAL_BRANCH", "HEAD"),
                    os.environ["PRE_COMMIT_TO_REF"],
                    os.environ.get("PRE_COMMIT_REMOTE_BRANCH", ""),
                    os.environ.get("PRE_COMMIT_FROM_REF", "0" * 40),
                )
            )
        ]
    ctx = Context(root)
    # git passes the remote's name first (pre-commit: PRE_COMMIT_REMOTE_NAME)
    remote = args[0] if args else os.environ.get("PRE_COMMIT_REMOTE_NAME")
    report = run_pre_push(ctx, updates, plan_summary_lines, remote)
    for line in report.lines:
        say(line)
    if report.blocked:
        for reason in report.blocked:
            say(f"seeknal: push blocked: {reason}")
        say("seeknal: fix it, or skip this check with git push --no-verify (SEEKNAL_SKIP_HOOKS=1)")
        return 1
    return 0


def post_merge(root: Path, dirs: dotgit.GitDirs, args: list[str]) -> None:
    """After a merge (or the commit that completes a squash merge): sync production."""
    # git passes 1 when the merge was a squash (pre-commit: PRE_COMMIT_IS_SQUASH_MERGE)
    flag = args[0] if args else os.environ.get("PRE_COMMIT_IS_SQUASH_MERGE", "0")
    if flag == "1":
        # nothing is committed yet (the squash may still be abandoned): wait for the commit
        marker = dirs.gitdir / SQUASH_MARKER
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text("pending\n")
        say("seeknal: squash merge staged; production follows when you commit it")
        return
    from seeknal.context import Context
    from seeknal.envs.access import recover
    from seeknal.envs.git_events import sync

    ctx = Context(root)
    recover(ctx)
    outcome = sync(ctx)
    if outcome.action != "skipped":
        say(f"seeknal: {outcome.message}")
