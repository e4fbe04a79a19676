"""Wiring: finds the project, loads it with the tool cache, hands out targets and fingerprints."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seeknal import __version__
from seeknal.dag import Dag
from seeknal.errors import SeeknalError
from seeknal.files import DiskFiles, ProjectFiles
from seeknal.fingerprint import NodeFingerprint, fingerprint_project, manifest_fingerprint
from seeknal.manifest import build_manifest
from seeknal.project import PROJECT_FILE, find_root, load_project
from seeknal.state.layout import Target
from seeknal.state.store import ToolCache
from seeknal.types import FILE_SOURCE_TYPES, NodeKind, Project


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_run_id() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


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
        return manifest_fingerprint(self.fingerprints)

    def manifest(self) -> dict[str, Any]:
        return build_manifest(self.project, self.fingerprints, __version__, utc_now())


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
        self.cache = ToolCache(self.production.tool_cache_path)

    def load_settings(self) -> dict[str, Any]:
        from seeknal.project import parse_yaml

        try:
            data = parse_yaml((self.root / PROJECT_FILE).read_text(encoding="utf-8"))
        except Exception:  # noqa: BLE001 - load() reports project file problems properly
            return {}
        return data if isinstance(data, dict) else {}

    def target(self, env: str | None = None) -> Target:
        return Target(self.root, env)

    def load(self, files: ProjectFiles | None = None) -> Loaded:
        project = load_project(
            self.root,
            files=files,
            params=self.params,
            run_id=self.run_id,
            parse_cache=self.cache.data,
        )
        dag = Dag({nid: n.inputs for nid, n in project.nodes.items()})
        digests = self.data_digests(project, files or DiskFiles(self.root))
        fingerprints = fingerprint_project(project, digests, self.cache.data)
        return Loaded(project, dag, fingerprints)

    def data_digests(self, project: Project, files: ProjectFiles) -> dict[str, str]:
        digests: dict[str, str] = {}
        for node in project.nodes.values():
            if node.kind is NodeKind.SOURCE and node.config.get("source") in FILE_SOURCE_TYPES:
                digest = files.data_digest(str(node.config.get("table", "")), self.cache.data)
                if digest:
                    digests[node.id] = digest
        return digests

    def save_cache(self) -> None:
        self.cache.save()
