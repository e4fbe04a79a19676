"""What a promotion replaced, kept for rollback under target/history/<promotion id>/.

A committed promotion's backup folder (the old outputs, manifest and run state it replaced) is
renamed here instead of being deleted, so keeping history costs one rename and no copy.
`entry.json` says where each kept file belongs. Entries beyond the project's retention are
moved to target/.trash, which the detached deleter empties.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seeknal.errors import StateError
from seeknal.project.retention import Retention
from seeknal.state import atomic
from seeknal.state.journal import TRASH_DIR, TXN_DIR

HISTORY_DIR = "history"
ENTRY = "entry.json"
FILES = "files"


@dataclass(frozen=True)
class KeptOp:
    """One operation of a promotion: `dst` got `src` (an env output when `moved`), and what
    was at `dst` before is `kept` (None: nothing was there). Paths relative to the root."""

    dst: str
    src: str | None
    kept: str | None
    moved: bool


@dataclass(frozen=True)
class Kept:
    id: str
    time: str
    ops: tuple[KeptOp, ...]
    after: str  # signature of the run state the promotion left (see `signature`)
    folder: Path

    def missing(self, root: Path) -> list[str]:
        return [op.kept for op in self.ops if op.kept and not (root / op.kept).exists()]

    def kept_file(self, root: Path, name: Path) -> Path | None:
        """The kept copy of production's `name` (its manifest or run state), if it had one."""
        for op in self.ops:
            if op.kept and root / op.dst == name:
                return root / op.kept
        return None


def history_dir(base: Path) -> Path:
    return base / HISTORY_DIR


SIGNATURE_V2 = "2:"  # written before the third version: every node's row, fingerprint too
SIGNATURE_V3 = "3:"  # what this version writes: the outputs only


def signature(run_state: Path, like: str | None = None) -> str:
    """What production's outputs are according to a run state (see `nodes_signature`). A run
    that writes and deletes no output leaves it as it was. `like`: a signature to compare
    with, whose version this one takes (history entries keep the version they were written
    with)."""
    try:
        nodes = json.loads(run_state.read_text(encoding="utf-8")).get("nodes", {})
    except FileNotFoundError:
        nodes = {}
    except (OSError, ValueError, AttributeError):
        return "unreadable"
    return nodes_signature(nodes, like) if isinstance(nodes, dict) else "unreadable"


def nodes_signature(nodes: dict[str, Any], like: str | None = None) -> str:
    """`signature` of a run state's `nodes` (a promotion has them at hand: it wrote them).

    Version 3 hashes one line per node that has an output (id, path, digest), sorted. A node
    that failed or was never written has none, and a fingerprint is not an output: a run that
    only adds a failing node, forgets one that wrote nothing, or records a new fingerprint for
    an unchanged output leaves production's outputs, and so a rollback's result, as they were.
    Versions 1 and 2 hashed every node's row with its fingerprint; entries written with them
    are compared the same way."""
    if like is not None and like.startswith(SIGNATURE_V2):
        return SIGNATURE_V2 + _rows_digest(nodes, with_hash=True)
    if like is not None and not like.startswith(SIGNATURE_V3) and like != "unreadable":
        rows = sorted(
            (str(k), str(v.get("hash")), str(v.get("output_path")), str(v.get("output_digest")))
            for k, v in nodes.items()
            if isinstance(v, dict)
        )
        return hashlib.sha256(json.dumps(rows).encode()).hexdigest()
    return SIGNATURE_V3 + _rows_digest(nodes, with_hash=False)


def _rows_digest(nodes: dict[str, Any], with_hash: bool) -> str:
    if with_hash:
        lines = sorted(
            f"{k}\0{v.get('hash')}\0{v.get('output_path')}\0{v.get('output_digest')}\n"
            for k, v in nodes.items()
            if isinstance(v, dict)
        )
    else:
        lines = sorted(
            f"{k}\0{v.get('output_path')}\0{v.get('output_digest')}\n"
            for k, v in nodes.items()
            if isinstance(v, dict) and (v.get("output_path") or v.get("output_digest"))
        )
    text = "".join(lines).encode("utf-8", "surrogatepass")
    return hashlib.sha256(text).hexdigest()


