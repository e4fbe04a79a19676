"""promotions.jsonl and the follow-up of a committed promotion (idempotent: recovery may repeat it)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from seeknal.errors import StateError
from seeknal.state.layout import Target
from seeknal.state.records import Promotion
from seeknal.state.store import read_env_config, write_env_config

HISTORY = "promotions.jsonl"


def finish_promote(root: Path, journal: dict[str, Any]) -> None:
    """Idempotent follow-up of a committed promotion: history line and env bookkeeping."""
    details = journal["details"]
    line = Promotion.from_json(details["promotion"], "the promotion journal")
    history = Target(root).base / HISTORY
    if not _history_has(history, line.id):
        torn = history.exists() and not history.read_bytes().endswith(b"\n")
        with history.open("a", encoding="utf-8") as handle:
            # a line torn by a crash is closed off, never continued
            handle.write(
                ("\n" if torn and history.stat().st_size else "")
                + json.dumps(line.to_json(), sort_keys=True)
                + "\n"
            )
            handle.flush()
            os.fsync(handle.fileno())
    env = Target(root, details["env"])
    config = read_env_config(env)
    if config is not None:
        write_env_config(env, config.promoted(details["plan_id"], line.mode, line.time))


def _history_has(history: Path, promotion_id: str) -> bool:
    return any(line.id == promotion_id for line in _history(history))


def _history(history: Path) -> list[Promotion]:
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
            entries.append(Promotion.from_json(json.loads(line), history))
        except (json.JSONDecodeError, StateError):
            continue  # torn by a crash before its promotion committed, or not a promotion
    return entries


def promotions(base: Path) -> list[Promotion]:
    return _history(base / HISTORY)
