"""Reading a project's git settings cheaply (no project load)."""

from __future__ import annotations

from pathlib import Path

from seeknal.git.settings import GitSettings, git_settings


def settings_of(root: Path) -> GitSettings:
    from seeknal.project import PROJECT_FILE, parse_yaml

    try:
        data = parse_yaml((root / PROJECT_FILE).read_text(encoding="utf-8"))
    except Exception:  # noqa: BLE001 - load() reports a broken project file properly
        data = {}
    return git_settings(data if isinstance(data, dict) else {})
