"""Pure rules for environments: names, TTL and expiry."""

from __future__ import annotations

TYPE_CHECKING = False  # not `typing`'s: importing it costs the hook 2-3 ms
if TYPE_CHECKING:  # the post-checkout hook imports this module: nothing beyond it at run time
    import datetime as dt
    from collections.abc import Callable

RESERVED = frozenset({"prod", "production", ".", ".."})
DEFAULT_TTL_SECONDS = 604800


def validate_env_name(name: str) -> str:
    """Refuse anything that is not a safe env name, before any path is built from it."""
    from seeknal.errors import EnvError

    if name in RESERVED:
        raise EnvError(
            f"'{name}' is reserved and cannot be an environment name.",
            "Production is what 'seeknal run' without --env manages; pick another name, e.g. dev.",
        )
    if not _valid_name(name or ""):
        shown = repr(name) if name else "(it is empty)"
        raise EnvError(
            f"Invalid environment name {shown}: use 1-63 characters of a-z, 0-9, '.', '_' "
            "and '-', starting with a letter or digit.",
            "For example: seeknal plan dev",
        )
    return name


def parse_utc(text: str | None) -> dt.datetime | None:
    """Parse a stored timestamp; naive ones (older files) are taken as UTC."""
    import datetime as dt  # here: the post-checkout hook imports this module, not datetime

    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    # always in UTC: expiry is printed with a Z suffix, so a +05:00 time must be converted
    return value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)


def expires_at(last_accessed: str | None, ttl_seconds: int | None) -> dt.datetime | None:
    import datetime as dt

    start = parse_utc(last_accessed)
    if start is None:
        return None
    return start + dt.timedelta(seconds=int(ttl_seconds or DEFAULT_TTL_SECONDS))


def is_expired(last_accessed: str | None, ttl_seconds: int | None, now: dt.datetime) -> bool:
    expiry = expires_at(last_accessed, ttl_seconds)
    return expiry is not None and expiry <= now


def branch_env_name(branch: str, bound_branch: Callable[[str], str | None] | None = None) -> str:
    """The env a git branch maps to (docs/git.md).

    Lower-case, `/` and other characters outside a-z 0-9 . _ - become `-`. A short hash of the
    branch name is appended whenever that lost information (upper case, other characters,
    length, a reserved name), and also when the plain name is already bound to another branch
    (`bound_branch(name)` tells which), so two branches never share an env. An env already
    bound to this branch stays its env, whatever happened to the other names since (another
    branch's env deleted by `env gc` must not move this branch to a new env).
    """
    lowered = branch.replace("/", "-")
    base = _dashed(branch.lower())
    plain = base == lowered and base not in RESERVED and len(base) <= 63
    if plain and (bound_branch is None or bound_branch(base) == branch):
        return base  # the common case, decided before hashing (the post-checkout hook's path)
    import hashlib

    digest = hashlib.sha1(branch.encode("utf-8")).hexdigest()
    # a longer hash in the (constructed) case that a branch literally named like another
    # branch's hashed env already holds it
    hashed = [f"{base[: 62 - size].rstrip('-._')}-{digest[:size]}" for size in (6, 12, 40)]
    candidates = ([base] if plain else []) + hashed
    if bound_branch is None:
        return candidates[0]
    owners = {name: bound_branch(name) for name in candidates}
    for name in candidates:
        if owners[name] == branch:
            return name
    return next((name for name in candidates if owners[name] is None), candidates[-1])


_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._-")


def _valid_name(name: str) -> bool:
    """1-63 characters of a-z 0-9 . _ -, the first a letter or digit."""
    return 0 < len(name) <= 63 and name[0] not in "._-" and all(ch in _NAME_CHARS for ch in name)


def _dashed(text: str) -> str:
    """Runs of characters outside a-z 0-9 . _ - and of dashes become one dash; dots,
    underscores and dashes are stripped from both ends (no regular expression to compile: the
    post-checkout hook calls this)."""
    swapped = "".join(ch if ch in _NAME_CHARS else "-" for ch in text)
    return "-".join(part for part in swapped.split("-") if part).strip("-._") or "branch"


class EnvFacts:
    """What an env's status is decided from: a few values of its config, plan and run state.

    Plain values, so the post-checkout hook can fill them from the JSON files without loading
    the state records (and `dataclasses`, or `typing` for a NamedTuple)."""

    __slots__ = ("plan_id", "promoted_plan_id", "base_fingerprint", "applied_plan_id", "all_ok")

    def __init__(
        self,
        plan_id: str | None,  # None: the env has no plan
        promoted_plan_id: str | None,
        base_fingerprint: str | None,  # production's manifest fingerprint when planned
        applied_plan_id: str | None,  # the plan its run state was computed for
        all_ok: bool,  # every node of that run succeeded or was cached
    ) -> None:
        self.plan_id = plan_id
        self.promoted_plan_id = promoted_plan_id
        self.base_fingerprint = base_fingerprint
        self.applied_plan_id = applied_plan_id
        self.all_ok = all_ok


def env_status(facts: EnvFacts | None, prod_fingerprint: str | None) -> str:
    """planned | applied | promoted | stale (and failed, empty) for one env."""
    if facts is None or facts.plan_id is None:
        return "empty"
    if facts.promoted_plan_id == facts.plan_id:
        return "promoted"
    if facts.base_fingerprint != prod_fingerprint:
        return "stale"
    if facts.applied_plan_id == facts.plan_id:
        return "applied" if facts.all_ok else "failed"
    return "planned"