def keep_replaced(base: Path, root: Path, journal: dict[str, Any], run_state: Path) -> None:
    """Idempotent: record where each replaced file belongs, then rename the transaction's backup
    folder into history (recovery may repeat either step after a kill)."""
    txn_id = str(journal["id"])
    folder = history_dir(base) / txn_id
    backup_rel = os.path.relpath(base / TXN_DIR / txn_id / "backup", root)
    kept_rel = os.path.relpath(folder / FILES, root)
    staged_rel = os.path.relpath(base / TXN_DIR, root) + os.sep
    if not (folder / ENTRY).exists():
        ops = []
        for op in journal.get("ops", []):
            backup = str(op["backup"])
            there = (root / backup).exists() or (root / kept_rel / Path(backup).name).exists()
            src = op.get("src")
            ops.append(
                {
                    "dst": op["dst"],
                    "src": src,
                    "kept": os.path.join(kept_rel, Path(backup).name) if there else None,
                    "moved": bool(src) and not str(src).startswith(staged_rel),
                }
            )
        time = str(journal.get("details", {}).get("promotion", {}).get("time", ""))
        after = journal.get("details", {}).get("after")  # what the promotion wrote
        after = after if isinstance(after, str) else signature(run_state)
        entry = {"id": txn_id, "time": time, "ops": ops, "after": after}
        atomic.write_json(folder / ENTRY, entry)
    if (root / backup_rel).is_dir() and not (folder / FILES).exists():
        os.replace(root / backup_rel, folder / FILES)


def read_kept(base: Path, promotion_id: str) -> Kept | None:
    """The kept files of one promotion, None when there are none (pruned or never kept)."""
    folder = history_dir(base) / promotion_id
    path = folder / ENTRY
    if not path.is_file():
        return None
    data = atomic.read_json(
        path, "History entry", f"Move {folder} aside; that promotion can no longer be rolled back."
    )
    try:
        ops = tuple(
            KeptOp(str(o["dst"]), o.get("src"), o.get("kept"), bool(o.get("moved")))
            for o in data["ops"]
        )
        return Kept(str(data["id"]), str(data.get("time", "")), ops, str(data["after"]), folder)
    except (KeyError, TypeError) as exc:
        raise StateError(
            f"History entry {path} is damaged ({exc!r}).",
            f"Move {folder} aside; that promotion can no longer be rolled back.",
        ) from None


def disk_bytes(folder: Path) -> int:
    total = 0
    for dirpath, _, files in os.walk(folder):
        for name in files:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_size
            except OSError:
                continue
    return total


def expired(base: Path, retention: Retention, now: dt.datetime | None = None) -> list[Path]:
    """History folders beyond the retention: all but the newest `keep`, and any older than
    `days`; folders without an entry (a kill before it was written) too."""
    folder = history_dir(base)
    if not folder.is_dir():
        return []
    now = now or dt.datetime.now(dt.UTC)
    dated: list[tuple[str, Path]] = []
    doomed: list[Path] = []
    for child in folder.iterdir():
        entry = child / ENTRY
        if not entry.is_file():
            doomed.append(child)
            continue
        try:
            dated.append((str(json.loads(entry.read_text()).get("time", "")), child))
        except (OSError, ValueError, AttributeError):
            doomed.append(child)
    dated.sort(reverse=True)
    limit = now - dt.timedelta(days=retention.days)
    for index, (time, child) in enumerate(dated):
        if index >= retention.keep or _parse(time) < limit:
            doomed.append(child)
    return sorted(doomed)


def _parse(time: str) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(time.replace("Z", "+00:00"))
    except ValueError:
        return dt.datetime.min.replace(tzinfo=dt.UTC)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def discard(base: Path, folders: list[Path]) -> None:
    """Move history folders to the trash (emptied by the deleter, off the critical path)."""
    trash = base / TRASH_DIR
    for child in folders:
        if child.is_dir():
            trash.mkdir(exist_ok=True)
            os.replace(child, trash / f"history-{child.name}")
