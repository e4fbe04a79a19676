"""A run's start-up: DuckDB's compiled module alone, and its database opened while the run plans.

The `duckdb` package's Python layer (the relational API, its version from the package
metadata) costs about twice the compiled module's own import; a production run and an env run
need none of it (engine/duckdb_core.py). The database is opened on a thread of its own while
the project is planned, and handed to the engine when the first node runs. The loader's syntax
check opens a database of its own the same way, loading sqlglot's tokenizer meanwhile.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import git
from envkit import edit, env_dir, env_project

from seeknal.engine import duckdb_core
from seeknal.engine.duckdb_core import open_soon, syntax_error, take_opened

ADULTS = "seeknal/transforms/adults.yml"

PROBE = """
import json, sys
from seeknal.entry import main
sys.argv = ["seeknal", *json.loads(sys.argv[1])]
code = 0
try:
    main()
except SystemExit as exc:
    code = exc.code or 0
print(json.dumps({"code": code, "package": "duckdb" in sys.modules}))
"""

# DuckDB 1.x keeps its compiled module inside the package: there the package is what runs
SEPARATE_CORE = importlib.util.find_spec("_duckdb") is not None


def probe(root: Path, *args: str) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return dict(json.loads(proc.stdout.splitlines()[-1]))


def test_runs_load_no_duckdb_package(git_project: Path) -> None:
    env_project(git_project)
    git(git_project, "add", "-A")
    git(git_project, "commit", "-q", "-m", "project")
    assert probe(git_project, "run", "-q") == {"code": 0, "package": not SEPARATE_CORE}
    adults = git_project / "target" / "cache" / "transform" / "adults.parquet"
    assert adults.is_file()
    assert (git_project / "target" / "run_state.json").is_file()

    edit(git_project, ADULTS, "WHERE age >= 18", "WHERE age >= 30")
    assert probe(git_project, "plan", "dev")["code"] == 0
    assert probe(git_project, "run", "--env", "dev", "-q") == {
        "code": 0,
        "package": not SEPARATE_CORE,
    }
    assert (env_dir(git_project, "dev") / "cache" / "transform" / "adults.parquet").is_file()
    # everything reused: the database opened ahead is never taken, and the process still ends
    # cleanly (it waits for the opening thread rather than finalizing under it)
    for _ in range(3):
        assert probe(git_project, "run", "--env", "dev", "-q")["code"] == 0


def test_database_opened_ahead_is_handed_over_once() -> None:
    assert take_opened() is None  # nothing started: the engine opens its own
    open_soon()
    open_soon()  # already opening: still one database
    db = take_opened()
    assert db.execute("SELECT 40 + 2").fetchone() == (42,)
    assert take_opened() is None
    db.close()


def test_parser_database_opens_once_while_the_tokenizer_loads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The loader's first syntax check opens DuckDB's database on a thread and loads sqlglot's
    tokenizer meanwhile (what fingerprinting SQL never seen before needs next); a failure of
    that head start changes nothing."""
    monkeypatch.setattr(duckdb_core, "_parser", None)
    calls: list[str] = []

    def meanwhile() -> None:
        calls.append("tokenizer")
        raise ImportError("no head start")

    assert syntax_error("SELECT 1", meanwhile=meanwhile) is None
    assert calls == ["tokenizer"]
    message, line = syntax_error("SELECT 1\nFROM t WHERE", meanwhile=meanwhile) or ("", None)
    assert "syntax error" in message and line == 2
    assert calls == ["tokenizer"]  # the database is opened, and the tokenizer loaded, once
