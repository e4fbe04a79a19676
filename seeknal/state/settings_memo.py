"""The `git:` and `history:` settings of seeknal_project.yml as last parsed, kept as JSON beside
the tool cache with the file's text: the git hooks, `env current` and promote read them without
importing a YAML parser (about a third of a hook's time). Losing or damaging the file only costs
that time again. Read with `os` and `jsonfile` alone: the post-checkout hook's process imports
nothing more."""

from __future__ import annotations

import os

from seeknal import jsonfile

TYPE_CHECKING = False  # not `typing`'s: importing it costs the hook 2-3 ms
if TYPE_CHECKING:
    from typing import Any

MEMO = os.path.join("target", ".seeknal-cache", "settings.json")  # beside the tool cache
KEPT = ("git", "history")  # a memo without one of them (an older one) is not used


def recall(root: str | os.PathLike[str], text: str) -> dict[str, Any] | None:
    """The settings remembered for exactly this project file text, else None."""
    memo = jsonfile.read(os.path.join(root, MEMO))
    if not isinstance(memo, dict) or memo.get("source") != text:
        return None
    settings = memo.get("settings")
    if not isinstance(settings, dict) or any(key not in settings for key in KEPT):
        return None
    return settings


def remember(root: str | os.PathLike[str], text: str, settings: dict[str, Any]) -> None:
    """Keep `settings` (only the parts in KEPT) for this text; never creates target/."""
    import json

    from seeknal.state import TEMP_PREFIX  # not atomic's module: it loads the records

    path = os.path.join(root, MEMO)
    folder = os.path.dirname(path)
    if not os.path.isdir(os.path.dirname(folder)):
        return
    tmp = os.path.join(folder, f"{TEMP_PREFIX}{os.getpid()}-settings.json")
    try:
        kept = {key: settings.get(key) for key in KEPT}
        data = json.dumps({"source": text, "settings": kept})
        os.makedirs(folder, exist_ok=True)
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(data)
        os.replace(tmp, path)  # whole or not at all; no fsync: it only saves time
    except (OSError, TypeError, ValueError):
        if os.path.exists(tmp):
            os.unlink(tmp)  # e.g. a date in git: is no JSON: parsed every time
