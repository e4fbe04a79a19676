"""promotions.jsonl and the follow-up of a committed promotion (idempotent: recovery may repeat it)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from seeknal.errors import StateError
from seeknal.state import atomic
from seeknal.state.layout import Target


def finish_promote(root: Path, journal: dict[str, Any]) -> None:
    """Idempotent follow-up of a committed promotion: history line and env bookkeeping."""
    details = journal["details"]
    line = details["promotion"]
    history = Target(root).base / "promotions.jsonl"
    if not _history_has(history, line["id"]):
        torn = history.exists() and not history.read_bytes().endswith(b"\n")
        with history.open("a", encoding="utf-8") as handle:
            # a line torn by a crash is closed off, never continued
            handle.write(
                ("\n" if torn and history.stat().st_size else "")
                + json.dumps(line, sort_keys=True)
                + "\n"
            )
            handle.flush()
            os.fsync(handle.fileno())
    env_target_ = Target(root, details["env"])
    config = atomic.read_json(env_target_.env_config_path, "Environment config", "") or {}
    if config:
        config.update(
            promoted_mode=line.get("mode", "move"),
            promoted_plan_id=details["plan_id"],
            promoted_at=line["time"],
            last_accessed=line["time"],
        )
        atomic.write_json(env_target_.env_config_path, config)


def _history_has(history: Path, promotion_id: str) -> bool:
    return any(line.get("id") == promotion_id for line in _history(history))


def _history(history: Path) -> list[dict[str, Any]]:
    try:
        raw = history.read_bytes()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise StateError(
            f"Promotion history {history} cannot be read: {exc.strerror or exc}.",
            f"Move {history} aside (it is only a log of past promotions), then run the "
            "command again.",
        ) from None
    entries = []
    for line in raw.decode("utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line torn by a crash before its promotion committed
        if isinstance(entry, dict):  # anything else is not a promotion: skip it like a torn line
            entries.append(entry)
    return entries


def promotions(base: Path) -> list[dict[str, Any]]:
    return _history(base / "promotions.jsonl")
