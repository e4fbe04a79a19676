"""Retention of rollback history (`history:` in seeknal_project.yml): which entries are dropped."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from seeknal.project.retention import Retention, retention, retention_problems
from seeknal.state.kept import discard, expired, history_dir

NOW = dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC)


def entries(base: Path, ages_days: dict[str, float]) -> None:
    for name, age in ages_days.items():
        folder = history_dir(base) / name
        (folder / "files").mkdir(parents=True)
        (folder / "files" / "0-x.parquet").write_bytes(b"x" * 10)
        time = (NOW - dt.timedelta(days=age)).isoformat().replace("+00:00", "Z")
        (folder / "entry.json").write_text(json.dumps({"id": name, "time": time, "ops": []}))


def names(paths: list[Path]) -> list[str]:
    return sorted(p.name for p in paths)


def test_keep_count_and_days_both_apply(tmp_path: Path) -> None:
    entries(tmp_path, {"a": 0.1, "b": 1, "c": 2, "d": 9})
    assert names(expired(tmp_path, Retention(keep=2, days=7), NOW)) == ["c", "d"]
    assert names(expired(tmp_path, Retention(keep=10, days=7), NOW)) == ["d"]
    assert names(expired(tmp_path, Retention(keep=10, days=1.5), NOW)) == ["c", "d"]
    assert names(expired(tmp_path, Retention(keep=0, days=30), NOW)) == ["a", "b", "c", "d"]


def test_a_folder_without_its_entry_is_dropped(tmp_path: Path) -> None:
    entries(tmp_path, {"a": 0.1})
    (history_dir(tmp_path) / "half").mkdir()
    assert names(expired(tmp_path, Retention(), NOW)) == ["half"]


def test_discard_moves_to_the_trash(tmp_path: Path) -> None:
    entries(tmp_path, {"a": 20})
    discard(tmp_path, expired(tmp_path, Retention(), NOW))
    assert not (history_dir(tmp_path) / "a").exists()
    assert (tmp_path / ".trash" / "history-a" / "files" / "0-x.parquet").is_file()


def test_no_history_folder(tmp_path: Path) -> None:
    assert expired(tmp_path, Retention(), NOW) == []


@pytest.mark.parametrize(
    ("value", "problems", "result"),
    [
        (None, [], Retention()),
        ({"keep": 3}, [], Retention(3, 7.0)),
        ({"days": 0.5, "keep": 0}, [], Retention(0, 0.5)),
        (
            {"keep": True},
            ["history.keep must be a whole number of promotions, 0 or more, not True"],
            Retention(),
        ),
        ({"days": -1}, ["history.days must be a number of days, 0 or more, not -1"], Retention()),
        ("5", ["'history' must be a mapping, e.g. {keep: 5, days: 7}"], Retention()),
    ],
)
def test_setting(value: object, problems: list[str], result: Retention) -> None:
    assert retention_problems(value) == problems
    assert retention({"history": value}) == result
