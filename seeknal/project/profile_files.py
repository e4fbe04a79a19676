"""Which profile file an env or production uses, found without importing the profile reader
(seeknal/project/profiles.py): every command looks, and most projects have none."""

from __future__ import annotations

from pathlib import Path

from seeknal.errors import SeeknalError

__all__ = ["ProfileError", "resolve_profile_path"]


class ProfileError(SeeknalError):
    """A profile file is missing, unreadable, or lacks what a node asks of it."""


def resolve_profile_path(root: Path, env: str | None, explicit: Path | None) -> str | None:
    """The profile file an env (or production, `env=None`) uses, or None when there is none."""
    if explicit is not None:
        if not explicit.is_file():
            raise ProfileError(
                f"Profile file {explicit} does not exist.", "Pass an existing file to --profile."
            )
        return str(explicit.resolve())
    home = Path.home() / ".seeknal"
    chain = [root / "profiles.yml", home / "profiles.yml"]
    if env is not None:
        chain[:0] = [root / f"profiles-{env}.yml", home / f"profiles-{env}.yml"]
    for candidate in chain:
        if candidate.is_file():
            return str(candidate)
    return None
