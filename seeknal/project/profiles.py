"""Profiles: the named warehouse connections (PostgreSQL) and Iceberg catalogs a project uses,
and the engine its runs execute on (`engine:`, with Spark's `master:`, `conf:` and the
`warehouse:` folder outputs live in; docs/spark.md).

Which file: `--profile FILE`, else `profiles-<env>.yml` in the project, `~/.seeknal/
profiles-<env>.yml`, `profiles.yml` in the project, `~/.seeknal/profiles.yml` (docs/concepts.md).
`connections:` and `source_defaults:` in `seeknal_project.yml` are read too; the profile wins.
`${VAR}` and `${VAR:default}` are replaced by environment variables when a connection is used,
so a profile may name variables that only some machines set.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seeknal.kinds.materializations import parse
from seeknal.project.profile_files import ProfileError as ProfileError  # re-exported
from seeknal.project.profile_files import resolve_profile_path as resolve_profile_path

VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([^}]*))?\}")
SECRET_KEY = re.compile(r"PASS|SECRET|TOKEN|KEY|CREDENTIAL", re.IGNORECASE)
CONNECTION_TYPES = ("postgresql",)
ENGINE_NAMES = ("duckdb", "spark")


@dataclass(frozen=True)
class Connection:
    """A named database connection; `settings` are interpolated, `password` included."""

    name: str
    type: str
    settings: Mapping[str, Any]
    source: str  # the file it came from, for messages

    def describe(self) -> str:
        """How messages name it: never with its password."""
        s = self.settings
        where = f"{s.get('user', '')}@{s.get('host', 'localhost')}:{s.get('port', 5432)}"
        return f"connection '{self.name}' ({where}/{self.database})"

    @property
    def database(self) -> str:
        return str(self.settings.get("database") or self.settings.get("dbname") or "")


@dataclass(frozen=True)
class Catalog:
    """A named Iceberg catalog: pyiceberg catalog properties (`type`, `uri`, `warehouse`...)."""

    name: str
    properties: Mapping[str, str]
    source: str


@dataclass(frozen=True)
class Profile:
    path: str | None
    connections: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    catalogs: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    source_defaults: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    origins: Mapping[str, str] = field(default_factory=dict)  # "connection:x" -> file
    engine: str | None = None  # `engine:`; None: the default (DuckDB)
    master: str | None = None  # Spark's master URL (`local[N]`, `spark://`, `yarn`, `sc://`)
    conf: Mapping[str, str] = field(default_factory=dict)  # Spark settings, passed through
    warehouse: str | None = None  # where outputs live: a folder or a file:// URI

    @property
    def where(self) -> str:
        return self.path or "seeknal_project.yml"

    def connection(self, name: str, node_id: str) -> Connection:
        raw = self.connections.get(name)
        origin = self.origins.get(f"connection:{name}", self.where)
        if raw is None:
            known = ", ".join(sorted(self.connections)) or "none"
            raise ProfileError(
                f"{node_id}: connection '{name}' is not defined in {self.where} "
                f"(connections defined: {known}).",
                f"Add it under 'connections:' in {self.path or 'profiles.yml'}, or pass the "
                "profile that defines it with --profile.",
            )
        settings = {str(k): interpolate(v, origin, f"connection '{name}'") for k, v in raw.items()}
        ctype = str(settings.get("type", "postgresql")).lower()
        if ctype in ("postgres", "postgresql"):
            ctype = "postgresql"
        if ctype not in CONNECTION_TYPES:
            raise ProfileError(
                f"{node_id}: connection '{name}' in {origin} has type '{ctype}' "
                f"(supported: {', '.join(CONNECTION_TYPES)}).",
                "Set 'type: postgresql' on the connection.",
            )
        return Connection(name, ctype, settings, origin)

    def catalog(self, name: str, node_id: str) -> Catalog:
        raw = self.catalogs.get(name)
        if raw is None:
            known = ", ".join(sorted(self.catalogs)) or "none"
            raise ProfileError(
                f"{node_id}: Iceberg catalog '{name}' is not defined in {self.where} "
                f"(catalogs defined: {known}).",
                f"Add it under 'catalogs:' in {self.path or 'profiles.yml'} (type: sql, uri, "
                "warehouse), or pass the profile that defines it with --profile.",
            )
        origin = self.origins.get(f"catalog:{name}", self.where)
        props = {str(k): str(interpolate(v, origin, f"catalog '{name}'")) for k, v in raw.items()}
        return Catalog(name, props, origin)

    def default_for(self, source_type: str, key: str) -> Any:
        return (self.source_defaults.get(source_type) or {}).get(key)

    def secrets(self) -> list[str]:
        """Every password-like value, interpolated where its variables are set."""
        found: list[str] = []
        for group in (self.connections, self.catalogs):
            for raw in group.values():
                found.extend(secret_leaves(raw))
        return sorted(set(found), key=len, reverse=True)


def load_profile(path: str | None, settings: Mapping[str, Any]) -> Profile:
    """The profile at `path` (None: only the project file's sections) over `settings`'
    `connections:` / `source_defaults:` from seeknal_project.yml."""
    connections = dict(_section(settings, "connections", "seeknal_project.yml"))
    defaults = dict(_section(settings, "source_defaults", "seeknal_project.yml"))
    origins = {f"connection:{n}": "seeknal_project.yml" for n in connections}
    catalogs: dict[str, Mapping[str, Any]] = {}
    if path is not None:
        data = _read(path)
        for name, value in _section(data, "connections", path).items():
            connections[name] = value
            origins[f"connection:{name}"] = path
        for name, value in _section(data, "catalogs", path).items():
            catalogs[name] = value
            origins[f"catalog:{name}"] = path
        defaults.update(_section(data, "source_defaults", path))
        return Profile(
            path, connections, catalogs, defaults, origins, **_engine_settings(data, path)
        )
    return Profile(path, connections, catalogs, defaults, origins)


def _engine_settings(data: Mapping[str, Any], path: str) -> dict[str, Any]:
    """`engine:`, `master:`, `conf:` and `warehouse:` of a profile file, checked."""
    engine = data.get("engine")
    if engine is not None and str(engine) not in ENGINE_NAMES:
        raise ProfileError(
            f"'engine: {engine}' in {path} is not an engine seeknal has "
            f"(engines: {', '.join(ENGINE_NAMES)}).",
            "Set 'engine: duckdb' or 'engine: spark', or leave it out (DuckDB).",
        )
    conf = data.get("conf") or {}
    if not isinstance(conf, dict):
        raise ProfileError(
            f"'conf:' in {path} must map Spark settings to values.",
            "Write e.g. conf: {spark.sql.shuffle.partitions: 8}; see docs/spark.md.",
        )
    found: dict[str, Any] = {
        "conf": {str(k): str(interpolate(v, path, "conf")) for k, v in conf.items()}
    }
    for key in ("engine", "master", "warehouse"):
        value = data.get(key)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise ProfileError(f"'{key}:' in {path} must be a text value.", "See docs/spark.md.")
        found[key] = interpolate(value, path, key) if value is not None else None
    return found


def warehouse_location(path: str) -> str | None:
    """The `warehouse:` of the profile file at `path` (variables replaced), or None."""
    value = _read(path).get("warehouse")
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ProfileError(f"'warehouse:' in {path} must be a path or URI.", "See docs/spark.md.")
    return str(interpolate(value, path, "warehouse"))


def _read(path: str) -> Mapping[str, Any]:
    from seeknal.project.files import error_line, parse_yaml

    text = ""
    try:
        text = Path(path).read_text(encoding="utf-8")
        data = parse_yaml(text)
    except FileNotFoundError:
        raise ProfileError(
            f"Profile file {path} does not exist.",
            "Restore it, or plan again so the env records the profile it uses now.",
        ) from None
    except Exception as exc:  # noqa: BLE001 - yaml and OS errors alike mean an unusable file
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        # a YAML error names its line, as a node file's does: file:line: invalid YAML: reason
        line = error_line(
            text, getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        )
        if line is not None:
            reason = getattr(exc, "problem", None) or first
            raise ProfileError(
                f"Profile file {path}:{line}: invalid YAML: {reason}",
                f"Fix the YAML at line {line} of {path}.",
            ) from None
        raise ProfileError(
            f"Profile file {path} cannot be read: {first}", "Fix the YAML in that file."
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ProfileError(
            f"Profile file {path} must hold a mapping (connections:, catalogs:).",
            "See docs/concepts.md, section Profiles.",
        )
    return data


def _section(data: Mapping[str, Any], key: str, where: str) -> dict[str, Mapping[str, Any]]:
    value = data.get(key) or {}
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        raise ProfileError(
            f"'{key}:' in {where} must map names to settings.",
            "See docs/concepts.md, section Profiles.",
        )
    return {str(k): v for k, v in value.items()}


def interpolate(value: Any, where: str, what: str) -> Any:
    """`${VAR}` / `${VAR:default}` in strings (nested mappings and lists too)."""
    if isinstance(value, dict):
        return {k: interpolate(v, where, what) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, where, what) for v in value]
    if not isinstance(value, str):
        return value

    def one(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in os.environ:
            return os.environ[name]
        if default is not None:
            return default
        raise ProfileError(
            f"{what} in {where} uses ${{{name}}}, which is not set.",
            f"Set the environment variable {name}, or write ${{{name}:default}} in {where}.",
        )

    return VARIABLE.sub(one, value)


def secret_leaves(value: Any, key: str = "") -> Iterable[str]:
    """Values under password-like keys, with their `${VAR}`s replaced when set."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from secret_leaves(v, str(k))
    elif isinstance(value, list):
        for v in value:
            yield from secret_leaves(v, key)
    elif value is not None and SECRET_KEY.search(key):
        try:
            text = str(interpolate(value, "", ""))
        except ProfileError:
            text = str(value)
        if len(text) >= 4:
            yield text


def source_connection(node: Any, profile: Profile) -> str | None:
    """The connection a `postgresql` source reads: its own, else `source_defaults`."""
    params = node.config.get("params") or {}
    name = node.config.get("connection") or params.get("connection")
    return str(name) if name else profile.default_for("postgresql", "connection")


def check_uses(profile: Profile, nodes: Iterable[Any]) -> None:
    """Every connection and catalog the nodes name is in the profile, with its variables set;
    raises one error naming each node that is not."""
    problems: list[str] = []
    hint = ""
    for node in nodes:
        try:
            for kind, name in warehouse_uses(node, profile):
                if kind == "catalog":
                    profile.catalog(name, node.id)
                else:
                    profile.connection(name, node.id)
        except ProfileError as exc:
            problems.append(exc.message)
            hint = hint or exc.hint
    if problems:
        raise ProfileError("\n".join(problems), hint)


def warehouse_uses(node: Any, profile: Profile) -> list[tuple[str, str]]:
    """("connection" | "catalog", name) pairs a node reads from or writes to."""
    uses: list[tuple[str, str]] = []
    stype = node.config.get("source") if node.kind == "source" else None
    if stype == "postgresql":
        name = source_connection(node, profile)
        if not name:
            raise ProfileError(
                f"{node.id}: a postgresql source needs 'connection: NAME' (or "
                "source_defaults.postgresql.connection in the profile).",
                "Name a connection of the profile on the source.",
            )
        uses.append(("connection", name))
    elif stype == "iceberg":
        from seeknal.project.placeholders import render_env

        uses.append(("catalog", str(render_env(node.config.get("table", ""))).split(".")[0]))
    for target in parse(node.config):
        uses.append(("connection" if target.type == "postgresql" else "catalog", target.where))
    return uses
