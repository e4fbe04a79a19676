"""Temp files a killed command may leave behind: seeknal's own names, inside the project only.

An atomic write puts `.seeknal-tmp-*` beside its file under target/. An engine writes an output to
`.seeknal-tmp-<pid>-...` beside it, which for a production exposure is a folder of the project
outside target/ (`exports/`, say). Before a command writes outputs outside target/, it records
their folders in `target/.temp-folders.json`; whoever recovers after a kill looks there too,
without loading the project (the project may have changed, or not load at all).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from seeknal.errors import StateError
from seeknal.state import atomic
from seeknal.state.atomic import TEMP_PREFIX
from seeknal.state.layout import Target

TEMP_FOLDERS = ".temp-folders.json"


def note_folders(base: Path, root: Path, folders: Iterable[Path]) -> None:
    """Record the folders outside target/ (and inside the project) a command will write to."""
    outside = [f for f in folders if not f.is_relative_to(base)]
    wanted = {rel for rel in (_relative(root, f) for f in outside) if rel is not None}
    known = _recorded(base)
    if wanted <= known:
        return
    keep = {rel for rel in known if (root / rel).is_dir()}
    atomic.write_json(base / TEMP_FOLDERS, {"folders": sorted(keep | wanted)})


def remove_leftovers(base: Path, root: Path, outputs: bool = True) -> int:
    """Delete every `.seeknal-tmp-*` file under target/ and in the recorded folders (without
    `outputs`: not in the output caches nor the recorded folders, which only runs write, under
    the lock). Call with target/'s lock held: only then can no live command be writing one."""
    count = atomic.remove_temp_files(base, skip=() if outputs else _output_caches(base))
    if not outputs:
        return count
    for rel in _recorded(base):
        folder = root / rel
        if _relative(root, folder) is None or folder.is_symlink() or not folder.is_dir():
            continue
        for tmp in folder.glob(TEMP_PREFIX + "*"):
            if not tmp.is_symlink() and tmp.is_file():
                count += atomic.unlink_quietly(tmp)
    return count


def _output_caches(base: Path) -> set[str]:
    envs = base / "environments"
    names = [e.name for e in os.scandir(envs) if e.is_dir()] if envs.is_dir() else []
    return {str(Target(base.parent, env).cache_dir) for env in [None, *names]}


def _relative(root: Path, folder: Path) -> str | None:
    """`folder` relative to the project root, or None when it resolves outside the project."""
    try:
        return folder.resolve().relative_to(root.resolve()).as_posix()
    except (OSError, ValueError):
        return None


def _recorded(base: Path) -> set[str]:
    try:
        data = atomic.read_json(base / TEMP_FOLDERS, "Temp folder list", "")
    except StateError:
        return set()  # damaged: rewritten by the next command that records a folder
    folders = data.get("folders") if isinstance(data, dict) else None
    return {f for f in folders if isinstance(f, str)} if isinstance(folders, list) else set()
