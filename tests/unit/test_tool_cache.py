"""state/tool_cache.py ToolCache and its files (DigestLog, ParseLog): entries a command adds are
appended as a record; a file of too many records, a damaged record or another version's file
is written whole again. Real files in a temp folder."""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

from seeknal import __version__
from seeknal.state.store import DigestLog, ToolCache
from seeknal.state.tool_cache import VERSION_KEY, ParseLog


def cache_in(tmp_path: Path) -> ToolCache:
    folder = tmp_path / "target" / ".seeknal-cache"
    folder.mkdir(parents=True, exist_ok=True)
    return ToolCache(folder / "cache.pickle")


def test_entries_are_appended_then_written_whole_after_many_records(tmp_path: Path) -> None:
    path = tmp_path / "target" / ".seeknal-cache" / "cache.digests"
    first = cache_in(tmp_path)
    first.digests["f:a"] = "1"
    assert first.save() and DigestLog.load(path)[1] == 1
    for n in range(2, DigestLog.MAX_RECORDS + 1):
        cache = cache_in(tmp_path)
        before = path.read_bytes()
        cache.digests[f"f:{n}"] = str(n)
        assert cache.save()
        assert path.read_bytes().startswith(before)  # appended
        assert DigestLog.load(path)[1] == n
    cache = cache_in(tmp_path)
    cache.digests["f:last"] = "x"
    assert cache.save()
    entries, records = DigestLog.load(path)
    assert records == 1 and entries["f:a"] == "1" and entries["f:last"] == "x"
    assert len(entries) == DigestLog.MAX_RECORDS + 2  # every entry and the version


def test_a_torn_record_drops_what_follows_and_the_next_save_writes_whole(tmp_path: Path) -> None:
    path = tmp_path / "target" / ".seeknal-cache" / "cache.digests"
    cache = cache_in(tmp_path)
    cache.digests["f:a"] = "1"
    cache.save()
    cache = cache_in(tmp_path)
    cache.digests["f:b"] = "2"
    cache.save()
    path.write_bytes(path.read_bytes()[:-3])  # the second record cut short
    cache = cache_in(tmp_path)
    assert cache.digests.get("f:a") == "1" and "f:b" not in cache.digests
    cache.digests["f:c"] = "3"
    assert cache.save()
    assert DigestLog.load(path) == ({**cache.digests}, 1)


def test_nothing_new_writes_nothing_and_data_sees_the_same_entries(tmp_path: Path) -> None:
    cache = cache_in(tmp_path)
    cache.digests["f:a"] = "1"
    cache.data["node:x"] = {"parsed": True}
    assert cache.save()
    again = cache_in(tmp_path)
    assert again.digests.get("f:a") == "1"
    assert again.data.get("node:x") == {"parsed": True} and again.digests is again.data
    assert not again.save()
    assert "node:x" not in DigestLog.load(tmp_path / "target/.seeknal-cache/cache.digests")[0]


def parse_file(tmp_path: Path) -> Path:
    return tmp_path / "target" / ".seeknal-cache" / "cache.pickle"


def test_parse_entries_a_command_adds_are_appended(tmp_path: Path) -> None:
    first = cache_in(tmp_path)
    first.data.update({f"node:{n}": {"n": n} for n in range(100)})
    first.data["f:a"] = "1"
    assert first.save() and ParseLog.load(parse_file(tmp_path))[1] == 1
    before = parse_file(tmp_path).read_bytes()
    again = cache_in(tmp_path)
    again.digests["f:early"] = "2"  # added before the parse entries were read
    again.data["n:sql"] = "select 1"
    again.data["f:late"] = "3"
    assert again.save()
    after = parse_file(tmp_path).read_bytes()
    assert after.startswith(before) and len(after) - len(before) < 200  # one small record
    entries, records = ParseLog.load(parse_file(tmp_path))
    assert records == 2 and entries["n:sql"] == "select 1" and entries["node:99"] == {"n": 99}
    assert not any(k.startswith("f:") for k in entries)
    digests = DigestLog.load(tmp_path / "target" / ".seeknal-cache" / "cache.digests")
    assert digests[1] == 2 and digests[0]["f:early"] == "2" and digests[0]["f:late"] == "3"
    assert not cache_in(tmp_path).save()  # read back: nothing new, nothing written
    third = cache_in(tmp_path)
    assert third.data["n:sql"] == "select 1" and third.data["f:early"] == "2"
    third.data["n:other"] = "x"
    assert third.save() and third.save() is False  # a second save has nothing new
    assert ParseLog.load(parse_file(tmp_path))[1] == 3


def test_parse_file_is_written_whole_when_its_newest_entry_was_removed(tmp_path: Path) -> None:
    first = cache_in(tmp_path)
    first.data.update({"node:a": 1, "node:b": 2})
    assert first.save()
    again = cache_in(tmp_path)
    again.data.pop("node:b")  # what was added since cannot be told by the order any more
    again.data["node:c"] = 3
    assert again.save()
    entries, records = ParseLog.load(parse_file(tmp_path))
    assert records == 1 and "node:b" not in entries and entries["node:c"] == 3


def test_parse_file_of_many_records_or_of_the_single_pickle_is_written_whole(
    tmp_path: Path,
) -> None:
    path = parse_file(tmp_path)
    body = pickle.dumps({"node:old": 1, VERSION_KEY: __version__}, protocol=5)
    path.parent.mkdir(parents=True)
    path.write_bytes(ToolCache.MAGIC + hashlib.sha256(body).digest() + body)
    cache = cache_in(tmp_path)
    assert cache.data["node:old"] == 1  # the format before the log is still read
    cache.data["node:new"] = 2
    assert cache.save() and ParseLog.load(path)[1] == 1
    for n in range(2, ParseLog.MAX_RECORDS + 1):
        cache = cache_in(tmp_path)
        cache.data[f"node:{n}"] = n
        assert cache.save() and ParseLog.load(path)[1] == n
    cache = cache_in(tmp_path)
    cache.data["node:last"] = 0
    assert cache.save()
    entries, records = ParseLog.load(path)
    assert records == 1 and entries["node:old"] == 1 and entries["node:last"] == 0
