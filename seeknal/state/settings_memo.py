"""The `git:` and `history:` settings of seeknal_project.yml as last parsed, kept as JSON beside
the tool cache with the file's text: the git hooks, `env current` and promote read them without
importing a YAML parser (about a third of a hook's time). Losing or damaging the file only costs
that time again."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

MEMO = Path("target", ".seeknal-cache", "settings.json")  # beside state/store.py's tool cache
KEPT = ("git", "history")  # a memo without one of them (an older one) is not used


def recall(root: Path, text: str) -> dict[str, Any] | None:
    """The settings remembered for exactly this project file text, else None."""
    try:
        memo = json.loads((root / MEMO).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(memo, dict) or memo.get("source") != text:
        return None
    settings = memo.get("settings")
    if not isinstance(settings, dict) or any(key not in settings for key in KEPT):
        return None
    return settings


def remember(root: Path, text: str, settings: dict[str, Any]) -> None:
    """Keep `settings` (only the parts in KEPT) for this text; never creates target/."""
    from seeknal.state import TEMP_PREFIX  # not atomic's module: it loads the records

    path = root / MEMO
    if not path.parent.parent.is_dir():
        return
    tmp = path.with_name(f"{TEMP_PREFIX}{os.getpid()}-{path.name}")
    try:
        kept = {key: settings.get(key) for key in KEPT}
        data = json.dumps({"source": text, "settings": kept})
        path.parent.mkdir(exist_ok=True)
        tmp.write_text(data, encoding="utf-8")
        os.replace(tmp, path)  # whole or not at all; no fsync: it only saves time
    except (OSError, TypeError, ValueError):
        tmp.unlink(missing_ok=True)  # e.g. a date in git: is no JSON: parsed every time
