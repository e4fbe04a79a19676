"""`seeknal --help` (and every command's --help) imports none of the heavy libraries.

Help is what a newcomer runs first and what shell completion runs on every tab; the libraries
are imported lazily by the code that needs them. The hook path has its own check
(test_git_hooks.py::test_post_checkout_hook_imports_nothing_heavy).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import typer

from seeknal.cli.main import get_app

HEAVY = (
    "duckdb", "networkx", "jinja2", "pygit2", "sqlglot", "psycopg", "pyiceberg", "pyarrow",
    "pyspark", "py4j",
)  # fmt: skip

PROBE = """
import json, sys
from seeknal.entry import main
heavy = {heavy!r}
found = {{}}
for args in json.loads(sys.argv[1]):
    sys.argv = ["seeknal", *args]
    try:
        main()
    except SystemExit as exc:
        assert not exc.code, (args, exc.code)
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in heavy)
    if loaded:
        found[" ".join(args)] = loaded
        break
print(json.dumps(found))
"""


def command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = []
    for name, command in sorted(group.commands.items()):
        paths.append((*prefix, name))
        if isinstance(command, click.Group):
            paths.extend(command_paths(command, (*prefix, name)))
    return paths


def test_help_imports_nothing_heavy(tmp_path: Path) -> None:
    group = typer.main.get_command(get_app())
    assert isinstance(group, click.Group)
    commands = command_paths(group)
    assert ("run",) in commands and ("env", "list") in commands
    invocations = [["--help"], ["--version"]] + [[*path, "--help"] for path in commands]
    proc = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY), json.dumps(invocations)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    # the first invocation that imported a heavy library, with what it imported
    assert json.loads(proc.stdout.splitlines()[-1]) == {}
    assert "Usage: seeknal" in proc.stdout


def test_a_plain_run_imports_no_cli_framework(small: Path) -> None:
    """`seeknal run -q` (and the other forms cli/quick.py answers) runs its nodes without
    typer, click or rich: their import is a fixed cost of every run's start-up."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "seeknal", "run", "-q"],
        cwd=small,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0 and proc.stdout.startswith("Done in "), proc.stderr
    assert "4 succeeded" in proc.stdout
    imported = {
        line.rpartition("|")[2].strip().split(".")[0]
        for line in proc.stderr.splitlines()
        if line.startswith("import time:")
    }
    # the nodes ran, and the list shows what was imported (DuckDB's compiled module, alone
    # where it stands apart from the package, as in DuckDB 2)
    assert {"duckdb", "_duckdb"} & imported, sorted(imported)
    assert not {"typer", "click", "rich"} & imported, sorted(imported)
