"""A node file whose node is remembered is recognised by its stats (size, change times, inode)
instead of being read (seeknal/project/known_files.py): what it says must stay what reading
it says. Files count as written long ago here (RACY_SECONDS apart), as after a real edit."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from conftest import cli

from seeknal.project import known_files
from seeknal.project.known_files import NODE_FIELDS, node_of
from seeknal.state.tool_cache import ParseLog
from seeknal.types import Node

ADULTS = "seeknal/transforms/adults.yml"
CACHE = Path("target/.seeknal-cache")


@pytest.fixture
def long_ago(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(known_files, "RACY_SECONDS", -1.0)


def known_paths(root: Path) -> set[str]:
    entries, _ = ParseLog.load(root / CACHE / "cache.pickle")
    return {key.split(":")[2] for key in entries if key.startswith("st:")}


def test_remembered_nodes_are_known_by_stats_and_an_edit_is_still_seen(
    small: Path, long_ago: None
) -> None:
    assert cli(small, "run").exit_code == 0
    # the source reads its data file when checked: never remembered, always read
    assert known_paths(small) == {
        ADULTS,
        "seeknal/transforms/city_counts.yml",
        "seeknal/transforms/names.yml",
    }
    res = cli(small, "plan")
    assert res.exit_code == 0 and "0 node(s) to run, 4 cached." in res.stdout, res.output
    # the same size, and the modification time put back: the change time still moves
    adults = small / ADULTS
    before = adults.stat()
    adults.write_text(adults.read_text().replace("age >= 18", "age >= 19"))
    os.utime(adults, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert adults.stat().st_size == before.st_size
    res = cli(small, "plan", "--json")
    assert res.exit_code == 0, res.output
    assert {"transform.adults", "transform.city_counts"} <= set(res.json()["to_run"])


def test_a_problem_in_a_file_known_by_stats_names_its_line(small: Path, long_ago: None) -> None:
    assert cli(small, "run").exit_code == 0
    assert ADULTS in known_paths(small)
    (small / "seeknal/sources/people.yml").unlink()
    res = cli(small, "plan")
    assert res.exit_code == 1
    # the line of the ref in the file, read for the message
    assert f"{ADULTS}:5: ref to unknown node 'source.people'" in res.stderr, res.stderr
    shutil.rmtree(small / CACHE)  # every file read: the same message
    assert cli(small, "plan").stderr == res.stderr


def test_a_remembered_node_is_the_node_its_file_builds() -> None:
    fields = (
        "transform.a",
        "transform",
        "a",
        "a.yml",
        3,
        ("source.s",),
        {"sql": "x"},
        {},
        "x",
        None,
    )
    made = Node(*fields)
    assert node_of((NODE_FIELDS, fields, ())) == made
    assert not hasattr(Node, "__post_init__")  # node_of sets the fields as __init__ does
