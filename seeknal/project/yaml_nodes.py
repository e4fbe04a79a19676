"""One YAML node file → a `Node`: the checks every node has, then its kind's (seeknal/kinds/)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, MutableMapping
from typing import Any

from seeknal import kinds
from seeknal.errors import Problem
from seeknal.kinds import materializations
from seeknal.kinds.base import KindSpec
from seeknal.project import placeholders
from seeknal.project.files import ProjectFiles, error_line
from seeknal.project.shapes import non_text_keys, plain, shape_problems, yaml_type
from seeknal.sql.refs import sql_refs, strip_ref_call
from seeknal.types import Node

META_KEYS = ("description", "owner", "tags", "columns", "key")
# the top-level keys every node file may have; each kind reads its own besides (KindSpec.keys)
COMMON_KEYS = ("kind", "name", *META_KEYS, "inputs", "depends_on", "params", "materializations")
# the top-level keys of node files of any kind
TOP_KEYS = (
    *COMMON_KEYS,
    *("materialization", "transform", "source", "table", "type", "rule", "profile", "entity"),
    *("features", "group_by", "id_col", "feature_date_col", "application_date_col", "model"),
    *("measures", "dimensions", "entities", "joins", "metrics", "default_time_dimension"),
)
# keys seeknal reads somewhere in a node file (nested ones too): never taken for a misspelling
READ_KEYS = frozenset(
    (*TOP_KEYS, "agg", "aggs", "alias", "basic", "checks", "column", "condition", "config")
    + ("connection", "database", "denominator", "event_time_col", "expression", "expr")
    + ("filters", "format", "grain_to_date", "join_keys", "label", "measure", "meta")
    + ("metric", "numerator", "path", "python", "python_dependencies", "query", "ratio")
    + ("requires_python", "rolling", "rules", "severity", "since", "sql", "time_column")
    + ("time_granularity", "transformations", "unique_key", "unique_keys", "window")
)
NODE_NAME = re.compile(r"^\w[\w.\-]*\Z")
MAX_NAME_BYTES = 200


# (the parser's message, its line in the SQL) for SQL that does not parse, else None
SqlParser = Callable[[str], "tuple[str, int | None] | None"]


class NodeFile:
    """One node file being loaded; the `FileChecks` its kind reports problems through."""

    def __init__(
        self,
        path: str,
        text: str,
        problems: list[Problem],
        warnings: list[str],
        files: ProjectFiles,
        cache: MutableMapping[str, Any],
        parse_sql: SqlParser | None = None,
    ) -> None:
        self.path = path
        self.text = text
        self.problems = problems
        self.warnings = warnings
        self._files = files
        self.cache = cache
        self.parse_sql = parse_sql
        # whether the checks read anything but this file: then the node is not remembered
        self.looked_out = False

    @property
    def files(self) -> ProjectFiles:
        self.looked_out = True
        return self._files

    def problem(self, message: str, line: int | None = None) -> None:
        self.problems.append(Problem(self.path, message, line))

    def warn(self, message: str, line: int | None = None) -> None:
        where = f"{self.path}:{line}" if line else self.path
        self.warnings.append(f"{where}: {message}")

    def line(self, key: str) -> int | None:
        return key_line(self.text, key)

    def find_line(self, needle: str) -> int | None:
        return find_line(self.text, needle)

    def data_exists(self, table: str) -> bool:
        return self.files.data_digest(table, self.cache) is not None

    def check_sql(self, key: str, sql: str) -> None:
        """A problem when `sql` (the value of top-level `key`) does not parse. SQL that parsed
        is remembered in the tool cache by its text, so an unchanged project never parses
        (nor imports the parser) again; an error is never remembered, only found again."""
        if self.parse_sql is None:
            return
        # an env placeholder is filled in only when the node runs: an identifier parses anywhere
        prepared = placeholders.ENV_PLACEHOLDER.sub("seeknal_env", sql)
        key_ok = "sqlok2:" + hashlib.sha1(prepared.encode("utf-8")).hexdigest()
        if key_ok in self.cache:
            return
        found = self.parse_sql(prepared)
        if found is None:
            self.cache[key_ok] = True
            return
        message, line = found
        if message.startswith("the last statement"):  # it parses, but gives no rows to write
            self.problem(message, self._sql_line(key, sql, line))
            return
        self.problem(f"SQL does not parse: {message}", self._sql_line(key, sql, line))

    def _sql_line(self, key: str, sql: str, line: int | None) -> int | None:
        """The file line of line `line` of `sql`, found by its text below `key`'s line."""
        start = self.line(key) or 1
        lines = sql.splitlines()
        wanted = lines[line - 1].strip() if line and 0 < line <= len(lines) else ""
        if wanted:
            for number, text in enumerate(self.text.splitlines()[start - 1 :], start):
                if wanted in text:
                    return number
        return start


