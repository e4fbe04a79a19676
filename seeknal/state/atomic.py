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
    try:
        _write_bytes(path, data)
    except OSError as exc:
        raise StateError(
            f"Could not write {path}: {exc.strerror or exc}.",
            f"Check that {path.parent} is a writable folder and {path.name} is not a folder, "
            "then run the command again (nothing was half-written).",
        ) from None


def _write_bytes(path: Path, data: bytes) -> None:
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


# Fields the readers of each state file rely on, with the JSON types they may have, and the
# fields holding one object per node: a file of another shape is reported like a corrupt one.
_FIELDS: dict[str, dict[str, tuple[type, ...]]] = {
    "run_state.json": {"nodes": (dict,)},
    "manifest.json": {"nodes": (dict,), "fingerprint": (str,)},
    "plan.json": {
        "plan_id": (str,),
        "nodes_to_execute": (list,),
        "added_nodes": (list,),
        "removed_nodes": (list,),
        "reasons": (dict,),
        "categorized_changes": (dict,),
        "base_nodes": (dict,),
        "params": (dict,),
        "git": (dict, type(None)),
        "total_nodes_to_execute": (int,),
        "total_nodes": (int,),
    },
    "env_config.json": {
        "name": (str,),
        "created_at": (str,),
        "last_accessed": (str,),
        "ttl_seconds": (int,),
        "branch": (str, type(None)),
        "promoted_from": (str, type(None)),
    },
    "refs.json": {"refs": (list,)},
}
_ENTRIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "run_state.json": ("nodes", ()),
    "manifest.json": ("nodes", ("type", "name", "fingerprint")),
    "refs.json": ("refs", ("node_id", "output_path")),
}
_GENERIC_RECOVER = (
    "Move it aside (or delete it) and run the command that writes it again "
    "('seeknal run' for production, 'seeknal plan ENV' for an environment)."
)


def read_json(path: Path, what: str, recover: str) -> Any:
    """Read a state file; a corrupt, unreadable or wrongly shaped one is reported by path with
    how to recover."""
    recover = recover or _GENERIC_RECOVER
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError as exc:
        raise StateError(
            f"{what} {path} is corrupt: it is not UTF-8 JSON (byte {exc.start}).", recover
        ) from None
    except OSError as exc:
        raise StateError(f"{what} {path} cannot be read: {exc.strerror or exc}.", recover) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StateError(
            f"{what} {path} is corrupt or truncated ({exc.__class__.__name__}: {exc}).",
            recover,
        ) from None
    problem = shape_problem(path.name, data)
    if problem:
        raise StateError(f"{what} {path} has an unexpected shape: {problem}.", recover)
    return data


def shape_problem(name: str, data: Any) -> str | None:
    """Why `data` cannot be the state file called `name`, or None when its shape is fine."""
    if not isinstance(data, dict):
        return f"a JSON object was expected, not {_json_type(data)}"
    for key, types in _FIELDS.get(name, {}).items():
        if key in data and not isinstance(data[key], types):
            return f"'{key}' is {_json_type(data[key])}"
    if name in _ENTRIES:
        key, required = _ENTRIES[name]
        values = data.get(key) or {}
        for index, entry in values.items() if isinstance(values, dict) else enumerate(values):
            if not isinstance(entry, dict):
                return f"'{key}' entry {index!r} is {_json_type(entry)}"
            for field in required:
                if not isinstance(entry.get(field), str):
                    return f"'{key}' entry {index!r} has no text '{field}'"
    return None


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    return names.get(type(value), "a number")


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
