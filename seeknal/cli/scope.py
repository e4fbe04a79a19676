"""What a command acts on: the project folder, its `Context`, and the environment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from seeknal.cli.console import out, warn


def context(project_path: Path | None, params: str | None = None) -> Any:
    """A Context for the project, after finishing or undoing any interrupted promotion."""
    from seeknal.context import Context, parse_params
    from seeknal.envs.access import recover

    ctx = Context(project_path, parse_params(params))
    for message in recover(ctx):
        warn(f"recovered: {message}")
    return ctx


def read_env(
    project_path: Path | None,
    explicit: str | None,
    unplanned_reads_production: bool = False,
    params: str | None = None,
) -> tuple[Any, str | None]:
    """A Context and the active env for a command that only reads (query, repl): it repairs
    nothing, since repairing takes the lock. Says on stderr which env it reads when the env was
    not named. With `unplanned_reads_production` (ls, show), a branch's env that is not planned
    yet is read as production, which is what it holds until it is planned. The YAML is rendered
    with `params` (--params), else with those the env was planned with."""
    from seeknal.context import Context, parse_params

    chosen = active_env(project_path, explicit)
    ctx = Context(project_path, parse_params(params))
    if params is None and chosen.env is not None:
        from seeknal.envs.access import planned_params

        ctx.params = planned_params(ctx, chosen.env)
    if unplanned_reads_production and _unplanned_branch_env(ctx, chosen):
        branch = f" (branch {chosen.branch})" if chosen.branch else ""
        out(
            f"note: env {chosen.env}{branch} is not planned yet, so it holds production's "
            "data and shows production's statuses; 'seeknal plan' creates it.",
            err=True,
        )
        return ctx, None
    if chosen.env is not None and chosen.rule != "--env":
        branch = f", branch {chosen.branch}" if chosen.branch else ""
        out(
            f"reading env {chosen.env} ({chosen.rule}{branch}; SEEKNAL_ENV=prod reads production)",
            err=True,
        )
    return ctx, chosen.env


def _unplanned_branch_env(ctx: Any, chosen: Any) -> bool:
    """The env was picked by git (a checkout or the branch) and has not been created yet."""
    if chosen.env is None or not chosen.implicit:
        return False
    return not bool(ctx.target(chosen.env).env_config_path.is_file())


def project_root(project_path: Path | None) -> Path:
    """The project folder without loading the project (the git commands need no more)."""
    from seeknal.project.files import PROJECT_FILE, find_root

    if project_path is not None:
        if not (project_path / PROJECT_FILE).is_file():
            from seeknal.errors import SeeknalError

            raise SeeknalError(f"{project_path} is not a seeknal project ({PROJECT_FILE} missing).")
        return project_path.resolve()
    return find_root(Path.cwd())


def active_env(project_path: Path | None, explicit: str | None) -> Any:
    """The env this command works on: --env > SEEKNAL_ENV > checkout > branch > production."""
    from seeknal.git.active import ActiveEnv, resolve
    from seeknal.git.hook_support import settings_of
    from seeknal.project.files import PROJECT_FILE, find_root

    if explicit is not None:  # named: no need to read git or the project's settings
        from seeknal.envs.names import validate_env_name

        return ActiveEnv(validate_env_name(explicit), "--env")
    if project_path is not None and (project_path / PROJECT_FILE).is_file():
        root = project_path.resolve()
    elif project_path is not None:
        from seeknal.context import Context

        root = Context(project_path).root  # raises the usual "not a project" error
    else:
        root = find_root(Path.cwd())
    return resolve(root, settings_of(root), explicit)


def named_env(project_path: Path | None, env: str | None, verb: str) -> str:
    """The env a command acts on: the one named, else the active one; never production."""
    from seeknal.errors import EnvError

    chosen = active_env(project_path, env)
    if chosen.env is None:
        raise EnvError(
            f"No environment to {verb}: the active env is production ({chosen.rule}).",
            _env_hint(project_path, verb),
        )
    return str(chosen.env)


def _env_hint(project_path: Path | None, verb: str) -> str:
    """The next step when no env was named: the env of the checked-out branch when there is
    one, else the env used last (not the first by name, which may be anybody's)."""
    envs = _env_configs(project_path)
    if not envs:
        return "There is no env yet: 'seeknal plan ENV' creates one (e.g. seeknal plan dev)."
    if len(envs) == 1:
        return f"Name it: seeknal {verb} {envs[0].name} (the only env)"
    branch = _branch(project_path)
    bound = [c for c in envs if branch is not None and c.branch == branch]
    if bound:
        pick, why = bound[0], f"the env of branch {branch}"
    else:
        from seeknal.envs.names import parse_utc

        def used(config: Any) -> tuple[bool, Any]:
            when = parse_utc(config.last_accessed)
            return when is not None, when

        pick, why = max(envs, key=used), "the env used last"
    return f"Name one: seeknal {verb} {pick.name} ({why}; 'seeknal env list' lists all {len(envs)})"


def _env_configs(project_path: Path | None) -> list[Any]:
    """The `EnvConfig` of each env of the project, by name (none when it cannot be found)."""
    from seeknal.errors import SeeknalError
    from seeknal.project.files import find_root
    from seeknal.state.layout import Target
    from seeknal.state.store import read_env_config

    try:
        root = project_path.resolve() if project_path is not None else find_root(Path.cwd())
        folder = root / "target" / "environments"
        names = sorted(p.name for p in folder.iterdir() if (p / "env_config.json").is_file())
    except (OSError, SeeknalError):
        return []
    found = []
    for name in names:
        try:
            config = read_env_config(Target(root, name))
        except SeeknalError:  # a damaged env is listed by `env list`, not suggested
            continue
        if config is not None:
            found.append(config)
    return found


def _branch(project_path: Path | None) -> str | None:
    from seeknal.git import dotgit

    dirs = dotgit.find_git((project_path or Path.cwd()).resolve())
    return dotgit.current_branch(dirs) if dirs is not None else None


def branch_binding(ctx: Any, env: str) -> dict[str, str] | None:
    """`{"branch": name}` when `env` is the env of the checked-out branch, so that planning it
    (explicitly, or implicitly by `seeknal run` on the branch) binds it to that branch: `env list`
    shows it, `env gc` removes it once the branch is deleted, and no other branch takes it."""
    from seeknal.git import active, dotgit
    from seeknal.git.hook_support import settings_of

    dirs = dotgit.find_git(ctx.root)
    branch = dotgit.current_branch(dirs) if dirs is not None else None
    if branch is None:
        return None
    settings = settings_of(ctx.root)
    if not settings.bind_branches or active.env_for_branch(ctx.root, branch, settings) != env:
        return None
    return {"branch": branch}
