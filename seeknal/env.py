"""Pure rules for environments: names, TTL and expiry."""

from __future__ import annotations

import datetime as dt
import re

from seeknal.errors import EnvError

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
    if not ENV_NAME.match(name or ""):
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
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def expires_at(last_accessed: str | None, ttl_seconds: int | None) -> dt.datetime | None:
    start = parse_utc(last_accessed)
    if start is None:
        return None
    return start + dt.timedelta(seconds=int(ttl_seconds or DEFAULT_TTL_SECONDS))


def is_expired(last_accessed: str | None, ttl_seconds: int | None, now: dt.datetime) -> bool:
    expiry = expires_at(last_accessed, ttl_seconds)
    return expiry is not None and expiry <= now
