"""Wiring: finds the project, loads it with the tool cache, hands out targets and fingerprints."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seeknal import __version__, forked
from seeknal.digest import RACY_SECONDS
from seeknal.errors import SeeknalError
from seeknal.project.files import PROJECT_FILE, DiskFiles, ProjectFiles, find_root
from seeknal.state.layout import Target
from seeknal.state.store import ToolCache
from seeknal.types import Project

if TYPE_CHECKING:
    from seeknal.dag import Dag
    from seeknal.engine.warehouse import Warehouse
    from seeknal.planning.fingerprint import NodeFingerprint
    from seeknal.project.profiles import Profile

# placeholders whose value changes without any file changing
VOLATILE = re.compile(rb"\{\{\s*(today|yesterday|run_date|run_id|env:)")


# files changed within RACY_SECONDS that a staleness memo reads again, at most
MAX_RACY = 64


def _same_bytes(files: DiskFiles, memo: dict[str, Any]) -> bool:
    """The files a memo names as changed within RACY_SECONDS of it hold the bytes it saw."""
    racy = memo.get("racy", {})
    return isinstance(racy, dict) and all(
        hashlib.sha1(files.read(rel) or b"").hexdigest() == sha1 for rel, sha1 in racy.items()
    )


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_run_id() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + os.urandom(3).hex()


def parse_params(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SeeknalError(
            f"--params is not valid JSON: {exc.msg} (at character {exc.pos}).",
            """Pass an object, for example --params '{"run_date": "2024-01-31"}'.""",
        ) from None
    if not isinstance(value, dict):
        raise SeeknalError("--params must be a JSON object.", """Example: --params '{"k": "v"}'""")
    return value


@dataclass(frozen=True)
class Loaded:
    project: Project
    dag: Dag
    fingerprints: dict[str, NodeFingerprint]

    @property
    def manifest_fingerprint(self) -> str:
        from seeknal.planning.fingerprint import manifest_fingerprint

        return manifest_fingerprint(self.fingerprints)

    def manifest(self) -> dict[str, Any]:
        """The manifest of this load, built once (a plan writes it and its report reads it:
        at 10,000 nodes each build costs ~0.1 s). Callers do not modify it."""
        built = self.__dict__.get("_manifest")
        if built is None:
            from seeknal.planning.manifest import build_manifest

            built = build_manifest(self.project, self.fingerprints, __version__, utc_now())
            object.__setattr__(self, "_manifest", built)  # a memo, not state: frozen otherwise
        return built


class Context:
    def __init__(
        self,
        project_path: Path | None = None,
        params: dict[str, Any] | None = None,
    ) -> None:
        if project_path is not None:
            if not (project_path / PROJECT_FILE).is_file():
                raise SeeknalError(
                    f"{project_path} is not a seeknal project ({PROJECT_FILE} is missing).",
                    "Pass the folder that holds seeknal_project.yml, or run 'seeknal init'.",
                )
            self.root = project_path.resolve()
        else:
            self.root = find_root(Path.cwd())
        self.params = params or {}
        self.run_id = new_run_id()
        self.production = Target(self.root)
        if self.production.base.exists() and not self.production.base.is_dir():
            raise SeeknalError(
                f"{self.production.base} is a file, but seeknal keeps its state in that folder.",
                f"Move or delete {self.production.base}, then run the command again.",
            )
        self._link_warehouse()
        self.cache = ToolCache(
            self.production.tool_cache_path, self.production.spare_tool_cache_path
        )
        self._profile_path: str | None = None
        self._profile_chosen = False
        self.engine_choice: str | None = None  # `run --engine`; None: the profile's

    def engine_name(self, warehouse: Warehouse) -> str:
        """The engine this command runs nodes on: `--engine`, else the profile's `engine:`,
        else DuckDB."""
        return self.engine_choice or warehouse.profile.engine or "duckdb"

    def _link_warehouse(self) -> None:
        """With `warehouse:` in the production profile, target/ is a link into it
        (state/warehouse.py); a project without profile files reads none."""
        from seeknal.project.profile_files import resolve_profile_path

        path = resolve_profile_path(self.root, None, None)
        if path is None:
            return
        from seeknal.project.profiles import ProfileError, warehouse_location

        try:
            location = warehouse_location(path)
        except ProfileError:
            return  # an unusable profile is reported by the command that reads it
        if location is not None:
            from seeknal.state.warehouse import link_target

            link_target(self.root, self.production.base, location)

    def use_profile(self, path: str | None) -> None:
        """The profile file this command reads warehouses with (an env's: its plan's)."""
        self._profile_path = path
        self._profile_chosen = True

    @property
    def profile_path(self) -> str | None:
        """The chosen profile file; production's chain when the command chose none."""
        if not self._profile_chosen:
            from seeknal.project.profile_files import resolve_profile_path

            self.use_profile(resolve_profile_path(self.root, None, None))
        return self._profile_path

    def warehouse(self, env: str | None = None) -> Warehouse:
        """Where warehouse sources are read and materializations written, as `env` does."""
        from seeknal.engine.warehouse import Warehouse

        return Warehouse(self.profile(self.profile_path), env)

    def load_settings(self) -> dict[str, Any]:
        """seeknal_project.yml's settings; {} when it cannot be read (load() says why)."""
        try:
            raw = (self.root / PROJECT_FILE).read_bytes()
            # the loader keeps parsed files in the tool cache by the sha1 of their bytes
            data = self.cache.data.get(hashlib.sha1(raw).hexdigest())
            if data is None:
                from seeknal.project.files import parse_yaml

                data = parse_yaml(raw.decode("utf-8"))
        except Exception:  # noqa: BLE001 - load() reports project file problems properly
            return {}
        return copy.deepcopy(data) if isinstance(data, dict) else {}

    def remembered_settings(self) -> dict[str, Any]:
        """The `git:` and `history:` settings as load_settings gives them, from the memo beside
        the tool cache while seeknal_project.yml is unchanged (no YAML parser imported)."""
        from seeknal.state import settings_memo

        try:
            text = (self.root / PROJECT_FILE).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return self.load_settings()
        known = settings_memo.recall(self.root, text)
        return known if known is not None else self.load_settings()

    def profile(self, path: str | None) -> Profile:
        """The profile file at `path` (None: none) over seeknal_project.yml's connections."""
        from seeknal.project.profiles import load_profile

        return load_profile(path, self.load_settings())

    def target(self, env: str | None = None) -> Target:
        return Target(self.root, env)

    def load(self, files: ProjectFiles | None = None) -> Loaded:
        # the loader, DAG and hashing are imported here: a staleness check whose project
        # files did not change never needs them
        from seeknal.dag import Dag
        from seeknal.engine import sql_syntax_error
        from seeknal.planning.fingerprint import fingerprint_project
        from seeknal.project.loader import load_project

        project = load_project(
            self.root,
            files=files,
            params=self.params,
            run_id=self.run_id,
            parse_cache=self.cache.data,
            parse_sql=sql_syntax_error,
        )
        dag = Dag({nid: n.inputs for nid, n in project.nodes.items()})
        digests = self.data_digests(project, files or DiskFiles(self.root))
        fingerprints = fingerprint_project(project, digests, self.cache.data)
        return Loaded(project, dag, fingerprints)

    def manifest_fingerprint(self) -> str:
        """The fingerprint `load()` would give, memoised by the bytes of every project file.

        Staleness checks (run --env, promote, hooks) need only this; when no node uses a
        placeholder whose value changes by itself (today, run_id, env vars, ...), a project
        whose files did not change is not loaded again, nor read again while the files' stats
        (size, change times, inode) stay the same. A file changed within RACY_SECONDS may
        change again without its stats moving: the memo keeps its content's digest, and such
        files are read again (a plan, run --env and promote in quick succession after an
        edit read one file, not the project).
        """
        files = DiskFiles(self.root)
        params = json.dumps(self.params, sort_keys=True, default=str)
        answered, taken = forked.taken(f"signature:{self.root}")  # cli/promote_ahead.py
        signature, racy = (
            taken
            if answered
            else files.signature("seeknal", [PROJECT_FILE], time.time() - RACY_SECONDS)
        )
        stats_key = "mfs:" + hashlib.sha256(f"{params}\0{signature}".encode()).hexdigest()
        memo = self.cache.digests.get(stats_key)
        if (
            isinstance(memo, dict)
            and _same_bytes(files, memo)
            and self._data_unchanged(files, memo)
        ):
            return str(memo["fingerprint"])
        digest = hashlib.sha256(f"{__version__}\0{params}".encode())
        volatile = False
        racy_digests: dict[str, str] = {}
        wanted = set(racy) if len(racy) <= MAX_RACY else set()
        for rel in [PROJECT_FILE, *files.list_files("seeknal")]:
            raw = files.read(rel) or b""
            sha1 = hashlib.sha1(raw).digest()
            digest.update(rel.encode() + b"\0" + sha1)
            if rel in wanted:
                racy_digests[rel] = sha1.hex()
            volatile = volatile or (b"{{" in raw and VOLATILE.search(raw) is not None)
        key = "mfp:" + digest.hexdigest()
        memo = self.cache.digests.get(key)
        if volatile or not (isinstance(memo, dict) and self._data_unchanged(files, memo)):
            loaded = self.load()
            # a warehouse source's data changes without any file changing: never memoised
            if volatile or self._has_warehouse_sources(loaded.project):
                return loaded.manifest_fingerprint
            memo = self._memo_of(loaded)
            self.cache.digests[key] = memo
        if len(racy) <= MAX_RACY:  # else reading them would cost what reading all files does
            self.cache.digests[stats_key] = {**memo, "racy": racy_digests}
        return str(memo["fingerprint"])

    def _data_unchanged(self, files: DiskFiles, memo: dict[str, Any]) -> bool:
        tables = memo.get("data", {})
        return all(files.data_digest(t, self.cache.digests) == d for t, d in tables.items())

    @staticmethod
    def _memo_of(loaded: Loaded) -> dict[str, Any]:
        from seeknal.kinds import spec_for

        return {
            "fingerprint": loaded.manifest_fingerprint,
            "data": {
                str(spec_for(n.kind).data_file(n)): loaded.fingerprints[n.id].data_digest
                for n in loaded.project.nodes.values()
                if loaded.fingerprints[n.id].data_digest
            },
        }

    @staticmethod
    def _has_warehouse_sources(project: Project) -> bool:
        from seeknal.engine.warehouse import is_warehouse_source

        return any(is_warehouse_source(n) for n in project.nodes.values())

    def data_digests(self, project: Project, files: ProjectFiles) -> dict[str, str]:
        from seeknal.engine.warehouse import is_warehouse_source
        from seeknal.kinds import spec_for

        digests: dict[str, str] = {}
        reading = [n for n in project.nodes.values() if is_warehouse_source(n)]
        if reading:
            from seeknal.project.profiles import check_uses

            warehouse = self.warehouse()
            check_uses(warehouse.profile, reading)
            digests.update((n.id, warehouse.source_digest(n)) for n in reading)
        for node in project.nodes.values():
            table = spec_for(node.kind).data_file(node)
            if table is not None:
                digest = files.data_digest(table, self.cache.data)
                if digest:
                    digests[node.id] = digest
        return digests

    def save_cache(self) -> None:
        if self.cache.save():
            self._remember_settings()

    def _remember_settings(self) -> None:
        """Beside a tool cache just written, the `git:` settings for the hooks and `env current`
        (state/settings_memo.py), when they are not remembered for this project file yet."""
        from seeknal.project.files import parse_yaml
        from seeknal.state import settings_memo

        try:
            text = (self.root / PROJECT_FILE).read_text(encoding="utf-8")
            if settings_memo.recall(self.root, text) is None:
                data = parse_yaml(text)
                if isinstance(data, dict):
                    settings_memo.remember(self.root, text, data)
        except Exception:  # noqa: BLE001 - load() reports a broken project file properly
            return
