"""`seeknal diff`: an applied env against production, definitions and data (docs/cli.md,
docs/concepts.md "Diffs"), through the real CLI on real projects."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import PROJECT_YML, cli, git, seeknal_cmd, write_tree
from envkit import files_and_times

ITEMS_CSV = "id,name,price,qty\n" + "".join(f"{i},item{i},{i * 10},{i}\n" for i in range(1, 11))
PRICED = """\
kind: transform
name: priced
description: Items with prices.
{key}inputs:
  - ref: source.items
transform: |
{sql}"""
PRICED_SQL = "  SELECT id, name, price, qty FROM ref('source.items')\n"
# drops id 3, raises the price of ids 2 and 4, adds ids 101 and 102
BREAKING_SQL = """\
  SELECT id, name, CASE WHEN id IN (2, 4) THEN price + 1 ELSE price END AS price, qty
  FROM ref('source.items') WHERE id <> 3
  UNION ALL
  SELECT id + 100 AS id, name, price, qty FROM ref('source.items') WHERE id <= 2
"""
TOTALS = """\
kind: transform
name: totals
inputs:
  - ref: transform.priced
transform: |
  SELECT name, sum(price) AS total FROM ref('transform.priced') GROUP BY name
"""
UNIQUE_RULE = """\
kind: rule
name: priced_unique
inputs:
  - ref: transform.priced
rule:
  - type: null
    columns: [name]
  - type: uniqueness
    columns: [id]
