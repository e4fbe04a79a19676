"""YAML node files → validated `Project`. Every problem is collected and reported together."""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any

import yaml

from seeknal.dag import Dag, format_cycle
from seeknal.errors import Problem, ProjectError
from seeknal.project import placeholders
from seeknal.project.files import PROJECT_FILE, DiskFiles, ProjectFiles, parse_yaml
from seeknal.project.shapes import non_text_keys, plain, shape_problems, yaml_type
from seeknal.sql.refs import sql_refs, strip_ref_call
from seeknal.types import (
    FILE_SOURCE_TYPES,
    RULE_TYPES,
    SOURCE_TYPES,
    Node,
    NodeKind,
    Project,
)

NODES_DIR = "seeknal"
COMMON_DIR = "seeknal/common/"
META_KEYS = ("description", "owner", "tags", "columns")
UNSAFE_PATH = re.compile(r"""['";\n\r\x00]""")
NODE_NAME = re.compile(r"^\w[\w.\-]*\Z")
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_project(
    root: Path,
    files: ProjectFiles | None = None,
    params: Mapping[str, Any] | None = None,
    run_id: str = "",
    parse_cache: MutableMapping[str, Any] | None = None,
) -> Project:
    """Load and validate the project at `root`. Raises ProjectError listing every problem."""
    files = files or DiskFiles(root)
    loader = _ProjectLoader(files, params or {}, run_id, parse_cache)
    return loader.load(root)