def build_node(
    file: NodeFile, data: dict[str, Any], values: dict[str, str], broken_common: bool = False
) -> Node | None:
    """The node a file defines, or None when a problem keeps it from being one.

    `values` are the placeholder values. With `broken_common` they are incomplete and a broken
    seeknal/common/ file is already reported, so an unknown placeholder is not."""
    identity = _identity(file, data)
    if identity is None:
        return None
    spec, name = identity
    misspelt_keys(file, data, spec)
    try:
        rendered = placeholders.render_tree(data, values, keep_env=True)
    except placeholders.UnknownPlaceholder as exc:
        if not broken_common:
            file.problem(str(exc), placeholder_line(file.text, exc.key))
        return None
    rendered = spec.prepare(rendered)
    shape = shape_problems(rendered) + spec.shape_problems(rendered)
    for key, message in shape:
        file.problem(message, file.line(key))
    if shape:
        return None
    inputs = declared_inputs(file, rendered)
    before = len(file.problems)
    sql = spec.node_sql(rendered, file)
    if len(file.problems) > before:
        return None
    in_sql = sql_refs(sql or "")
    listed = len(inputs)
    for up in in_sql + spec.declared_refs(rendered):
        if up not in inputs:
            inputs.append(up)
    # a ref() in SQL is an input by itself (as in dbt); only SQL that also names inputs by
    # position is ambiguous: where an unlisted ref lands in input_N is then not written down
    if sql and len(inputs) > listed and POSITIONAL.search(sql):
        for index, up in enumerate(inputs[listed:], listed):
            if up in in_sql:
                file.warn(
                    f"ref('{up}') is not listed in inputs, so it is input_{index}, and the SQL "
                    "also names inputs by position (input_N): list every input under 'inputs', "
                    "in the order input_N means"
                )
    spec.check(rendered, file)
    for message in materializations.problems(rendered.get("materializations")):
        file.problem(message, file.line("materializations"))
    for key, text in spec.sql_texts(rendered):
        file.check_sql(key, text)
    return Node(
        id=f"{spec.kind}.{name}",
        kind=spec.kind,
        name=name,
        file_path=file.path,
        line=file.line("name") or 1,
        inputs=tuple(inputs),
        config={k: v for k, v in rendered.items() if k not in (*META_KEYS, "name", "kind")},
        meta={k: rendered[k] for k in META_KEYS if k in rendered},
        sql=sql,
    )


POSITIONAL = re.compile(r"\binput_\d+\b")


def misspelt_keys(file: NodeFile, data: dict[str, Any], spec: KindSpec) -> None:
    """A warning for each top-level key seeknal does not read that looks like one the node's
    kind reads (`descripton:`, `tgas:`): the value would otherwise be silently unused. Other
    unknown keys (a team's own metadata) stay quiet; all of them are kept in the node's config.
    Only keys of the node's own kind are suggested: a key its kind ignores would not help."""
    import difflib

    meant = (*COMMON_KEYS, *spec.keys)
    for key in data:
        if not isinstance(key, str) or key in READ_KEYS or key in spec.keys:
            continue
        close = difflib.get_close_matches(key, meant, 1, 0.8) or swapped(key, meant)
        if close:
            file.warn(
                f"unknown key '{key}' (did you mean '{close[0]}'?): seeknal does not use its value (changing it still reruns the node)",
                file.line(key),
            )


def swapped(key: str, keys: tuple[str, ...]) -> list[str]:
    """The first of `keys` that `key` is with two neighbouring letters swapped (`tgas` for
    `tags`): a short word's typo that the similarity ratio scores too low to suggest."""
    found = []
    for known in keys:
        diff = [i for i, (a, b) in enumerate(zip(key, known, strict=False)) if a != b]
        if len(key) == len(known) and len(diff) == 2 and diff[1] == diff[0] + 1:
            if key[diff[0]] == known[diff[1]] and key[diff[1]] == known[diff[0]]:
                found.append(known)
    return found[:1]