"""


def items_project(root: Path, key: str = "key: id\n", extra: dict[str, str] | None = None) -> Path:
    """source.items (10 rows) → transform.priced (keyed by `key`) → transform.totals (no key),
    committed on main with production run."""
    git(root, "init", "-q", "-b", "main")
    write_tree(
        root,
        {
            "seeknal_project.yml": PROJECT_YML.format(name="items"),
            "data/items.csv": ITEMS_CSV,
            "seeknal/sources/items.yml": (
                "kind: source\nname: items\nsource: csv\ntable: data/items.csv\n"
            ),
            "seeknal/transforms/priced.yml": PRICED.format(key=key, sql=PRICED_SQL),
            "seeknal/transforms/totals.yml": TOTALS,
            **(extra or {}),
        },
    )
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "items")
    res = cli(root, "run")
    assert res.exit_code == 0, res.output
    return root


def set_priced(root: Path, sql: str, key: str = "key: id\n") -> None:
    (root / "seeknal/transforms/priced.yml").write_text(PRICED.format(key=key, sql=sql))


def apply(root: Path, env: str = "dev") -> None:
    for args in (("plan", env), ("run", "--env", env)):
        res = cli(root, *args)
        assert res.exit_code == 0, res.output


def diff_json(root: Path, *args: str) -> dict[str, Any]:
    res = cli(root, "diff", *args, "--json")
    assert res.exit_code == 0, res.output
    return {n["id"]: n for n in res.json()["nodes"]}


def test_breaking_change_with_a_key_counts_rows_and_shows_examples(git_project: Path) -> None:
    root = items_project(git_project)
    set_priced(root, BREAKING_SQL)
    apply(root)

    res = cli(root, "diff", "dev", "--json")
    assert res.exit_code == 0, res.output
    document = res.json()
    assert document["kind"] == "seeknal-diff" and document["env"] == "dev"
    assert [n["id"] for n in document["nodes"]] == ["transform.priced", "transform.totals"]
    priced = document["nodes"][0]
    assert priced["category"] == "breaking"
    assert (priced["rows_before"], priced["rows_after"], priced["row_delta"]) == (10, 11, 1)
    assert priced["key"] == ["id"] and priced["key_source"] == "key"
    assert (priced["rows_added"], priced["rows_removed"], priced["rows_changed"]) == (2, 1, 2)
    assert priced["duplicate_keys"] == 0 and priced["columns"] == []
    assert priced["examples"] == {
        "added": [
            {"id": 101, "name": "item1", "price": 10, "qty": 1},
            {"id": 102, "name": "item2", "price": 20, "qty": 2},
        ],
        "removed": [{"id": 3, "name": "item3", "price": 30, "qty": 3}],
        "changed": [
            {"key": {"id": 2}, "columns": {"price": {"before": 20, "after": 21}}},
            {"key": {"id": 4}, "columns": {"price": {"before": 40, "after": 41}}},
        ],
    }
    lines = priced["definition_diff"].splitlines()
    assert lines[:2] == ["--- production/transform.priced", "+++ dev/transform.priced"]
    assert "-  SELECT id, name, price, qty FROM ref('source.items')" in lines
    assert "+  FROM ref('source.items') WHERE id <> 3" in lines
    # the downstream node has no key: counts only, and its definition did not change
    totals = document["nodes"][1]
    assert totals["category"] == "indirect_breaking" and totals["definition_diff"] == ""
    assert (totals["rows_before"], totals["rows_after"]) == (10, 9)
    assert totals["key"] is None and totals["rows_added"] is None
    assert totals["examples"] is None

    text = cli(root, "diff", "dev")
    assert text.exit_code == 0, text.output
    assert "transform.priced · breaking · SQL changed" in text.stdout
    assert "  rows: 10 → 11 (+1)\n" in text.stdout
    assert "  key id (key: on the node): 2 added, 1 removed, 2 changed\n" in text.stdout
    assert "    id=3, name=item3, price=30, qty=3\n" in text.stdout
    assert "    id=2: price 20 → 21\n" in text.stdout
    assert "  rows: 10 → 9 (-1)\n  no key declared: rows compared by count only" in text.stdout


def test_the_key_can_come_from_a_uniqueness_rule(git_project: Path) -> None:
    root = items_project(git_project, key="", extra={"seeknal/rules/unique.yml": UNIQUE_RULE})
    set_priced(root, BREAKING_SQL, key="")
    apply(root)
    priced = diff_json(root, "dev")["transform.priced"]
    assert priced["key"] == ["id"] and priced["key_source"] == "rule.priced_unique"
    assert (priced["rows_added"], priced["rows_removed"], priced["rows_changed"]) == (2, 1, 2)
    text = cli(root, "diff", "dev").stdout
    assert "key id (uniqueness rule rule.priced_unique): 2 added, 1 removed, 2 changed" in text


def test_schema_changes_added_removed_and_retyped_columns(git_project: Path) -> None:
    root = items_project(git_project)
    set_priced(
        root,
        "  SELECT id, name, CAST(price AS DOUBLE) AS price, upper(name) AS label\n"
        "  FROM ref('source.items')\n",
    )
    apply(root)
    priced = diff_json(root, "dev")["transform.priced"]
    assert priced["columns"] == [
        {"name": "label", "before": None, "after": "VARCHAR"},
        {"name": "qty", "before": "BIGINT", "after": None},
        {"name": "price", "before": "BIGINT", "after": "DOUBLE"},
    ]
    assert priced["schema_changes"] == ["+label VARCHAR", "-qty", "price: BIGINT → DOUBLE"]
    # the same prices as doubles, and columns only one side has, change no row
    assert (priced["rows_added"], priced["rows_removed"], priced["rows_changed"]) == (0, 0, 0)
    text = cli(root, "diff", "dev").stdout
    assert "  columns: +label VARCHAR, -qty, price: BIGINT → DOUBLE\n" in text


def test_added_and_removed_nodes_have_one_side(git_project: Path) -> None:
    root = items_project(git_project)
    write_tree(
        root,
        {
            "seeknal/transforms/expensive.yml": (
                "kind: transform\nname: expensive\ninputs:\n  - ref: transform.priced\n"
                "transform: SELECT * FROM ref('transform.priced') WHERE price > 50\n"
            )
        },
    )
    (root / "seeknal/transforms/totals.yml").unlink()
    apply(root)
    nodes = diff_json(root, "dev")
    added, removed = nodes["transform.expensive"], nodes["transform.totals"]
    assert added["category"] == "added" and added["note"] == "new node"
    assert (added["rows_before"], added["rows_after"]) == (None, 5)
    assert added["definition_diff"].splitlines()[:2] == [
        "--- /dev/null",
        "+++ dev/transform.expensive",
    ]
    assert removed["category"] == "removed"
    assert (removed["rows_before"], removed["rows_after"]) == (10, None)
    assert removed["note"] == "removed: promote deletes production's output"
    assert removed["definition_diff"].splitlines()[1] == "+++ /dev/null"
    text = cli(root, "diff", "dev").stdout
    assert "  rows: 5 (production has none)\n  new node" in text


def test_a_metadata_change_has_no_data_diff(git_project: Path) -> None:
    root = items_project(git_project)
    path = root / "seeknal/transforms/priced.yml"
    path.write_text(path.read_text().replace("Items with prices.", "Items, priced."))
    apply(root)
    (priced,) = diff_json(root, "dev").values()
    assert priced["category"] == "metadata"
    assert "-description: Items with prices." in priced["definition_diff"].splitlines()
    assert "+description: Items, priced." in priced["definition_diff"].splitlines()
    assert priced["rows_before"] is None and priced["rows_after"] is None
    assert priced["note"] == "metadata only: nothing runs; the env reads production's output"


def test_declaring_a_key_is_a_metadata_change(git_project: Path) -> None:
    root = items_project(git_project, key="")
    set_priced(root, PRICED_SQL, key="key: [id]\n")
    res = cli(root, "plan", "dev", "--json")
    assert res.exit_code == 0, res.output
    plan = res.json()
    assert plan["categorized_changes"] == {"transform.priced": "metadata"}
    assert plan["reasons"]["transform.priced"] == "key changed"
    assert plan["nodes_to_execute"] == []


def test_a_key_that_is_not_a_column_name_is_a_load_error(git_project: Path) -> None:
    root = items_project(git_project)
    set_priced(root, PRICED_SQL, key="key: {id: 1}\n")
    res = cli(root, "plan", "dev")
    assert res.exit_code == 1
    assert (
        "seeknal/transforms/priced.yml:4: key must be a column name or a list of column names"
        in res.stderr
    )


def test_a_key_missing_on_one_side_compares_counts_only(git_project: Path) -> None:
    root = items_project(git_project, key="key: sku\n")
    set_priced(root, "  SELECT id AS sku, name, price FROM ref('source.items')\n", key="key: sku\n")
    apply(root)
    priced = diff_json(root, "dev")["transform.priced"]
    assert priced["key"] is None and priced["rows_changed"] is None
    assert priced["note"] == "key sku is not in production's output: rows compared by count only"
    assert (priced["rows_before"], priced["rows_after"]) == (10, 10)


def test_duplicate_keys_are_counted(git_project: Path) -> None:
    root = items_project(git_project, key="key: name\n")
    set_priced(root, BREAKING_SQL, key="key: name\n")
    apply(root)
    priced = diff_json(root, "dev")["transform.priced"]
    # item1 and item2 each hold two rows in the env: those keys changed, item3 was removed
    assert priced["duplicate_keys"] == 2
    assert (priced["rows_added"], priced["rows_removed"], priced["rows_changed"]) == (0, 1, 3)
    text = cli(root, "diff", "dev").stdout
    assert "2 key(s) held by more than one row" in text


def test_the_active_env_is_the_default(git_project: Path) -> None:
    root = items_project(git_project)
    git(root, "checkout", "-q", "-b", "feature-x")
    set_priced(root, BREAKING_SQL)
    res = cli(root, "run")  # on the branch: plans and applies env feature-x
    assert res.exit_code == 0, res.output
    res = cli(root, "diff")
    assert res.exit_code == 0, res.output
    assert res.stdout.startswith("Diff of env 'feature-x' against production")


def test_diff_is_read_only(git_project: Path) -> None:
    root = items_project(git_project)
    set_priced(root, BREAKING_SQL)
    apply(root)
    before = files_and_times(root)
    for args in (("diff", "dev"), ("diff", "dev", "--json")):
        res = seeknal_cmd(root, *args)
        assert res.exit_code == 0, res.output
    assert files_and_times(root) == before


def test_an_interrupted_promotion_is_refused_and_left_alone(git_project: Path) -> None:
    root = items_project(git_project)
    set_priced(root, BREAKING_SQL)
    apply(root)
    res = seeknal_cmd(root, "promote", "dev", env={"SEEKNAL_FAILPOINT": "promote:3"})
    assert res.exit_code != 0
    assert (root / "target/.txn/journal.json").is_file()
    before = files_and_times(root)
    res = seeknal_cmd(root, "diff", "dev")
    assert res.exit_code == 1 and res.stdout == ""
    assert "Error: A promotion is in progress or was interrupted" in res.stderr
    assert "'seeknal env list' finishes or undoes the promotion first" in res.stderr
    # a command that only reads repairs nothing (repairing takes the lock)
    assert files_and_times(root) == before


def test_errors_name_the_env_and_the_next_command(git_project: Path) -> None:
    root = items_project(git_project)
    res = cli(root, "diff", "nope")
    assert res.exit_code == 1
    assert "Error: Environment 'nope' not found." in res.stderr
    assert "Next: Run 'seeknal plan nope' to create it." in res.stderr

    res = cli(root, "diff")  # on main: production is the active env
    assert res.exit_code == 1
    assert "No environment to diff: the active env is production" in res.stderr
    assert "Next: There is no env yet: 'seeknal plan ENV' creates one" in res.stderr

    set_priced(root, BREAKING_SQL)
    assert cli(root, "plan", "dev").exit_code == 0
    res = cli(root, "diff")  # the envs there are are named
    assert res.exit_code == 1
    assert "Next: Name it: seeknal diff dev (the only env)" in res.stderr, res.stderr
    res = seeknal_cmd(root, "diff", "dev")
    assert res.exit_code == 1 and res.stdout == ""
    assert "Error: Environment 'dev' has not been applied: it has no data to compare yet." in (
        res.stderr
    )
    assert "Next: Run 'seeknal run --env dev' first, then 'seeknal diff dev'." in res.stderr

    assert cli(root, "run", "--env", "dev").exit_code == 0
    assert cli(root, "promote", "dev").exit_code == 0
    res = cli(root, "diff", "dev", "--json")
    assert res.exit_code == 1 and res.stdout == ""
    assert "Environment 'dev' has been promoted: production holds its data now." in res.stderr


def test_a_stale_plan_is_compared_with_a_warning(git_project: Path) -> None:
    root = items_project(git_project)
    set_priced(root, BREAKING_SQL)
    apply(root)
    set_priced(root, PRICED_SQL.replace("qty", "qty, 1 AS one"))  # edited after the apply
    res = cli(root, "diff", "dev")
    assert res.exit_code == 0, res.output
    assert "warning: the plan of env 'dev' is stale: Plan is stale" in res.stderr
    assert "key id (key: on the node): 2 added, 1 removed, 2 changed" in res.stdout
    assert diff_json(root, "dev") and cli(root, "diff", "dev", "--json").json()["stale"]


@pytest.mark.parametrize("fmt", ["text", "markdown", "html", "json"])
def test_reports_show_the_data_changes(git_project: Path, fmt: str) -> None:
    root = items_project(git_project)
    set_priced(root, BREAKING_SQL)
    assert cli(root, "plan", "dev").exit_code == 0
    before = cli(root, "report", "dev", "-f", fmt).stdout
    assert cli(root, "run", "--env", "dev").exit_code == 0
    after = cli(root, "report", "dev", "-f", fmt).stdout
    expected = {
        "text": (
            None,
            "  transform.priced  10 → 11 rows (+1); key id: 2 added, 1 removed, 2 changed\n"
            "  transform.totals  10 → 9 rows (-1)\n",
        ),
        "markdown": (
            "_Not compared yet: after `seeknal run --env dev`, `seeknal report dev` shows each "
            "changed node's rows against production._",
            "| `transform.priced` | `id` | 10 → 11 (+1) | 2 | 1 | 2 |  |\n"
            "| `transform.totals` | — | 10 → 9 (-1) | — | — | — |  |\n",
        ),
        "html": (
            "Not compared yet",
            '<tr><td><code>transform.priced</code></td><td><code>id</code></td><td style="'
            'text-align:right">10 → 11 (+1)</td><td style="text-align:right">2</td><td style="'
            'text-align:right">1</td><td style="text-align:right">2</td><td></td></tr>',
        ),
    }
    if fmt == "json":
        assert json.loads(before)["data_changes"] is None
        report = json.loads(after)
        assert report["schema_version"] == "1.1"
        priced, totals = report["data_changes"]
        assert priced["id"] == "transform.priced" and totals["id"] == "transform.totals"
        assert (priced["rows_added"], priced["rows_removed"], priced["rows_changed"]) == (2, 1, 2)
        assert "examples" not in priced and "definition_diff" not in priced
        assert (totals["rows_before"], totals["rows_after"], totals["key"]) == (10, 9, None)
        return
    placeholder, table = expected[fmt]
    assert "Data changes" not in before if placeholder is None else placeholder in before
    assert table in after
    # row values stay out of reports
    assert "item3" not in after
