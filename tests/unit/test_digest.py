"""Content digests of data and output files, and their stat-keyed memo."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from seeknal import digest
from seeknal.digest import expand, file_digest, paths_digest


def test_digest_is_sha256_of_the_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    data = os.urandom(1_000_000)
    path.write_bytes(data)
    assert file_digest(path) == hashlib.sha256(data).hexdigest()


def test_memo_is_used_for_unchanged_old_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(digest, "RACY_SECONDS", -1.0)  # as if the file were written long ago
    path = tmp_path / "f.csv"
    path.write_text("a,b\n1,2\n")
    memo: dict[str, str] = {}
    first = file_digest(path, memo)
    assert list(memo.values()) == [first]
    assert file_digest(path, memo) == first
    assert len(memo) == 1


def test_memo_does_not_trust_a_restored_mtime(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(digest, "RACY_SECONDS", -1.0)
    path = tmp_path / "f.csv"
    path.write_text("a,b\n1,2\n")
    memo: dict[str, str] = {}
    first = file_digest(path, memo)
    st = path.stat()
    path.write_text("a,b\n1,3\n")  # same size
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # as cp -p / rsync -t would
    assert file_digest(path, memo) != first


def test_recently_changed_files_are_not_memoised(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text("x\n")
    memo: dict[str, str] = {}
    file_digest(path, memo)
    assert memo == {}


def test_expand_resolves_against_the_root_and_globs(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    for name in ("b.csv", "a.csv", "c.txt"):
        (tmp_path / "data" / name).write_text(name)
    assert expand(tmp_path, "data/a.csv") == [tmp_path / "data" / "a.csv"]
    assert expand(tmp_path, "data/*.csv") == [
        tmp_path / "data" / "a.csv",
        tmp_path / "data" / "b.csv",
    ]
    assert expand(tmp_path, "data/missing.csv") == []


def test_paths_digest_depends_on_names_and_contents(tmp_path: Path) -> None:
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("1")
    b.write_text("2")
    both = paths_digest([a, b])
    assert paths_digest([b, a]) == both
    assert paths_digest([a]) == file_digest(a)
    b.write_text("3")
    assert paths_digest([a, b]) != both