def _identity(file: NodeFile, data: dict[str, Any]) -> tuple[KindSpec, str] | None:
    """The node's kind and name, once both are there and well-formed."""
    missing = [k for k in ("kind", "name") if not data.get(k)]
    if missing:
        names = " and ".join(f"'{k}'" for k in missing)
        if len(missing) == 2 and ({"connections", "catalogs"} & set(data)):
            file.problem(
                f"missing {names}: this looks like a connection profile (connections:), not a "
                "node; profiles go in the project folder (profiles.yml, profiles-ENV.yml) or "
                "under connections: in seeknal_project.yml, never under seeknal/",
                1,
            )
            return None
        file.problem(f"missing {names}", 1)
        return None
    kind_text = str(data["kind"])
    spec = kinds.find(kind_text)
    if spec is None:
        import difflib

        known = ", ".join(kinds.kind_names())
        close = difflib.get_close_matches(kind_text.lower(), kinds.kind_names(), 1, 0.6)
        meant = f": did you mean '{close[0]}'?" if close else ""
        file.problem(f"unknown kind '{kind_text}'{meant} (known: {known})", file.line("kind"))
        return None
    bad_keys = non_text_keys(data)
    if bad_keys:
        shown = "null" if bad_keys[0] is None else str(bad_keys[0])
        file.problem(
            f"key {shown} is not text; keys are names like 'inputs' or 'params' "
            "(quote it if it is meant as text)",
            None if bad_keys[0] is None else file.find_line(str(bad_keys[0])),
        )
        return None
    problem = name_problem(data["name"])
    if problem:
        file.problem(problem, file.line("name"))
        return None
    return spec, data["name"]


def name_problem(name: Any) -> str | None:
    """What is wrong with a node name; it becomes a file name under target/cache/<kind>/."""
    if not isinstance(name, str):
        return f'name must be text, not {yaml_type(name)}; quote it: name: "{plain(name)}"'
    size = len(name.encode("utf-8"))
    if size > MAX_NAME_BYTES:
        return (
            f"name is {size} bytes long; node names become file names, "
            f"keep them to {MAX_NAME_BYTES} bytes"
        )
    if not NODE_NAME.match(name):
        return (
            f"name {name!r} may only contain letters, digits, '_', '-' and '.', "
            "and must not start with '.' or '-'"
        )
    return None


def declared_inputs(file: NodeFile, data: dict[str, Any]) -> list[str]:
    """The node ids under `inputs` and `depends_on`, each once."""
    inputs: list[str] = []
    for key in ("inputs", "depends_on"):
        entries = data.get(key) or []
        if not isinstance(entries, list):
            file.problem(f"'{key}' must be a list of {{ref: kind.name}}", file.line(key))
            continue
        for entry in entries:
            ref = entry.get("ref") if isinstance(entry, dict) else entry
            if not isinstance(ref, str) or not ref:
                file.problem(_bad_ref(key, entry, ref), file.line(key))
                continue
            ref = strip_ref_call(ref)
            if ref in inputs:
                file.problem(
                    f"'{ref}' is listed twice in {key}; list each input once",
                    file.find_line(ref),
                )
                continue
            inputs.append(ref)
    return inputs


def _bad_ref(key: str, entry: Any, ref: Any) -> str:
    """Why an `inputs`/`depends_on` entry names no node, in the file's own terms."""
    shape = "{ref: kind.name}"
    if isinstance(entry, dict) and "ref" not in entry:
        keys = ", ".join(str(k) for k in entry) or "nothing"
        return f"an entry of '{key}' has no 'ref' (it has {keys}); write each as {shape}"
    if ref is None or ref == "":
        what = "has an empty 'ref'" if isinstance(entry, dict) else "is empty"
        return f"an entry of '{key}' {what}; write each as {shape}"
    return (
        f"an entry of '{key}' has ref {_yaml_kind(ref)} {_shown(ref)}: it must be a node id "
        f"in text, such as {shape}"
    )


def _yaml_kind(value: Any) -> str:
    names = {bool: "true/false", int: "number", float: "number", list: "list", dict: "mapping"}
    return next((n for t, n in names.items() if isinstance(value, t)), "value")


def _shown(value: Any) -> str:
    import json

    try:
        return json.dumps(value, default=str)
    except (TypeError, ValueError):
        return str(value)


def yaml_problem(path: str, text: str, exc: Exception) -> Problem:
    """A YAML error as a problem of `path` at the line it names. An error at the very end of
    the text (an unclosed `[` or quote on the last line) is put on the last line that has
    something, not on the empty line after it."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return Problem(path, f"invalid YAML: {reason}", error_line(text, mark))


def key_line(text: str, key: str) -> int | None:
    """The line of a top-level `key:` in a YAML text."""
    match = re.search(rf"^{re.escape(key)}\s*:", text, re.MULTILINE)
    return text.count("\n", 0, match.start()) + 1 if match else None


def find_line(text: str, needle: str) -> int | None:
    pos = text.find(needle)
    return text.count("\n", 0, pos) + 1 if pos >= 0 else None


def placeholder_line(text: str, key: str) -> int | None:
    match = re.search(r"\{\{\s*" + re.escape(key) + r"\s*\}\}", text)
    return text.count("\n", 0, match.start()) + 1 if match else find_line(text, key)
