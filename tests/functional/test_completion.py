"""Shell completion (docs/cli.md#shell-completion): env names, node ids and selectors, answered
through the shell's completion protocol (`_SEEKNAL_COMPLETE`) by the installed CLI, without
importing any heavy library."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import small_project

HEAVY = ("duckdb", "networkx", "jinja2", "pygit2", "sqlglot", "psycopg", "pyiceberg", "pyarrow")

SEEKNAL = str(Path(sys.executable).parent / "seeknal")
PROBE = """
import json, sys
from seeknal.entry import main
sys.argv = ["seeknal"]
try:
    main()
except SystemExit:
    pass
heavy = {heavy!r}
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in heavy)))
"""


@pytest.fixture
def proj(tmp_path: Path) -> Path:
    root = small_project(tmp_path / "proj")
    for env in ("dev", "dave", "staging"):
        (root / "target" / "environments" / env).mkdir(parents=True)
    (root / "target" / "environments" / ".deleting-dev-abc").mkdir()
    return root


def complete(root: Path, line: str, probe: bool = False) -> list[str]:
    """What bash completion offers for `line` (the cursor at its end)."""
    words = line.split(" ")
    env = {
        **os.environ,
        "_SEEKNAL_COMPLETE": "complete_bash",
        "COMP_WORDS": line,
        "COMP_CWORD": str(len(words) - 1),
    }
    cmd = [SEEKNAL]  # the installed script: completion is keyed on the program's name
    if probe:
        cmd = [sys.executable, "-c", PROBE.format(heavy=HEAVY)]
    proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    return proc.stdout.split()


def test_env_names(proj: Path) -> None:
    assert complete(proj, "seeknal run --env d") == ["dave", "dev"]
    assert complete(proj, "seeknal plan s") == ["staging"]
    assert complete(proj, "seeknal promote ") == ["dave", "dev", "staging"]
    assert complete(proj, "seeknal env delete da") == ["dave"]


def test_node_ids_and_selectors(proj: Path) -> None:
    assert complete(proj, "seeknal run --select transform.") == [
        "transform.adults",
        "transform.city_counts",
        "transform.names",
    ]
    assert complete(proj, "seeknal run -n +transform.a") == ["+transform.adults"]
    assert complete(proj, "seeknal plan --exclude kind:") == ["kind:source", "kind:transform"]
    assert complete(proj, "seeknal ls path:seeknal/s") == ["path:seeknal/sources"]
    assert complete(proj, "seeknal run -s source.people,transform.n") == [
        "source.people,transform.names"
    ]
    offered = complete(proj, "seeknal ls ")
    assert {"kind:", "tag:", "path:", "source.people"} <= set(offered)


def test_outside_a_project_nothing_is_offered(tmp_path: Path) -> None:
    assert complete(tmp_path, "seeknal run --env ") == []
    assert complete(tmp_path, "seeknal ls ") == []


def test_completion_imports_nothing_heavy(proj: Path) -> None:
    out = complete(proj, "seeknal run --select transform.", probe=True)
    assert json.loads(out[-1]) == []
    assert "transform.adults" in out


def test_show_completion_prints_a_script(proj: Path) -> None:
    proc = subprocess.run(
        [SEEKNAL, "--show-completion", "bash"],
        cwd=proj,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "_SEEKNAL_COMPLETE" in proc.stdout
