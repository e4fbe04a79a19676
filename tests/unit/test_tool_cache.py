"""state/store.py ToolCache and its digests file (DigestLog): entries a command adds are
appended as a record; a file of too many records, a damaged record or another version's file
is written whole again. Real files in a temp folder."""

from __future__ import annotations

from pathlib import Path

from seeknal.state.store import DigestLog, ToolCache


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
