"""One Python node file → its `Node`s, with the checks a YAML node file gets.

A decorator's arguments are the node's YAML fields; `inputs=` and the `ctx.ref("...")` ids are
its edges. A `@source` whose function body is empty (`pass`) and that names its data with
`source=`/`table=` is a plain source, read like a YAML one; every other node runs its function.
"""

from __future__ import annotations

import difflib
from collections.abc import MutableMapping
from typing import Any

from seeknal import kinds
from seeknal.errors import Problem
from seeknal.kinds import materializations
from seeknal.project import placeholders
from seeknal.project.files import ProjectFiles
from seeknal.project.python_code import Decorated, PythonFile, read_python
from seeknal.project.shapes import shape_problems
from seeknal.project.yaml_nodes import META_KEYS, NodeFile, name_problem
from seeknal.sql.refs import strip_ref_call
from seeknal.types import Node, PythonCode

COMMON_ARGS = frozenset(
    {"name", "description", "owner", "tags", "columns", "key", "params", "inputs"}
    | {"materializations"}
)
KIND_ARGS = {
    "source": frozenset({"source", "table", "query", "connection"}),
    "transform": frozenset(),
    "feature_group": frozenset({"entity", "features", "materialization"}),
    "second_order_aggregation": frozenset(
        {"id_col", "feature_date_col", "application_date_col", "features", "materialization"}
    ),
}
# @source(delimiter=";") and the like: the older tool's source options, kept as params
SOURCE_OPTIONS = frozenset(
    {"delimiter", "delim", "sep", "header", "quote", "escape", "skip", "dateformat"}
    | {"timestampformat", "nullstr", "all_varchar", "sample_size"}
)
MATERIALIZE_ARGS = {"type", "connection", "table", "mode", "unique_keys", "time_column"}


class PythonNodeFile(NodeFile):
    """A Python file as its kind's checks see it: a field's line is its argument's line."""

    def __init__(self, node: Decorated, *args: Any) -> None:
        super().__init__(*args)
        self.decorated = node

    def line(self, key: str) -> int | None:
        arg = self.decorated.args.get(key)
        return arg.line if arg else self.decorated.line


def load_python_file(
    path: str,
    text: str,
    problems: list[Problem],
    warnings: list[str],
    files: ProjectFiles,
    cache: MutableMapping[str, Any],
    values: dict[str, str],
) -> list[Node]:
    """The nodes `path` defines; what is wrong with them goes to `problems`."""
    parsed = read_python(text)
    for line, message in parsed.problems:
        problems.append(Problem(path, message, line))
    if parsed.problems and not parsed.nodes:
        return []
    if not parsed.nodes:
        warnings.append(
            f"{path}: defines no node (no function decorated with @source, @transform, "
            "@feature_group or @second_order_aggregation from seeknal.pipeline); not loaded"
        )
    found = []
    for decorated in parsed.nodes:
        file = PythonNodeFile(decorated, path, text, problems, warnings, files, cache)
        node = _build(file, decorated, parsed, values)
        if node is not None:
            found.append(node)
    return found


def _build(
    file: PythonNodeFile, decorated: Decorated, parsed: PythonFile, values: dict[str, str]
) -> Node | None:
    before = len(file.problems)
    data = _fields(file, decorated)
    if len(file.problems) > before or data is None:
        return None
    try:
        data = placeholders.render_tree(data, values, keep_env=True)
    except placeholders.UnknownPlaceholder as exc:
        file.problem(str(exc), decorated.line)
        return None
    spec = kinds.spec_for(decorated.kind)
    data = spec.prepare(data)
    for key, message in shape_problems(data) + spec.shape_problems(data):
        file.problem(f"{key}=: {message}", file.line(key))
    inputs = _inputs(file, decorated, data)
    plain_source = decorated.kind == "source" and decorated.empty_body
    if plain_source or decorated.kind != "source":
        spec.check(data, file)
    for message in materializations.problems(data.get("materializations")):
        file.problem(message, file.line("materializations"))
    if len(file.problems) > before:
        return None
    code = None
    if not plain_source:
        code = PythonCode(
            function=decorated.function,
            code=file.text,
            dependencies=parsed.dependencies,
            requires_python=parsed.requires_python,
            pandas=parsed.uses_pandas,
        )
    skip = (*META_KEYS, "name", "kind", "inputs")
    return Node(
        id=f"{decorated.kind}.{data['name']}",
        kind=spec.kind,
        name=data["name"],
        file_path=file.path,
        line=file.line("name") or decorated.line,
        inputs=tuple(inputs),
        config={k: v for k, v in data.items() if k not in skip},
        meta={k: data[k] for k in META_KEYS if k in data},
        python=code,
    )


def _fields(file: PythonNodeFile, decorated: Decorated) -> dict[str, Any] | None:
    """The node's fields (as a YAML file would write them) from its decorators."""
    kind = decorated.kind
    allowed = COMMON_ARGS | KIND_ARGS[kind]
    data: dict[str, Any] = {"kind": kind}
    params: dict[str, Any] = {}
    for key, arg in decorated.args.items():
        if kind == "source" and key in SOURCE_OPTIONS:
            params[key] = arg.value
        elif kind == "source" and key == "query":
            params["query"] = arg.value
        elif key in allowed:
            data[key] = arg.value
        else:
            close = difflib.get_close_matches(key, sorted(allowed), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            known = ", ".join(sorted(allowed))
            file.problem(f"@{kind}: unknown argument '{key}'{hint} (known: {known})", arg.line)
    if params:
        given = data.get("params")
        data["params"] = {**params, **given} if isinstance(given, dict) else params
    name = data.get("name", decorated.function if kind in ("transform", "feature_group") else None)
    if name is None:
        file.problem(f"@{kind}(...) needs name=", decorated.line)
        return None
    problem = name_problem(name)
    if problem:
        file.problem(problem, file.line("name"))
        return None
    data["name"] = name
    mats = [_materialization(file, args, line) for args, line in decorated.materializations]
    if mats:
        data["materializations"] = list(data.get("materializations") or []) + mats
    return data


def _materialization(file: PythonNodeFile, args: dict[str, Any], line: int) -> dict[str, Any]:
    for key in sorted(set(args) - MATERIALIZE_ARGS):
        file.problem(
            f"@materialize({key}=...) is not supported (supported: "
            f"{', '.join(sorted(MATERIALIZE_ARGS))})",
            line,
        )
    entry = {k: v for k, v in args.items() if k in MATERIALIZE_ARGS and k != "unique_keys"}
    entry.setdefault("type", "iceberg")
    mode = entry.get("mode") or ("append" if entry["type"] == "iceberg" else "overwrite")
    entry["mode"] = "overwrite" if mode == "full" else mode  # the older tool's name for it
    if args.get("unique_keys"):
        entry["unique_key"] = args["unique_keys"]
    return entry


def _inputs(file: PythonNodeFile, decorated: Decorated, data: dict[str, Any]) -> list[str]:
    inputs: list[str] = []
    declared = data.get("inputs") or []
    if not isinstance(declared, list):
        file.problem("inputs= must be a list of node ids", file.line("inputs"))
        declared = []
    for entry in declared:
        ref = entry.get("ref") if isinstance(entry, dict) else entry
        if not isinstance(ref, str) or not ref:
            file.problem(f"inputs= entry {entry!r} is not a node id", file.line("inputs"))
        elif strip_ref_call(ref) not in inputs:
            inputs.append(strip_ref_call(ref))
    for ref, _line in decorated.refs:
        if strip_ref_call(ref) not in inputs:
            inputs.append(strip_ref_call(ref))
    return inputs