class _ProjectLoader:
    def __init__(
        self,
        files: ProjectFiles,
        params: Mapping[str, Any],
        run_id: str,
        parse_cache: MutableMapping[str, Any] | None,
    ) -> None:
        self.files = files
        self.params = params
        self.run_id = run_id
        self.cache = parse_cache if parse_cache is not None else {}
        self.problems: list[Problem] = []
        self.warnings: list[str] = []
        # files that could define nodes but were not loaded: refs into them get one clear
        # message (Python) or none at all (a broken file already has its own problem)
        self.python_files: dict[str, str] = {}
        self.broken_files: dict[str, str] = {}
        self.broken_common = False
        self._texts: dict[str, str] = {}

    # -- reading -------------------------------------------------------------------------
    def read_yaml(self, path: str) -> tuple[Any, str] | None:
        raw = self.files.read(path)
        if raw is None:
            return None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            self.problems.append(
                Problem(path, f"is not valid UTF-8 (byte {exc.start}); save it as UTF-8")
            )
            return None
        key = hashlib.sha1(raw).hexdigest()
        if key in self.cache:
            return self.cache[key], text
        try:
            data = parse_yaml(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
            reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            self.problems.append(
                Problem(path, f"invalid YAML: {reason}", mark.line + 1 if mark else None)
            )
            return None
        self.cache[key] = data
        return data, text

    def load(self, root: Path) -> Project:
        settings = self.load_settings()
        values = self.placeholder_values()
        raw_nodes = self.read_nodes()
        nodes = self.build_nodes(raw_nodes, values)
        order = self.check_graph(nodes)
        if not nodes and not self.problems:
            self.problems.append(
                Problem(
                    f"{NODES_DIR}/",
                    "the project has no nodes; add a node file such as seeknal/sources/x.yml",
                )
            )
        if self.problems:
            raise ProjectError(self.problems)
        return Project(
            root=str(root),
            name=str(settings.get("name", root.name)),
            settings=settings,
            nodes=nodes,
            warnings=tuple(self.warnings),
            order=tuple(order),
        )

    def load_settings(self) -> dict[str, Any]:
        loaded = self.read_yaml(PROJECT_FILE)
        if loaded is None:
            if not any(p.file == PROJECT_FILE for p in self.problems):
                self.problems.append(Problem(PROJECT_FILE, "is missing"))
            return {}
        data, _ = loaded
        if data is None:
            data = {}
        if not isinstance(data, dict):
            self.problems.append(Problem(PROJECT_FILE, "must be a mapping of settings", 1))
            return {}
        if not data.get("name"):
            self.problems.append(Problem(PROJECT_FILE, "missing 'name'", 1))
        elif isinstance(data["name"], dict | list):
            self.problems.append(
                Problem(PROJECT_FILE, "'name' must be text, e.g. name: my_project", 1)
            )
        envs = data.get("environments")
        if envs is not None and not isinstance(envs, dict):
            self.problems.append(
                Problem(PROJECT_FILE, "'environments' must be a mapping, e.g. {ttl_seconds: 86400}")
            )
        elif envs and envs.get("ttl_seconds") is not None:
            ttl = envs["ttl_seconds"]
            if isinstance(ttl, bool) or not isinstance(ttl, int) or ttl <= 0:
                self.problems.append(
                    Problem(
                        PROJECT_FILE,
                        f"environments.ttl_seconds must be a whole number of seconds above 0, "
                        f"not {ttl!r}",
                    )
                )
        return data

    def placeholder_values(self) -> dict[str, str]:
        lists: dict[str, list[Any]] = {}
        for fname, key in (
            ("sources.yml", "sources"),
            ("rules.yml", "rules"),
            ("transformations.yml", "transformations"),
        ):
            path = COMMON_DIR + fname
            loaded = self.read_yaml(path)
            if loaded is None and self.files.read(path) is not None:
                self.broken_common = True
            entries: Any = []
            if loaded is not None and isinstance(loaded[0], dict):
                entries = loaded[0].get(key) or []
            elif loaded is not None and loaded[0] is not None:
                self.problems.append(Problem(path, f"must be a mapping with a '{key}:' list", 1))
            lists[key] = self.common_entries(path, loaded[1] if loaded else "", key, entries)
        values = placeholders.common_values(
            lists["sources"], lists["rules"], lists["transformations"]
        )
        values.update(placeholders.builtin_values(self.run_id, self.params))
        return values

    def common_entries(self, path: str, text: str, key: str, entries: Any) -> list[dict[str, Any]]:
        """The well-formed entries of a seeknal/common/ list; a problem for every other one."""
        if not isinstance(entries, list):
            self.broken_common = True
            self.problems.append(
                Problem(path, f"'{key}' must be a list of entries with an 'id'", _line(text, key))
            )
            return []
        good: list[dict[str, Any]] = []
        for index, entry in enumerate(entries, 1):
            if not isinstance(entry, dict) or not isinstance(entry.get("id"), str | int):
                what = "has no 'id'" if isinstance(entry, dict) else f"is {entry!r}, not a mapping"
                self.problems.append(
                    Problem(path, f"{key} entry {index} {what}; give each entry an 'id: name'")
                )
            elif key == "sources" and not isinstance(entry.get("params") or {}, dict):
                self.problems.append(
                    Problem(
                        path, f"params of source '{entry['id']}' must be a mapping of key: value"
                    )
                )
            else:
                good.append(entry)
                continue
            self.broken_common = True
        return good

    def read_nodes(self) -> list[tuple[str, dict[str, Any], str]]:
        found: list[tuple[str, dict[str, Any], str]] = []
        for path in self.files.list_files(NODES_DIR):
            if path.startswith(COMMON_DIR):
                continue
            if path.endswith(".py"):
                self.warnings.append(
                    f"{path}: Python node files are not supported yet; this file is not loaded"
                )
                raw = self.files.read(path) or b""
                self.python_files[path] = raw.decode("utf-8", errors="replace")
                continue
            if not path.endswith((".yml", ".yaml")):
                continue
            loaded = self.read_yaml(path)
            if loaded is None:
                self.broken_files[Path(path).stem] = path
                continue
            data, text = loaded
            if not isinstance(data, dict):
                what = "empty" if data is None else f"a {type(data).__name__}"
                self.problems.append(
                    Problem(path, f"must be a YAML mapping describing one node, but is {what}", 1)
                )
                continue
            found.append((path, data, text))
        return found

    # -- nodes ---------------------------------------------------------------------------
    def build_nodes(
        self, raw_nodes: list[tuple[str, dict[str, Any], str]], values: dict[str, str]
    ) -> dict[str, Node]:
        nodes: dict[str, Node] = {}
        where: dict[str, str] = {}
        for path, data, text in raw_nodes:
            self._texts[path] = text
            node = self.build_node(path, data, text, values)
            if node is None:
                continue
            if node.id in nodes:
                self.problems.append(
                    Problem(
                        path,
                        f"duplicate node id '{node.id}': also defined in {where[node.id]}",
                        node.line,
                    )
                )
                continue
            nodes[node.id] = node
            where[node.id] = path
        self.check_refs(nodes)
        return dict(sorted(nodes.items()))

    def build_node(
        self, path: str, data: dict[str, Any], text: str, values: dict[str, str]
    ) -> Node | None:
        missing = [k for k in ("kind", "name") if not data.get(k)]
        if missing:
            names = " and ".join(f"'{k}'" for k in missing)
            self.problems.append(Problem(path, f"missing {names}", 1))
            return None
        kind_text = str(data["kind"])
        try:
            kind = NodeKind(kind_text)
        except ValueError:
            known = ", ".join(k.value for k in NodeKind)
            self.problems.append(
                Problem(path, f"unknown kind '{kind_text}' (known: {known})", _line(text, "kind"))
            )
            return None
        bad_keys = non_text_keys(data)
        if bad_keys:
            shown = "null" if bad_keys[0] is None else str(bad_keys[0])
            self.problems.append(
                Problem(
                    path,
                    f"key {shown} is not text; keys are names like 'inputs' or 'params' "
                    "(quote it if it is meant as text)",
                    None if bad_keys[0] is None else _find_line(text, str(bad_keys[0])),
                )
            )
            return None
        if not isinstance(data["name"], str):
            self.problems.append(
                Problem(
                    path,
                    f"name must be text, not {yaml_type(data['name'])}; quote it: "
                    f'name: "{plain(data["name"])}"',
                    _line(text, "name"),
                )
            )
            return None
        name = data["name"]
        if len(name.encode("utf-8")) > MAX_NAME_BYTES:
            self.problems.append(
                Problem(
                    path,
                    f"name is {len(name.encode('utf-8'))} bytes long; node names become file "
                    f"names, keep them to {MAX_NAME_BYTES} bytes",
                    _line(text, "name"),
                )
            )
            return None
        if not NODE_NAME.match(name):
            # the name becomes a file name under target/cache/<kind>/
            self.problems.append(
                Problem(
                    path,
                    f"name {name!r} may only contain letters, digits, '_', '-' and '.', "
                    "and must not start with '.' or '-'",
                    _line(text, "name"),
                )
            )
            return None
        node_id = f"{kind.value}.{name}"
        try:
            rendered = placeholders.render_tree(data, values, keep_env=True)
        except placeholders.UnknownPlaceholder as exc:
            if not self.broken_common:  # else the broken common file is the one problem
                self.problems.append(Problem(path, str(exc), _placeholder_line(text, exc.key)))
            return None

        if kind is NodeKind.RULE:
            rendered = _null_rule_type(rendered)
        shape = [
            Problem(path, msg, _line(text, key)) for key, msg in shape_problems(kind, rendered)
        ]
        if shape:
            self.problems.extend(shape)
            return None
        meta = {k: rendered[k] for k in META_KEYS if k in rendered}
        config = {
            k: v for k, v in rendered.items() if k not in META_KEYS and k not in ("name", "kind")
        }
        inputs = self.declared_inputs(path, text, rendered)
        sql: str | None = None
        if kind is NodeKind.TRANSFORM:
            sql = rendered.get("transform")
            if not isinstance(sql, str) or not sql.strip():
                self.problems.append(
                    Problem(path, "transform has no SQL: add a 'transform: |' block", 1)
                )
                return None
        for up in sql_refs(sql or "") + self.embedded_refs(kind, rendered):
            if up not in inputs:
                inputs.append(up)
                if sql and up in sql_refs(sql):
                    self.warnings.append(
                        f"{path}: ref('{up}') is used in SQL but not listed in inputs; added"
                    )
        self.check_kind(kind, path, text, rendered)
        return Node(
            id=node_id,
            kind=kind,
            name=name,
            file_path=path,
            line=_line(text, "name") or 1,
            inputs=tuple(inputs),
            config=config,
            meta=meta,
            sql=sql,
        )

    def declared_inputs(self, path: str, text: str, data: dict[str, Any]) -> list[str]:
        inputs: list[str] = []
        for key in ("inputs", "depends_on"):
            entries = data.get(key) or []
            if not isinstance(entries, list):
                self.problems.append(
                    Problem(path, f"'{key}' must be a list of {{ref: kind.name}}", _line(text, key))
                )
                continue
            for entry in entries:
                ref = entry.get("ref") if isinstance(entry, dict) else entry
                if not isinstance(ref, str) or not ref:
                    self.problems.append(
                        Problem(path, f"'{key}' entry {entry!r} has no 'ref'", _line(text, key))
                    )
                    continue
                ref = strip_ref_call(ref)
                if ref in inputs:
                    self.problems.append(
                        Problem(
                            path,
                            f"'{ref}' is listed twice in {key}; list each input once",
                            _find_line(text, ref),
                        )
                    )
                    continue
                inputs.append(ref)
        return inputs

    @staticmethod
    def embedded_refs(kind: NodeKind, data: dict[str, Any]) -> list[str]:
        refs: list[str] = []
        model = data.get("model")
        if kind is NodeKind.SEMANTIC_MODEL and isinstance(model, str):
            refs.append(strip_ref_call(model))
        rule = data.get("rule")
        for entry in rule if isinstance(rule, list) else [rule]:
            if isinstance(entry, dict) and isinstance(entry.get("sql"), str):
                refs.extend(sql_refs(entry["sql"]))
        return refs

    def check_kind(self, kind: NodeKind, path: str, text: str, data: dict[str, Any]) -> None:
        if kind is NodeKind.PROFILE:
            options = data.get("profile") or {}
            extra = sorted(set(options) - {"columns"}) if isinstance(options, dict) else []
            params = options.get("params") if isinstance(options, dict) else None
            if extra or params:
                named = params if isinstance(params, dict) else {"params": params}
                ignored = ", ".join([*(k for k in extra if k != "params"), *named])
                self.warnings.append(
                    f"{path}: profile options {ignored} are not supported; the profile has "
                    "DuckDB SUMMARIZE's statistics for every column (or profile.columns)"
                )
        if kind is NodeKind.EXPOSURE:
            target_path = str((data.get("params") or {}).get("path", ""))
            if Path(target_path).parts[:1] == ("target",):
                # an export there could overwrite seeknal's state files
                self.problems.append(
                    Problem(
                        path,
                        f"params.path {target_path} is inside target/, seeknal's own state "
                        "folder; write exports elsewhere (e.g. exports/)",
                        _find_line(text, target_path),
                    )
                )
        if kind is NodeKind.SOURCE:
            self.check_source(path, text, data)
        elif kind is NodeKind.RULE:
            rule = data.get("rule")
            entries: list[Any] = rule if isinstance(rule, list) else [rule]
            if not rule or not all(isinstance(e, dict) for e in entries):
                self.problems.append(
                    Problem(path, "rule needs a 'rule:' mapping (or list) with a 'type'", 1)
                )
                return
            for entry in entries:
                if str(entry.get("type")) not in RULE_TYPES:
                    self.problems.append(
                        Problem(
                            path,
                            f"unknown rule type '{entry.get('type')}' "
                            f"(supported: {', '.join(RULE_TYPES)})",
                            _line(text, "rule"),
                        )
                    )
            severity = (data.get("params") or {}).get("severity", "error")
            if severity not in ("error", "warn"):
                self.problems.append(
                    Problem(path, f"severity must be 'error' or 'warn', not '{severity}'")
                )
        elif kind is NodeKind.EXPOSURE:
            params = data.get("params") or {}
            if data.get("type", "file") == "file":
                fmt = params.get("format", "csv")
                if fmt not in ("csv", "parquet", "json"):
                    self.problems.append(
                        Problem(path, f"exposure format '{fmt}' (supported: csv, parquet, json)")
                    )
                if not params.get("path"):
                    self.problems.append(Problem(path, "file exposure needs params.path"))
                elif _escapes(str(params["path"])):
                    self.problems.append(
                        Problem(path, "params.path must stay inside the project (no '..')")
                    )

    def check_source(self, path: str, text: str, data: dict[str, Any]) -> None:
        stype = str(data.get("source", ""))
        line = _line(text, "source")
        if stype not in SOURCE_TYPES:
            self.problems.append(
                Problem(
                    path,
                    f"unsupported source type '{stype}' (supported: {', '.join(SOURCE_TYPES)})",
                    line,
                )
            )
            return
        table = placeholders.render_env(data.get("table"))
        if stype in FILE_SOURCE_TYPES:
            if not isinstance(table, str) or not table:
                self.problems.append(Problem(path, f"{stype} source needs 'table: <path>'", line))
                return
            if UNSAFE_PATH.search(table):
                self.problems.append(
                    Problem(
                        path,
                        f"table path {table!r} contains a quote, ';' or newline; "
                        "use a plain file path",
                        _line(text, "table"),
                    )
                )
                return
            if self.files.data_digest(table, self.cache) is None:
                self.problems.append(
                    Problem(
                        path,
                        f"data file '{table}' does not exist (paths are relative to the "
                        "project root)",
                        _line(text, "table"),
                    )
                )
        elif stype == "postgresql":
            params = data.get("params") or {}
            if not table and not params.get("query"):
                self.problems.append(
                    Problem(path, "postgresql source needs 'table:' or 'params.query'", line)
                )
        elif stype == "iceberg" and (not isinstance(table, str) or table.count(".") != 2):
            self.problems.append(
                Problem(path, "iceberg source needs 'table: catalog.namespace.table'", line)
            )

    def check_refs(self, nodes: dict[str, Node]) -> None:
        for node in nodes.values():
            for ref in node.inputs:
                if ref in nodes:
                    continue
                name = ref.rsplit(".", 1)[-1]
                if name in self.broken_files:
                    continue  # its file failed to load: that problem is already reported
                by_stem = [p for p in self.python_files if Path(p).stem == name]
                by_text = [p for p, text in self.python_files.items() if name in text]
                python = (by_stem or by_text)[0] if (by_stem or by_text) else None
                if python:
                    message = (
                        f"ref to '{ref}', which {python} defines: Python node files are not "
                        "supported yet, so it does not exist here (write it as YAML)"
                    )
                else:
                    others = [n for n in nodes if n != node.id]
                    close = difflib.get_close_matches(ref, others, n=1, cutoff=0.4)
                    hint = f"; did you mean '{close[0]}'?" if close else ""
                    message = f"ref to unknown node '{ref}'{hint}"
                line = _find_line(self._texts.get(node.file_path, ""), ref) or node.line
                self.problems.append(Problem(node.file_path, message, line))

    def check_graph(self, nodes: dict[str, Node]) -> list[str]:
        dag = Dag({nid: n.inputs for nid, n in nodes.items()})
        cycles = dag.cycles()
        for cycle in cycles:
            first = nodes[cycle[0]]
            self.problems.append(Problem(first.file_path, f"cycle: {format_cycle(cycle)}"))
        return [] if cycles else dag.order()


MAX_NAME_BYTES = 200


def _null_rule_type(data: dict[str, Any]) -> dict[str, Any]:
    """`type: null` unquoted is YAML's null; in a rule it means the 'null' rule type."""

    def fix(entry: Any) -> Any:
        if isinstance(entry, dict) and "type" in entry and entry["type"] is None:
            return {**entry, "type": "null"}
        return entry

    rule = data.get("rule")
    if isinstance(rule, list):
        return {**data, "rule": [fix(e) for e in rule]}
    return {**data, "rule": fix(rule)} if isinstance(rule, dict) else data


def _line(text: str, key: str) -> int | None:
    match = re.search(rf"^{re.escape(key)}\s*:", text, re.MULTILINE)
    return text.count("\n", 0, match.start()) + 1 if match else None


def _find_line(text: str, needle: str) -> int | None:
    pos = text.find(needle)
    return text.count("\n", 0, pos) + 1 if pos >= 0 else None


def _placeholder_line(text: str, key: str) -> int | None:
    match = re.search(r"\{\{\s*" + re.escape(key) + r"\s*\}\}", text)
    return text.count("\n", 0, match.start()) + 1 if match else _find_line(text, key)


def _escapes(path: str) -> bool:
    parts = Path(path).parts
    return Path(path).is_absolute() or ".." in parts
