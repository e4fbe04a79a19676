"""What a Python node file says, read from its syntax tree (`ast`), never by importing it. Pure.

A node is a top-level function decorated with one of `seeknal.pipeline`'s decorators (and any
number of `@materialize(...)`). Its arguments must be literals, and so must the node ids given
to `ctx.ref(...)`: both are read here, when the project loads.
"""

from __future__ import annotations

import ast
import re
import tomllib
from dataclasses import dataclass, field
from typing import Any

NODE_DECORATORS = ("source", "transform", "feature_group", "second_order_aggregation")
MATERIALIZE = "materialize"
PIPELINE_MODULES = ("seeknal.pipeline", "seeknal.pipeline.decorators")
# the PEP 723 block: `# /// script` ... `# ///`, every line in it a comment
SCRIPT_BLOCK = re.compile(
    r"(?m)^# /// (?P<type>[a-zA-Z0-9-]+)$\s(?P<content>(^#(| .*)$\s)+)^# ///$"
)
REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


@dataclass(frozen=True)
class Argument:
    value: Any
    line: int


@dataclass
class Decorated:
    """One node function as the file writes it."""

    kind: str
    function: str
    line: int
    args: dict[str, Argument] = field(default_factory=dict)
    materializations: list[tuple[dict[str, Any], int]] = field(default_factory=list)
    refs: list[tuple[str, int]] = field(default_factory=list)  # ctx.ref("x") ids and lines
    empty_body: bool = False  # only a docstring, `pass` or `...`


@dataclass
class PythonFile:
    """Everything the loader needs from one file, with the problems found (line, message)."""

    nodes: list[Decorated] = field(default_factory=list)
    dependencies: tuple[str, ...] = ()
    requires_python: str | None = None
    uses_pandas: bool = False
    problems: list[tuple[int | None, str]] = field(default_factory=list)


def read_python(text: str) -> PythonFile:
    found = PythonFile()
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        found.problems.append((exc.lineno, f"Python syntax error: {exc.msg}"))
        return found
    _script_metadata(text, found)
    names, modules = _pipeline_names(tree)
    found.uses_pandas = _imports_pandas(tree) or "pandas" in requirement_names(found.dependencies)
    for stmt in tree.body:
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
            node = _decorated(stmt, names, modules, found.problems)
            if node is not None:
                found.nodes.append(node)
    return found


def requirement_names(requirements: tuple[str, ...] | list[str]) -> list[str]:
    """The distribution names of PEP 508 requirements, normalised (`Scikit_Learn` -> `scikit-learn`)."""
    names = []
    for requirement in requirements:
        match = REQUIREMENT_NAME.match(requirement)
        if match:
            names.append(re.sub(r"[-_.]+", "-", match.group(1)).lower())
    return names


def _script_metadata(text: str, found: PythonFile) -> None:
    blocks = [m for m in SCRIPT_BLOCK.finditer(text) if m.group("type") == "script"]
    if not blocks:
        return
    block = blocks[0]
    line = text.count("\n", 0, block.start()) + 1
    content = "".join(
        row[2:] if row.startswith("# ") else row[1:]
        for row in block.group("content").splitlines(keepends=True)
    )
    try:
        data = tomllib.loads(content)
    except tomllib.TOMLDecodeError as exc:
        found.problems.append((line, f"the '# /// script' block is not valid TOML: {exc}"))
        return
    deps = data.get("dependencies", [])
    if not isinstance(deps, list) or not all(isinstance(d, str) for d in deps):
        found.problems.append((line, "'dependencies' in the '# /// script' block must be a list"))
        return
    found.dependencies = tuple(deps)
    requires = data.get("requires-python")
    found.requires_python = str(requires) if requires else None


def _pipeline_names(tree: ast.Module) -> tuple[dict[str, str], set[str]]:
    """Local names of seeknal.pipeline's decorators, and names bound to the module itself."""
    names: dict[str, str] = {}
    modules: set[str] = set()
    for stmt in tree.body:
        if isinstance(stmt, ast.ImportFrom) and stmt.module in PIPELINE_MODULES:
            for alias in stmt.names:
                names[alias.asname or alias.name] = alias.name
        elif isinstance(stmt, ast.ImportFrom) and stmt.module == "seeknal":
            modules.update(a.asname or a.name for a in stmt.names if a.name == "pipeline")
        elif isinstance(stmt, ast.Import):
            for alias in stmt.names:
                if alias.name in PIPELINE_MODULES:
                    modules.add(alias.asname or alias.name)
    return names, modules


def _imports_pandas(tree: ast.Module) -> bool:
    for stmt in ast.walk(tree):
        if isinstance(stmt, ast.Import) and any(
            a.name.split(".")[0] == "pandas" for a in stmt.names
        ):
            return True
        if isinstance(stmt, ast.ImportFrom) and (stmt.module or "").split(".")[0] == "pandas":
            return True
    return False


def _decorator_name(expr: ast.expr, names: dict[str, str], modules: set[str]) -> str | None:
    target = expr.func if isinstance(expr, ast.Call) else expr
    if isinstance(target, ast.Name):
        return names.get(target.id)
    if isinstance(target, ast.Attribute) and ast.unparse(target.value) in modules:
        return target.attr
    return None


