"""Pure rules for environments: names, TTL and expiry."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from seeknal.errors import EnvError

if TYPE_CHECKING:
    from seeknal.state.records import EnvConfig, Plan, RunState

ENV_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
RESERVED = frozenset({"prod", "production", ".", ".."})
DEFAULT_TTL_SECONDS = 604800


def validate_env_name(name: str) -> str:
    """Refuse anything that is not a safe env name, before any path is built from it."""
    if name in RESERVED:
        raise EnvError(
            f"'{name}' is reserved and cannot be an environment name.",
            "Production is what 'seeknal run' without --env manages; pick another name, e.g. dev.",
        )
    if not ENV_NAME.fullmatch(name or ""):
        shown = repr(name) if name else "an empty name"
        raise EnvError(
            f"Invalid environment name {shown}: use 1-63 characters of a-z, 0-9, '.', '_' "
            "and '-', starting with a letter or digit.",
            "For example: seeknal plan dev",
        )
    return name


def parse_utc(text: str | None) -> dt.datetime | None:
    """Parse a stored timestamp; naive ones (older files) are taken as UTC."""
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    # always in UTC: expiry is printed with a Z suffix, so a +05:00 time must be converted
    return value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)


def expires_at(last_accessed: str | None, ttl_seconds: int | None) -> dt.datetime | None:
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
    (`bound_branch(name)` tells which), so two branches never share an env.
    """
    import hashlib

    lowered = branch.replace("/", "-")
    base = re.sub(r"[^a-z0-9._-]+", "-", branch.lower())
    base = re.sub(r"-{2,}", "-", base).strip("-._") or "branch"
    digest = hashlib.sha1(branch.encode("utf-8")).hexdigest()

    def owner(name: str) -> str | None:
        return bound_branch(name) if bound_branch else None

    if base == lowered and base not in RESERVED and len(base) <= 63:
        if owner(base) in (None, branch):
            return base
    # a longer hash in the (constructed) case that a branch literally named like another
    # branch's hashed env already holds it
    for size in (6, 12, 40):
        hashed = f"{base[: 62 - size].rstrip('-._')}-{digest[:size]}"
        if owner(hashed) in (None, branch):
            break
    return hashed


def env_status(
    config: EnvConfig, plan: Plan | None, state: RunState | None, prod_fingerprint: str | None
) -> str:
    """planned | applied | promoted | stale (and failed) for one env's files."""
    if plan is None:
        return "empty"
    if config.promoted_plan_id == plan.plan_id:
        return "promoted"
    if plan.base_fingerprint != prod_fingerprint:
        return "stale"
    if state and state.plan_id == plan.plan_id:
        bad = [n for n in state.nodes.values() if not n.ok]
        return "failed" if bad else "applied"
    return "planned"
