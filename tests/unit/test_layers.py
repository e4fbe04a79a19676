"""Imports point down the layers of docs/architecture.md, and each outside library has one owner.

Read from the source with `ast`, so a lazy import inside a function counts like any other: a
lazy import may keep a module off a fast path, but it must never reach up a layer.
"""

from __future__ import annotations

import ast
from pathlib import Path

import seeknal

PACKAGE = Path(seeknal.__file__).parent

# Lower rank = lower layer. A module may import modules of its own rank or below. The most
# specific prefix decides a module's rank.
RANKS = {
    "seeknal": 0,  # __version__
    "seeknal.types": 0,
    "seeknal.errors": 0,
    "seeknal.jsonfile": 0,
    "seeknal.notices": 0,
    "seeknal.forked": 0,  # work handed to a forked copy; standard library only
    "seeknal.sigint": 0,  # Ctrl-C while a query runs; standard library only
    "seeknal.state.failpoints": 0,
    "seeknal.pipeline": 0,  # the decorators node files import; standard library only
    "seeknal.sql": 1,
    "seeknal.dag": 1,
    "seeknal.digest": 1,
    "seeknal.project.placeholders": 1,
    "seeknal.project.shapes": 1,
    "seeknal.project.files": 1,
    "seeknal.envs.names": 1,
    "seeknal.git.settings": 1,
    "seeknal.git.dotgit": 1,
    "seeknal.git.gitfiles": 1,
    "seeknal.state.records": 1,  # plain values: what each state file holds
    "seeknal.kinds": 2,
    "seeknal.project": 3,
    "seeknal.planning": 3,
    "seeknal.state": 4,
    "seeknal.engine": 5,
    "seeknal.report": 5,
    "seeknal.report.model": 5,
    "seeknal.report.render": 5,
    "seeknal.report.svg": 5,
    "seeknal.context": 6,
    "seeknal.git": 6,
    "seeknal.runner": 7,
    "seeknal.envs": 8,
    "seeknal.envs.git_events": 9,
    "seeknal.report.build": 9,
    "seeknal.cli": 10,
    "seeknal.testing": 10,  # the pytest plugin: a front end, like the CLI
    "seeknal.entry": 10,
    "seeknal.__main__": 10,
}

# Each outside library is imported by one place only.
OWNERS = {
    "duckdb": ("seeknal.engine",),
    "_duckdb": ("seeknal.engine.duckdb_core",),  # DuckDB's compiled module alone
    "pygit2": ("seeknal.git.repo",),
    "networkx": ("seeknal.dag",),
    "jinja2": ("seeknal.report",),
    "sqlglot": ("seeknal.sql",),
    "typer": ("seeknal.cli",),
    "click": ("seeknal.cli",),
    "rich": ("seeknal.cli.live",),  # the run progress bar, imported when a run starts
    "filelock": ("seeknal.state.lock",),
    "orjson": ("seeknal.state.atomic",),  # large state files
    "pytest": ("seeknal.testing.plugin",),
    "psycopg": ("seeknal.engine.postgres",),
    "pyiceberg": ("seeknal.engine.iceberg",),
    "pyarrow": ("seeknal.engine",),
    "pyspark": ("seeknal.engine.spark", "seeknal.engine.spark_io", "seeknal.engine.spark_session"),
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def rank(module: str) -> int:
    best = max((p for p in RANKS if module == p or module.startswith(p + ".")), key=len)
    return RANKS[best]


def imports(path: Path) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "seeknal":
                found += [(node.lineno, f"seeknal.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, node.module))
    return found


def sources() -> list[Path]:
    return [p for p in sorted(PACKAGE.rglob("*.py")) if "examples" not in p.parts]


def test_imports_point_down() -> None:
    upward = []
    for path in sources():
        module = module_name(path)
        for line, target in imports(path):
            if target.startswith("seeknal") and rank(target) > rank(module):
                upward.append(f"{module}:{line} imports {target}")
    assert upward == []


def test_outside_libraries_have_one_owner() -> None:
    strays = []
    for path in sources():
        module = module_name(path)
        for line, target in imports(path):
            library = target.split(".")[0]
            owners = OWNERS.get(library)
            if owners and not any(module == o or module.startswith(o + ".") for o in owners):
                strays.append(f"{module}:{line} imports {target}")
    assert strays == []


def test_every_module_has_a_layer() -> None:
    # a new top-level module or package must be placed in RANKS on purpose
    unplaced = [
        m
        for m in map(module_name, sources())
        if m != "seeknal"
        and not any(m == r or m.startswith(r + ".") for r in RANKS if r != "seeknal")
    ]
    assert unplaced == []


def test_the_layer_check_sees_a_violation(tmp_path: Path) -> None:
    # the check is only as good as its parsing: an upward lazy import is found
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from seeknal.cli.main import get_app\n")
    assert (2, "seeknal.cli.main") in imports(probe)
    assert rank("seeknal.cli.main") > rank("seeknal.types")


def test_no_module_is_longer_than_400_lines() -> None:
    """Modules stay small enough to read in one sitting: split one that grows past 400 lines."""
    long = {
        str(path.relative_to(PACKAGE)): lines
        for path in PACKAGE.rglob("*.py")
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > 400
    }
    assert long == {}
