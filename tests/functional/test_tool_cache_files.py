"""The tool cache is two files (state/tool_cache.py ToolCache): file digests and fingerprint memos in
`cache.digests`, parsed YAML and normalised SQL in `cache.pickle`. A promotion reads and writes
the first only; a damaged one of either only costs time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import cli, ran, run_json
from envkit import ADULTS, applied_dev_env, edit, promotions

from seeknal.state.tool_cache import DigestLog, ParseLog

CACHE = Path("target/.seeknal-cache")


def test_promote_leaves_the_parse_entries_alone(git_project: Path) -> None:
    root = applied_dev_env(git_project)
    parse, digests = root / CACHE / "cache.pickle", root / CACHE / "cache.digests"
    before = parse.read_bytes()
    digests_before = digests.read_bytes()
    res = cli(root, "promote", "dev")
    assert res.exit_code == 0, res.output
    assert parse.read_bytes() == before  # not rewritten: the project was never loaded
    # the moved outputs' digests were appended, the entries before left as they were
    after = digests.read_bytes()
    assert len(after) > len(digests_before) and after.startswith(digests_before)
    entries, intact = DigestLog.load(digests)
    assert intact >= 2
    assert all(k.startswith(("f:", "mfs:", "mfp:", "__")) for k in entries), sorted(entries)[:5]
    moved = str(root / "target/cache/transform/adults.parquet")
    assert any(k.startswith(f"f:{moved}:") for k in entries)
    assert not any(k.startswith("f:") for k in ParseLog.load(parse)[0])


@pytest.mark.parametrize("damage", ["garbage", "truncated", "missing"])
def test_damaged_digests_file_only_costs_time(git_project: Path, damage: str) -> None:
    root = applied_dev_env(git_project)
    digests = root / CACHE / "cache.digests"
    data = digests.read_bytes()
    if damage == "garbage":
        digests.write_bytes(data[:40] + bytes(range(256)) * 4 + data[40:])
    elif damage == "truncated":
        digests.write_bytes(data[: len(data) // 3])
    else:
        digests.unlink()
    res = cli(root, "promote", "dev")
    assert res.exit_code == 0, res.output
    assert {"transform.adults", "transform.city_counts"} <= set(promotions(root)[-1]["nodes"])
    res, summary = run_json(root)
    assert res.exit_code == 0 and ran(summary) == set(), res.output
    # a change is still seen
    edit(root, ADULTS, "WHERE age >= 30", "WHERE age >= 31")
    res, summary = run_json(root)
    assert res.exit_code == 0 and "transform.adults" in ran(summary)


def test_promote_reads_history_settings_from_the_memo_of_this_project_file(
    git_project: Path,
) -> None:
    """`history:` comes from the settings memo beside the tool cache, only while it was made
    from exactly the project file's text."""
    root = applied_dev_env(git_project)
    memo = root / CACHE / "settings.json"
    text = (root / "seeknal_project.yml").read_text()
    keep_none = {"git": None, "history": {"keep": 0}}
    memo.write_text(json.dumps({"source": text + "# other\n", "settings": keep_none}))
    assert cli(root, "promote", "dev").exit_code == 0
    first = promotions(root)[-1]["id"]
    assert (root / "target/history" / first).is_dir()  # the default keeps it
    edit(root, ADULTS, "WHERE age >= 30", "WHERE age >= 31")
    for command in (("plan", "dev"), ("run", "--env", "dev")):
        assert cli(root, *command).exit_code == 0
    memo.write_text(json.dumps({"source": text, "settings": keep_none}))
    assert cli(root, "promote", "dev").exit_code == 0
    assert not (root / "target/history" / promotions(root)[-1]["id"]).exists()
