"""Atomic file writes: temp file in the same folder, fsync, os.replace, fsync the folder."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Collection
from pathlib import Path
from typing import Any

from seeknal.errors import StateError
from seeknal.state import TEMP_PREFIX, failpoints
from seeknal.state.records.reader import GENERIC_HINT, json_type


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes(path: Path, data: bytes, durable: bool = True) -> None:
    """Write `path` whole or not at all; `durable` also survives a power loss (fsync), which a
    cache that only costs time to lose does without."""
    try:
        _write_bytes(path, data, durable)
    except OSError as exc:
        raise StateError(
            f"Could not write {path}: {exc.strerror or exc}.",
            f"Check that {path.parent} is a writable folder and {path.name} is not a folder, "
            "then run the command again (nothing was half-written).",
        ) from None


def _write_bytes(path: Path, data: bytes, durable: bool = True) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=path.parent)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; state files follow the umask
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        failpoints.hit(f"atomic.{path.name}")  # crash tests: killed with the temp file written
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if durable:
        fsync_dir(path.parent)


PRETTY_LIMIT = 64 * 1024


def dump_json(value: Any, plain: bool = False) -> bytes:
    """Sorted keys; indented when small. Large files (manifests of thousands of nodes) stay
    compact: the indenting encoder is pure Python and several times slower.

    `plain`: a record seeknal builds from its own values only (text, whole numbers, durations,
    booleans, null, lists, objects with text keys: run states, refs). Large ones are encoded by
    orjson, ten times faster than `json` (a 3 MB run state: 1.5 ms against 16 ms); the same
    JSON, with text outside ASCII written as UTF-8 rather than escaped."""
    if plain:
        data = _fast_dump(value)
        if data is not None and len(data) >= PRETTY_LIMIT:
            return data + b"\n"
    text = json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))
    if len(text) < PRETTY_LIMIT:
        text = json.dumps(value, indent=2, sort_keys=True, default=str)
    return (text + "\n").encode()


def _orjson() -> Any:
    """orjson, imported with Ctrl-C held: its module crashes the process when interrupted while
    it sets itself up."""
    from seeknal.sigint import imported

    return imported("orjson", "orjson.import")


def _fast_dump(value: Any) -> bytes | None:
    """Compact sorted JSON by orjson; None when a value is not plain JSON (json decides)."""
    orjson = _orjson()

    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # orjson.JSONEncodeError: a key or value orjson does not take as it is
        return None


def write_json(path: Path, value: Any, plain: bool = False) -> None:
    write_bytes(path, dump_json(value, plain))


def read_json(path: Path, what: str, recover: str) -> Any:
    """Read a JSON object; a corrupt, unreadable or non-object file is reported by path with
    how to recover. Large files are parsed by orjson (twice as fast); what it refuses is parsed
    by `json`, which also words what is wrong."""
    recover = recover or GENERIC_HINT
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StateError(f"{what} {path} cannot be read: {exc.strerror or exc}.", recover) from None
    data = _fast_load(raw) if len(raw) >= PRETTY_LIMIT else None
    if data is None:
        data = _load(path, raw, what, recover)
    if not isinstance(data, dict):  # the records in seeknal.state.records check the rest
        raise StateError(
            f"{what} {path} has an unexpected shape: a JSON object was expected, not "
            f"{json_type(data)}.",
            recover,
        )
    return data


def _fast_load(raw: bytes) -> Any:
    orjson = _orjson()

    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:  # also NaN, numbers beyond 64 bits: json reads those
        return None


def _load(path: Path, raw: bytes, what: str, recover: str) -> Any:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise StateError(
            f"{what} {path} is corrupt: it is not UTF-8 JSON (byte {exc.start}).", recover
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
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


def remove_temp_files(folder: Path, skip: Collection[str] = ()) -> int:
    """Delete leftovers of interrupted writes (`.seeknal-tmp-*` files) anywhere below `folder`
    but in the folders `skip` lists (paths), without following symlinks out of it; returns how
    many."""
    count = 0
    for dirpath, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if os.path.join(dirpath, d) not in skip]
        for name in files:
            path = Path(dirpath) / name
            if name.startswith(TEMP_PREFIX) and not path.is_symlink():
                count += unlink_quietly(path)
    return count


def unlink_quietly(path: Path) -> int:
    """1 when `path` was deleted, 0 when it could not be."""
    try:
        path.unlink()
    except OSError:
        return 0
    return 1