def _decorated(
    func: ast.FunctionDef | ast.AsyncFunctionDef,
    names: dict[str, str],
    modules: set[str],
    problems: list[tuple[int | None, str]],
) -> Decorated | None:
    node: Decorated | None = None
    mats: list[tuple[dict[str, Any], int]] = []
    for expr in func.decorator_list:
        name = _decorator_name(expr, names, modules)
        if name is None:
            continue
        if not isinstance(expr, ast.Call):
            problems.append((expr.lineno, f"write @{name}(...) with its arguments"))
            continue
        args = _arguments(expr, name, problems)
        if name == MATERIALIZE:
            mats.append(({k: a.value for k, a in args.items()}, expr.lineno))
        elif name in NODE_DECORATORS and node is not None:
            problems.append((expr.lineno, f"{func.name} has two node decorators; keep one"))
        elif name in NODE_DECORATORS:
            node = Decorated(name, func.name, expr.lineno, args)
        else:
            problems.append((expr.lineno, f"seeknal.pipeline has no decorator '{name}'"))
    if node is None:
        if mats:
            problems.append((func.lineno, f"@materialize on {func.name}, which is not a node"))
        return None
    if func.decorator_list and isinstance(func, ast.AsyncFunctionDef):
        problems.append((func.lineno, f"{func.name} is async; node functions are plain functions"))
    node.materializations = list(reversed(mats))  # decorators apply bottom-up
    node.refs = _refs(func, problems)
    node.empty_body = all(_is_filler(stmt) for stmt in func.body)
    return node


def _arguments(
    call: ast.Call, name: str, problems: list[tuple[int | None, str]]
) -> dict[str, Argument]:
    if call.args:
        problems.append((call.lineno, f"@{name}(...) takes keyword arguments only (name=...)"))
    args: dict[str, Argument] = {}
    for keyword in call.keywords:
        if keyword.arg is None:
            problems.append((keyword.lineno, f"@{name}(**...) is not read; write each argument"))
            continue
        try:
            args[keyword.arg] = Argument(ast.literal_eval(keyword.value), keyword.lineno)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            shown = ast.unparse(keyword.value)
            problems.append(
                (
                    keyword.lineno,
                    f"@{name}({keyword.arg}={shown}): arguments must be literal values "
                    "(text, numbers, lists, mappings); seeknal reads them without running the file",
                )
            )
    return args


def _refs(
    func: ast.FunctionDef | ast.AsyncFunctionDef, problems: list[tuple[int | None, str]]
) -> list[tuple[str, int]]:
    """The node ids the function passes to `<ctx>.ref(...)`; each must be a literal."""
    params = func.args.posonlyargs + func.args.args
    if not params:
        return []
    ctx = params[0].arg
    refs: list[tuple[str, int]] = []
    for call in ast.walk(func):
        if not (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and call.func.attr == "ref"
            and isinstance(call.func.value, ast.Name)
            and call.func.value.id == ctx
        ):
            continue
        first = call.args[0] if len(call.args) == 1 and not call.keywords else None
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            refs.append((first.value, call.lineno))
        else:
            problems.append(
                (
                    call.lineno,
                    f"{ctx}.ref({', '.join(ast.unparse(a) for a in call.args)}) must name its "
                    f'node with one literal text, e.g. {ctx}.ref("source.orders"): seeknal '
                    "reads the graph without running the file",
                )
            )
    return refs


def _is_filler(stmt: ast.stmt) -> bool:
    if isinstance(stmt, ast.Pass):
        return True
    if isinstance(stmt, ast.Return):
        return stmt.value is None or (
            isinstance(stmt.value, ast.Constant) and stmt.value.value is None
        )
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)


# -- fingerprints ------------------------------------------------------------------------------
def normalized_code(code: str, function: str) -> str:
    """The node's code as its fingerprint sees it: the syntax tree of the module without other
    nodes' functions and without docstrings, so comments, docstrings and layout do not count."""
    tree = ast.parse(code)
    others = _other_nodes(tree, function)
    tree.body = [s for s in tree.body if s not in others]
    for item in ast.walk(tree):
        if isinstance(item, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = item.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                if isinstance(body[0].value.value, str):
                    item.body = body[1:] or [ast.Pass()]
    return ast.dump(tree, annotate_fields=False)


def own_text(code: str, function: str) -> str:
    """The file's text without the other nodes' functions: what the node's metadata hash
    covers, so that its own comments and docstrings count and its neighbours' do not."""
    tree = ast.parse(code)
    lines = code.splitlines()
    for stmt in reversed(_other_nodes(tree, function)):
        start = min([d.lineno for d in stmt.decorator_list] + [stmt.lineno])
        del lines[start - 1 : stmt.end_lineno]
    return "\n".join(lines)


def _other_nodes(tree: ast.Module, function: str) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    """The top-level node functions of the file other than `function`, in file order."""
    names, modules = _pipeline_names(tree)
    return [
        stmt
        for stmt in tree.body
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef)
        and stmt.name != function
        and any(_decorator_name(d, names, modules) in NODE_DECORATORS for d in stmt.decorator_list)
    ]
