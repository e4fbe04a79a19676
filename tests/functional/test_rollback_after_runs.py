"""Which production runs after a promotion still allow rolling it back (docs/concepts.md#rollback):
only production's outputs count, and `seeknal log` and `seeknal rollback` answer alike."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import cli
from envkit import ADULTS, edit, history_lines, promotions
from test_rollback import prepare, production

FAILING_RULE = "seeknal/rules/r1.yml"
RULE = """\
kind: rule
name: r1
inputs: [{ref: source.people}]
rule:
  type: range
  column: nosuchcol
  params: {min_val: 0}
"""
NEW_TRANSFORM = "seeknal/transforms/extra.yml"
EXTRA = """\
kind: transform
name: extra
transform: SELECT id FROM ref('source.people')
"""


BEFORE: dict[Path, dict[str, str]] = {}  # production before the promotion, by project


@pytest.fixture
def promoted(tmp_path: Path) -> Path:
    root = prepare(tmp_path / "p")
    BEFORE[root] = production(root)
    assert cli(root, "promote", "dev").exit_code == 0
    return root


def log_rollback(root: Path) -> str:
    log = cli(root, "log", "--json").json()
    [entry] = [e for e in log if e["kind"] == "promote"]
    return str(entry["rollback"])


def test_a_run_whose_new_node_failed_does_not_block_rollback(promoted: Path) -> None:
    root = promoted
    (root / FAILING_RULE).parent.mkdir(parents=True, exist_ok=True)
    (root / FAILING_RULE).write_text(RULE)
    res = cli(root, "run")
    assert res.exit_code == 1 and "rule.r1" in res.output
    assert [x.get("kind", "promote") for x in history_lines(root)][
        -1
    ] == "promote"  # it wrote no output
    assert log_rollback(root) == "yes"
    res = cli(root, "rollback")
    assert res.exit_code == 0, res.output
    assert "Rolled back promotion" in res.stdout
    assert production(root) == BEFORE[root]  # byte for byte


def test_a_run_that_only_forgets_a_failed_node_does_not_block_rollback(promoted: Path) -> None:
    root = promoted
    (root / FAILING_RULE).parent.mkdir(parents=True, exist_ok=True)
    (root / FAILING_RULE).write_text(RULE)
    assert cli(root, "run").exit_code == 1
    (root / FAILING_RULE).unlink()
    res = cli(root, "run")
    assert res.exit_code == 0, res.output
    assert [x.get("kind", "promote") for x in history_lines(root)][
        -1
    ] == "promote"  # nothing was removed
    assert log_rollback(root) == "yes"
    res = cli(root, "rollback")
    assert res.exit_code == 0, res.output
    assert production(root) == BEFORE[root]


@pytest.mark.parametrize("change", ["recompute", "new output"])
def test_a_run_that_wrote_outputs_blocks_rollback_in_log_and_rollback(
    promoted: Path, change: str
) -> None:
    root = promoted
    if change == "recompute":
        edit(root, ADULTS, "WHERE age >= 30", "WHERE age >= 40")
    else:
        (root / NEW_TRANSFORM).write_text(EXTRA)
    res = cli(root, "run")
    assert res.exit_code == 0, res.output
    run = history_lines(root)[-1]
    assert run["kind"] == "run"
    after_run = production(root)
    [promotion] = promotions(root)
    assert log_rollback(root) == f"no: production run {run['id']} changed outputs since"
    res = cli(root, "rollback")
    assert res.exit_code == 1
    assert (
        f"Production changed after promotion {promotion['id']}: production run {run['id']} "
        "changed outputs since, and the outputs it replaced were not kept" in res.stderr
    )
    assert production(root) == after_run
