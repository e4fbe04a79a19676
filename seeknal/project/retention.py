"""`history:` in seeknal_project.yml: how long production keeps what a promotion replaced."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DEFAULT_KEEP = 5  # promotions
DEFAULT_DAYS = 7.0


@dataclass(frozen=True)
class Retention:
    """Replaced outputs are kept for the last `keep` promotions, none older than `days` days
    (whichever limit comes first); `keep: 0` keeps nothing (no rollback)."""

    keep: int = DEFAULT_KEEP
    days: float = DEFAULT_DAYS

    def to_json(self) -> dict[str, Any]:
        return {"keep": self.keep, "days": self.days}

    @classmethod
    def from_json(cls, data: Any) -> Retention:
        """From a journal's copy (already validated when it was written); defaults otherwise."""
        if not isinstance(data, dict):
            return cls()
        keep, days = data.get("keep", DEFAULT_KEEP), data.get("days", DEFAULT_DAYS)
        if _bad_keep(keep) or _bad_days(days):
            return cls()
        return cls(int(keep), float(days))


def _bad_keep(value: Any) -> bool:
    return isinstance(value, bool) or not isinstance(value, int) or value < 0


def _bad_days(value: Any) -> bool:
    return isinstance(value, bool) or not isinstance(value, int | float) or value < 0


def retention_problems(value: Any) -> list[str]:
    """What is wrong with the `history:` setting (nothing when it is missing)."""
    if value is None:
        return []
    if not isinstance(value, dict):
        return ["'history' must be a mapping, e.g. {keep: 5, days: 7}"]
    problems = [
        f"history.{key} is not a setting (use keep and days)"
        for key in value
        if key not in ("keep", "days")
    ]
    if "keep" in value and _bad_keep(value["keep"]):
        problems.append(
            f"history.keep must be a whole number of promotions, 0 or more, not {value['keep']!r}"
        )
    if "days" in value and _bad_days(value["days"]):
        problems.append(f"history.days must be a number of days, 0 or more, not {value['days']!r}")
    return problems


def retention(settings: dict[str, Any]) -> Retention:
    """The project's retention (defaults for a missing or invalid setting: load reports it)."""
    value = settings.get("history")
    if value is None or retention_problems(value):
        return Retention()
    return Retention(int(value.get("keep", DEFAULT_KEEP)), float(value.get("days", DEFAULT_DAYS)))
