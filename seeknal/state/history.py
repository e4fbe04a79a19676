"""promotions.jsonl and the follow-up of a committed promotion or rollback (idempotent: recovery
may repeat it)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from seeknal.errors import StateError
from seeknal.project.retention import Retention
from seeknal.state import kept
from seeknal.state.layout import Target
from seeknal.state.records import Promotion, RunState
from seeknal.state.store import read_env_config, write_env_config

HISTORY = "promotions.jsonl"


def finish_promote(root: Path, journal: dict[str, Any]) -> None:
    """Idempotent follow-up of a committed promotion: history line, env bookkeeping, and the
    replaced files kept for rollback (or left to the trash when the retention keeps none)."""
    details = journal["details"]
    line = Promotion.from_json(details["promotion"], "the promotion journal")
    prod = Target(root)
    append_line(prod.base, line)
    env = Target(root, details["env"])
    config = read_env_config(env)
    if config is not None:
        write_env_config(env, config.promoted(details["plan_id"], line.mode, line.time))
    retention = Retention.from_json(details.get("history"))
    if retention.keep > 0:
        kept.keep_replaced(prod.base, root, journal, prod.run_state_path)
    kept.discard(prod.base, kept.expired(prod.base, retention))


def finish_rollback(root: Path, journal: dict[str, Any]) -> None:
    """Idempotent follow-up of a committed rollback: history line, the envs given back their
    outputs marked unpromoted, the history the rollback used up dropped."""
    details = journal["details"]
    line = Promotion.from_json(details["rollback"], "the rollback journal")
    prod = Target(root)
    append_line(prod.base, line)
    for name, plan_id in details.get("envs", {}).items():
        env = Target(root, name)
        config = read_env_config(env)
        if config is not None and config.promoted_plan_id == plan_id:
            write_env_config(env, config.unpromoted())
    kept.discard(prod.base, [kept.history_dir(prod.base) / i for i in line.undoes])


def record_run(
    base: Path,
    before: RunState,
    after: RunState,
    removed: list[str],
    fingerprint: str | None,
    git_commit: str | None,
) -> Promotion | None:
    """A production run that changed outputs becomes a line of production's history."""
    changed = tuple(
        node
        for node, entry in after.nodes.items()
        if entry.output_digest
        and entry.output_digest
        != (before.nodes[node].output_digest if node in before.nodes else None)
    )
    # a removed node that had no output (it failed, or never ran) took nothing away
    removed = [n for n in removed if n not in before.nodes or _has_output(before.nodes[n])]
    if not changed and not removed:
        return None
    line = Promotion(
        id=str(after.run_id or ""),
        env="prod",
        plan_id=None,
        time=str(after.last_run or ""),
        nodes=changed,
        removed_nodes=tuple(removed),
        manifest_fingerprint=fingerprint,
        git_commit=git_commit,
        kind="run",
    )
    try:
        append_line(base, line)
    except (StateError, OSError):
        # the run is recorded in run_state.json; rollback notices it by production's digests
        return None
    return line


def _has_output(entry: Any) -> bool:
    return bool(entry.output_digest or entry.output_path)


def append_line(base: Path, line: Promotion) -> None:
    """Append one line to promotions.jsonl, once per id."""
    history = base / HISTORY
    if _history_has(history, line.id):
        return
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


def _history_has(history: Path, promotion_id: str) -> bool:
    try:
        raw: bytes | None = history.read_bytes()
    except FileNotFoundError:
        return False
    except OSError:
        raw = None  # _history words it
    if raw is not None and json.dumps(promotion_id).encode() not in raw:
        return False  # the usual answer, without parsing every past line
    return any(line.id == promotion_id for line in _history(history))


def check_readable(base: Path) -> None:
    """Refuse a promotions.jsonl that cannot be read (as `promotions` would), without parsing
    the lines of every past promotion."""
    history = base / HISTORY
    try:
        with history.open("rb"):
            pass
    except FileNotFoundError:
        return
    except OSError:
        _history(history)  # words it


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
