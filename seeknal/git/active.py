"""Which environment a command works on (docs/git.md):
--env > SEEKNAL_ENV > the env switched to by the last checkout in this worktree > the env of
the current branch > production. Reads files only (this runs on the hook path)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from seeknal.envs.names import validate_env_name
from seeknal.git import checkout, dotgit, gitfiles
from seeknal.git.settings import GitSettings

DETACHED = "detached HEAD"


class ActiveEnv(NamedTuple):
    env: str | None  # None: production
    rule: str
    branch: str | None = None

    @property
    def implicit(self) -> bool:
        """Chosen from git rather than named by the user."""
        return self.rule.startswith(("checkout", "branch"))


def project_key(root: Path, dirs: dotgit.GitDirs) -> str:
    return gitfiles.project_key(str(root), str(dirs.worktree))


def env_for_branch(root: Path, branch: str, git: GitSettings) -> str | None:
    return checkout.env_for_branch(str(root), branch, git)


def resolve(root: Path, git: GitSettings, explicit: str | None = None) -> ActiveEnv:
    if explicit is not None:
        return ActiveEnv(validate_env_name(explicit), "--env")
    from_env = os.environ.get("SEEKNAL_ENV")
    if from_env:
        if from_env in ("prod", "production"):
            return ActiveEnv(None, "SEEKNAL_ENV")
        return ActiveEnv(validate_env_name(from_env), "SEEKNAL_ENV")
    dirs = dotgit.find_git(root)
    if dirs is None:
        return ActiveEnv(None, "not a git repository")
    branch = dotgit.current_branch(dirs)
    if not git.bind_branches:
        return ActiveEnv(None, "bind_branches is off", branch)
    switched = dotgit.read_switch(dirs, project_key(root, dirs))
    if switched and switched.get("branch") == branch:
        return ActiveEnv(switched.get("env"), "checkout", branch)
    if branch is None:
        rebasing = dotgit.rebasing_branch(dirs)
        if rebasing:  # a rebase detaches HEAD: keep working on the rebased branch's env
            env = env_for_branch(root, rebasing, git)
            return ActiveEnv(env, "branch being rebased" if env else "production branch", rebasing)
        if switched and switched.get("env"):
            return ActiveEnv(
                switched["env"], "checkout (HEAD detached since)", switched.get("branch")
            )
        return ActiveEnv(None, DETACHED, None)
    env = env_for_branch(root, branch, git)
    return ActiveEnv(env, "branch" if env else "production branch", branch)
