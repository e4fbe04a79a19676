"""Reading and writing the JSON state files and the tool cache."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from seeknal import forked
from seeknal.errors import StateError
from seeknal.state import atomic
from seeknal.state.layout import Target
from seeknal.state.manifest_scan import entries_in, manifest_fingerprint_of
from seeknal.state.records import EntityFiles, EnvConfig, Manifest, Plan, Refs, RunState
from seeknal.state.tool_cache import VERSION_KEY, DigestLog, ToolCache

__all__ = ["VERSION_KEY", "DigestLog", "ToolCache"]  # the tool cache, where it was before

Record = TypeVar("Record", RunState, Manifest, Plan, EnvConfig, Refs)


def hint_for(target: Target, path: Path) -> str:
    """How to recover from a damaged state file of production or of one env."""
    if target.env is not None:
        return (
            f"Delete {target.relative(path)} (or the whole env: seeknal env delete {target.env}), "
            f"then run 'seeknal plan {target.env}' to write it again."
        )
    if path == target.run_state_path:
        return "Delete it and run 'seeknal run --full' to rebuild it."
    return "Delete it and run 'seeknal run' to write it again."


def _read(
    target: Target, path: Path, record: type[Record], what: str | None = None
) -> Record | None:
    label = what or record.WHAT
    hint = hint_for(target, path)
    data = atomic.read_json(path, label, hint)
    return None if data is None else record.from_json(data, path, hint, label)


def read_run_state(target: Target) -> RunState:
    """The run state, empty when there is none yet."""
    return _read(target, target.run_state_path, RunState) or RunState()


def read_env_outputs(target: Target) -> tuple[RunState, dict[str, str | None]]:
    """An env's run state as a promotion reads it: records of the nodes the env computed, and
    the fingerprint of each node it reads from production (RunState.computed_from_json).

    Read ahead by a forked copy of promote (cli/promote_ahead.py) before target/'s lock was
    taken: its reading counts when the file still has the stats it had then (seeknal replaces
    state files whole, so a file written since is another inode)."""
    answered, seen = forked.taken(f"env-outputs:{target.root}:{target.env}")
    if answered and seen[0] == _stats(target.run_state_path):
        return seen[1], seen[2]
    path, hint = target.run_state_path, hint_for(target, target.run_state_path)
    data = atomic.read_json(path, RunState.WHAT, hint)
    return (RunState(), {}) if data is None else RunState.computed_from_json(data, path, hint)


def env_outputs_seen(target: Target) -> tuple[tuple[int, ...] | None, RunState, dict[str, Any]]:
    """`read_env_outputs` with the stats the file had before it was read."""
    stats = _stats(target.run_state_path)
    return (stats, *read_env_outputs(target))


def _stats(path: Path) -> tuple[int, ...] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def read_run_state_json(target: Target, check: Collection[str]) -> tuple[dict[str, Any], RunState]:
    """The run state as JSON (for RunState.promoted_json), and as a record holding only the
    entries of the nodes in `check` (the only ones checked)."""
    path, hint = target.run_state_path, hint_for(target, target.run_state_path)
    data = atomic.read_json(path, RunState.WHAT, hint) or {}
    return data, (RunState.from_json(data, path, hint, only=check) if data else RunState())


def write_run_state(target: Target, state: RunState) -> None:
    atomic.write_json(target.run_state_path, state.to_json(), plain=True)


def read_manifest(target: Target) -> Manifest | None:
    what = "Manifest" if target.env is None else "Environment manifest"
    return _read(target, target.manifest_path, Manifest, what)


def write_manifest(target: Target, manifest: Manifest) -> None:
    atomic.write_json(target.manifest_path, manifest.to_json())


def read_plan(target: Target) -> Plan | None:
    return _read(target, target.plan_path, Plan)


def write_plan(target: Target, plan: Plan) -> None:
    atomic.write_json(target.plan_path, plan.to_json())


def read_env_config(target: Target) -> EnvConfig | None:
    return _read(target, target.env_config_path, EnvConfig)


def write_env_config(target: Target, config: EnvConfig) -> None:
    atomic.write_json(target.env_config_path, config.to_json())


def read_refs(target: Target, only: Collection[str] | None = None) -> Refs:
    """The production outputs an env reads (with `only`, those of these nodes). Every plan
    writes the file, so a missing one is refused: reading production without it would skip
    every check of production's bytes."""
    path, hint = target.refs_path, hint_for(target, target.refs_path)
    data = atomic.read_json(path, Refs.WHAT, hint)
    refs = None if data is None else Refs.from_json(data, path, hint, only=only)
    if refs is None:
        raise StateError(
            f"{Refs.WHAT} {target.refs_path} is missing: the production outputs env "
            f"'{target.env}' reads cannot be checked without it.",
            f"Run 'seeknal plan {target.env}' to write it again.",
        )
    return refs


def read_refs_json(target: Target) -> Any:
    """refs.json as plain JSON, None when missing (a check that builds no records; read_refs
    words what is wrong with it)."""
    return atomic.read_json(target.refs_path, Refs.WHAT, hint_for(target, target.refs_path))


def write_refs(target: Target, refs: Refs) -> None:
    atomic.write_json(target.refs_path, refs.to_json(), plain=True)


def read_entity_files(target: Target) -> EntityFiles:
    """The consolidated feature store files an env wrote (none when it wrote none)."""
    path = target.entity_files_path
    data = atomic.read_json(path, EntityFiles.WHAT, hint_for(target, path))
    return EntityFiles() if data is None else EntityFiles.from_json(data, path)


def write_entity_files(target: Target, files: EntityFiles) -> None:
    """Written when the env has such files to promote; an empty record is no file at all."""
    if files.files or files.gone:
        atomic.write_json(target.entity_files_path, files.to_json())
    else:
        target.entity_files_path.unlink(missing_ok=True)


def _mapped(handle: BinaryIO) -> Any:
    """The file's bytes mapped, not read (10 MB at 10,000 nodes, of which a promotion decodes
    a few entries); read when it cannot be mapped (an empty file)."""
    import mmap

    try:
        return mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    except (ValueError, OSError):
        return contextlib.nullcontext(handle.read())


def read_manifest_nodes(target: Target, node_ids: Iterable[str]) -> Manifest | None:
    """The manifest with only these nodes' entries, or None when the file is missing.

    The entries are found in one scan of the file's bytes and only they are decoded
    (state/manifest_scan.py); an entry not found where it must be parses the whole file (which
    also reports a damaged one)."""
    path = target.manifest_path
    wanted = sorted(set(node_ids))
    try:
        with path.open("rb") as handle, _mapped(handle) as data:
            found = entries_in(data, wanted)
    except FileNotFoundError:
        return None
    except OSError:
        found = None
    hint = hint_for(target, path)
    what = "Manifest" if target.env is None else "Environment manifest"
    if found is None:
        manifest = _read(target, path, Manifest, what)
        if manifest is None:
            return None
        found = {n: manifest.nodes[n] for n in wanted if n in manifest.nodes}
        return Manifest(found, manifest.fingerprint, manifest.metadata)
    doc: dict[str, Any] = {"schema_version": Manifest.SCHEMA_VERSION, "nodes": found}
    doc["fingerprint"] = manifest_fingerprint_of(path)
    return Manifest.from_json(doc, path, hint, what)
