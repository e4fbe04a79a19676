"""YAML node files → validated `Project`. Every problem is collected and reported together."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any

from seeknal.errors import Problem, ProjectError
from seeknal.project import placeholders
from seeknal.project.files import (
    PROJECT_FILE,
    DiskFiles,
    ProjectFiles,
    parse_yaml,
    split_documents,
)
from seeknal.project.known_files import NODE_FIELDS, KnownFiles, NodeTexts, node_of, remembered_hit
from seeknal.project.node_checks import graph_order, ref_problems
from seeknal.project.outputs import output_problems
from seeknal.project.python_nodes import load_python_file
from seeknal.project.settings_checks import common_entries, settings_problems
from seeknal.project.yaml_nodes import (
    NodeFile,
    SqlParser,
    build_node,
    yaml_problem,
)
from seeknal.sql import ahead
from seeknal.types import Node, Project

NODES_DIR = "seeknal"
AHEAD_NEW = 16  # new node files a forked sqlglot importer pays off for (sql/ahead.py)
COMMON_DIR = "seeknal/common/"


class Documents(list[tuple[dict[str, Any], str]]):
    """The nodes of one file holding several YAML documents: (data, the document's text)."""


def load_project(
    root: Path,
    files: ProjectFiles | None = None,
    params: Mapping[str, Any] | None = None,
    run_id: str = "",
    parse_cache: MutableMapping[str, Any] | None = None,
    parse_sql: SqlParser | None = None,
) -> Project:
    """Load and validate the project at `root`. Raises ProjectError listing every problem.

    With `parse_sql`, every node's SQL is parsed too (seeknal.engine.sql_syntax_error)."""
    files = files or DiskFiles(root)
    loader = _ProjectLoader(files, params or {}, run_id, parse_cache, parse_sql)
    return loader.load(root)


class _ProjectLoader:
    def __init__(
        self,
        files: ProjectFiles,
        params: Mapping[str, Any],
        run_id: str,
        parse_cache: MutableMapping[str, Any] | None,
        parse_sql: SqlParser | None = None,
    ) -> None:
        self.files = files
        self.parse_sql = parse_sql
        self.params = params
        self.run_id = run_id
        self.cache = parse_cache if parse_cache is not None else {}
        self.known_nodes = 0  # node files whose node the cache held (by stats or text)
        self.new_nodes = 0  # node files it did not: their SQL may need sqlglot
        self.problems: list[Problem] = []
        self.warnings: list[str] = []
        # files that could define nodes but were not loaded: refs into them get no message
        # of their own (a broken file already has its own problem)
        self.python_files: dict[str, str] = {}
        self.broken_files: dict[str, str] = {}
        self.broken_common = False
        self._texts = NodeTexts(files)
        self._known = KnownFiles(files, self.cache, "parsed" if parse_sql else "unparsed")
        self._keys: dict[int, str] = {}  # id(node) -> memo key, for nodes its file alone built
        self.node_keys: dict[str, str] = {}
        self._memo_keys: dict[str, tuple[str, str]] = {}  # path -> (text, memo key)

    # -- reading -------------------------------------------------------------------------
    def read_yaml(
        self, path: str, several: bool = False, node_file: bool = False
    ) -> tuple[Any, str] | None:
        """The file's YAML and text; with `several`, a file of several documents gives a
        `Documents` list of (data, that document's text). With `node_file`, a file whose node
        is remembered is not parsed: its data is an empty mapping."""
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
        if node_file and self.memo(path, text) is not None:
            self.known_nodes += 1
            return {}, text  # build_nodes takes the node this file built before: not parsed
        if node_file:
            self.new_nodes += 1
            self.import_ahead()
        import yaml  # here: a plan whose files are all remembered parses none of them

        try:
            data = parse_yaml(text)
        except yaml.YAMLError as exc:
            if several and "expected a single document" in str(exc):
                data = self.read_documents(path, text)
                if data is None:
                    return None
                self.cache[key] = data
                return data, text
            self.problems.append(yaml_problem(path, text, exc))
            return None
        self.cache[key] = data
        return data, text

    def read_documents(self, path: str, text: str) -> Documents | None:
        """Each document of a file that holds several: the older seeknal's metric files may
        (`---` between metrics); any other kind keeps to one node per file."""
        import yaml

        found = Documents()
        for part in split_documents(text):
            try:
                data = parse_yaml(part)
            except yaml.YAMLError as exc:
                self.problems.append(yaml_problem(path, part, exc))
                return None
            if data is None:
                continue
            if not isinstance(data, dict) or data.get("kind") != "metric":
                line = text.count("\n", 0, len(part) - len(part.lstrip("\n"))) + 1
                self.problems.append(
                    Problem(
                        path,
                        "holds several YAML documents, but only metric files may (kind: metric "
                        "in each); put each other node in a file of its own",
                        line,
                    )
                )
                return None
            found.append((data, part))
        return found

    def load(self, root: Path) -> Project:
        settings = self.load_settings()
        values = self.placeholder_values()
        raw_nodes = self.read_nodes()
        nodes = self.build_nodes(raw_nodes, values)
        self.problems.extend(output_problems(root, nodes, self._texts))
        order = graph_order(nodes, self.problems)
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
            node_keys=self.node_keys,
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
        self.problems.extend(settings_problems(data, loaded[1]))
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
            good, problems = common_entries(path, loaded[1] if loaded else "", key, entries)
            self.problems.extend(problems)
            self.broken_common = self.broken_common or bool(problems)
            lists[key] = good
        values = placeholders.common_values(
            lists["sources"], lists["rules"], lists["transformations"]
        )
        values.update(placeholders.builtin_values(self.run_id, self.params))
        return values

    def read_nodes(self) -> list[tuple[str, dict[str, Any], str]]:
        found: list[tuple[str, dict[str, Any], str]] = []
        for path, target in self.files.links(NODES_DIR):
            # git keeps a link, not the file: following links would load one project on disk
            # and another from git objects (pre-push), and could reach outside the project
            self.warnings.append(
                f"{path}: symbolic link to {target}, not loaded: seeknal does not follow links "
                "under seeknal/ (git keeps the link, not the file); put the file itself there"
            )
        for path in self.files.list_files(NODES_DIR):
            if path.startswith(COMMON_DIR):
                continue
            if path.endswith(".py"):
                self.read_python(path)
                continue
            if not path.endswith((".yml", ".yaml")):
                continue
            if self._known.lookup(path) is not None:
                self.known_nodes += 1
                found.append((path, {}, ""))  # its node is remembered: not read
                continue
            loaded = self.read_yaml(path, several=True, node_file=True)
            if loaded is None:
                self.broken_files[Path(path).stem] = path
                continue
            data, text = loaded
            if isinstance(data, Documents):
                self._known.forget(path)
                found.extend((path, doc, part) for doc, part in data)
                continue
            if not isinstance(data, dict):
                what = "empty" if data is None else f"a {type(data).__name__}"
                self.problems.append(
                    Problem(path, f"must be a YAML mapping describing one node, but is {what}", 1)
                )
                continue
            found.append((path, data, text))
        self.import_ahead()  # the new files came first in the listing
        return found

    def import_ahead(self) -> None:
        """A few new node files in a project the cache knows (the first plan after an edit):
        their SQL needs sqlglot, which a forked copy imports meanwhile (seeknal/sql/ahead.py).
        A project never loaded, or many new files, ask sqlglot about every node: no copy."""
        if self.parse_sql is not None and self.known_nodes and 0 < self.new_nodes <= AHEAD_NEW:
            ahead.start()

    def read_python(self, path: str) -> None:
        raw = self.files.read(path) or b""
        try:
            self.python_files[path] = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            self.problems.append(
                Problem(path, f"is not valid UTF-8 (byte {exc.start}); save it as UTF-8")
            )

    # -- nodes ---------------------------------------------------------------------------
    def build_nodes(
        self, raw_nodes: list[tuple[str, dict[str, Any], str]], values: dict[str, str]
    ) -> dict[str, Node]:
        nodes: dict[str, Node] = {}
        where: dict[str, str] = {}
        for node in self.yaml_nodes(raw_nodes, values) + self.python_nodes(values):
            if node.id in nodes:
                self.problems.append(
                    Problem(
                        node.file_path,
                        f"duplicate node id '{node.id}': also defined in {where[node.id]}",
                        node.line,
                    )
                )
                continue
            nodes[node.id] = node
            where[node.id] = node.file_path
        self.problems.extend(ref_problems(nodes, self.broken_files, self._texts))
        self.node_keys = {
            n: self._keys[id(node)] for n, node in nodes.items() if id(node) in self._keys
        }
        return dict(sorted(nodes.items()))

    def yaml_nodes(
        self, raw_nodes: list[tuple[str, dict[str, Any], str]], values: dict[str, str]
    ) -> list[Node]:
        found = []
        for path, data, text in raw_nodes:
            known = self._known.known.get(path)
            if known is not None:
                node = self.remembered_by(known)
                self._texts.unread.add(path)
            else:
                self._texts[path] = text
                node = self.remembered(path, text)
                known = self.memo_key(path, text)
                if node is None:
                    node = self.build_node(path, data, text, values)
                if node is None:  # its problems are reported: refs to it are not again
                    self.broken_files[str(data.get("name") or Path(path).stem)] = path
                self._known.record(path, known)
            if node is not None:
                if known is not None and remembered_hit(self.cache.get(known)) is not None:
                    self._keys[id(node)] = known
                found.append(node)
        return found

    def python_nodes(self, values: dict[str, str]) -> list[Node]:
        found = []
        for path, text in self.python_files.items():
            self._texts[path] = text
            before = len(self.problems)
            loaded = load_python_file(
                path, text, self.problems, self.warnings, self.files, self.cache, values
            )
            if len(self.problems) > before and not loaded:
                self.broken_files[Path(path).stem] = path
            found.extend(loaded)
        return found

    def build_node(
        self, path: str, data: dict[str, Any], text: str, values: dict[str, str]
    ) -> Node | None:
        problems, warnings = len(self.problems), len(self.warnings)
        file = NodeFile(
            path, text, self.problems, self.warnings, self.files, self.cache, self.parse_sql
        )
        node = build_node(file, data, values, self.broken_common)
        key = self.memo_key(path, text)
        if node is not None and key and len(self.problems) == problems and not file.looked_out:
            fields = tuple(getattr(node, name) for name in NODE_FIELDS)
            self.cache[key] = (NODE_FIELDS, fields, tuple(self.warnings[warnings:]))
            self._keys[id(node)] = key
            # the parsed YAML is not needed again while the node is remembered: a smaller cache
            # loads and saves faster
            self.cache.pop(hashlib.sha1(text.encode("utf-8")).hexdigest(), None)
        return node

    def memo(self, path: str, text: str) -> tuple[Any, ...] | None:
        key = self.memo_key(path, text)
        return remembered_hit(self.cache.get(key)) if key else None

    def remembered(self, path: str, text: str) -> Node | None:
        """The node this very file built before, with its warnings again."""
        key = self.memo_key(path, text)
        return self.remembered_by(key) if key else None

    def remembered_by(self, key: str) -> Node | None:
        hit = remembered_hit(self.cache.get(key))
        if hit is None:
            return None
        self.warnings.extend(hit[2])
        return node_of(hit)

    def memo_key(self, path: str, text: str) -> str | None:
        """A file's node depends on its path and text alone, unless it holds a placeholder
        (values from other files, the date, the run) or its checks read other files (a
        source's data: `NodeFile.looked_out`), and on whether SQL is parsed."""
        if "{{" in text:
            return None
        known = self._memo_keys.get(path)
        if known is not None and known[0] is text:  # asked again for the same text: once a file
            return known[1]
        parsed = "parsed" if self.parse_sql is not None else "unparsed"
        digest = hashlib.sha1(f"{parsed}\0{path}\0{text}".encode()).hexdigest()
        self._memo_keys[path] = (text, "node:" + digest)
        return "node:" + digest
