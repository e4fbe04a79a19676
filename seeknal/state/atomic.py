"""Atomic file writes: temp file in the same folder, fsync, os.replace, fsync the folder."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from seeknal.errors import StateError

TEMP_PREFIX = ".seeknal-tmp-"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=path.parent)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; state files follow the umask
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


PRETTY_LIMIT = 64 * 1024


def dump_json(value: Any) -> str:
    """Sorted keys; indented when small. Large files (manifests of thousands of nodes) stay
    compact: the indenting encoder is pure Python and several times slower."""
    text = json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))
    if len(text) < PRETTY_LIMIT:
        text = json.dumps(value, indent=2, sort_keys=True, default=str)
    return text + "\n"


def write_json(path: Path, value: Any) -> None:
    write_bytes(path, dump_json(value).encode())


def read_json(path: Path, what: str, recover: str) -> Any:
    """Read a state file; a corrupt one is reported by path with how to recover."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        return json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise StateError(
            f"{what} {path} is corrupt or truncated ({exc.__class__.__name__}: {exc}).",
            recover,
        ) from None


def fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def remove_temp_files(folder: Path) -> int:
    """Delete leftovers of interrupted atomic writes below `folder`; returns how many."""
    count = 0
    if not folder.is_dir():
        return 0
    for tmp in folder.rglob(TEMP_PREFIX + "*"):
        try:
            tmp.unlink()
            count += 1
        except OSError:
            pass
    return count
