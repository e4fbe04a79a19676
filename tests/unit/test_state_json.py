"""Large state files are read and written by orjson, small ones and what orjson refuses by
`json`: the same values either way, and the same errors (state/atomic.py)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from seeknal.errors import StateError
from seeknal.state import atomic
from seeknal.state.records import NodeState, RunState


def big_state(count: int = 600) -> dict:
    nodes = {
        f"transform.tëst_{i}": NodeState(
            hash=f"h{i}", status="success", duration_ms=1.5, row_count=i, warnings=("ünïcode",)
        )
        for i in range(count)
    }
    return RunState.production("r1", "2026-01-01T00:00:00Z", nodes).to_json()


def test_a_large_plain_record_round_trips_as_json_writes_it(tmp_path: Path) -> None:
    value = big_state()
    data = atomic.dump_json(value, plain=True)
    assert len(data) >= atomic.PRETTY_LIMIT
    assert json.loads(data) == value  # the same JSON document `json` reads
    assert data.endswith(b"\n") and b"\n" not in data[:-1]  # compact, sorted
    assert (
        data
        == (
            json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"
        ).encode()
    )
    path = tmp_path / "run_state.json"
    atomic.write_json(path, value, plain=True)
    assert atomic.read_json(path, "Run state", "hint") == value


def test_values_orjson_does_not_take_are_written_by_json() -> None:
    value = {"big": 2**70, "n": [1] * 40000}
    assert json.loads(atomic.dump_json(value, plain=True)) == json.loads(json.dumps(value))


def test_a_large_file_orjson_refuses_is_read_by_json(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text(json.dumps({"x": float("nan"), "pad": "y" * atomic.PRETTY_LIMIT}))
    assert math.isnan(atomic.read_json(path, "Run state", "hint")["x"])
    path.write_text('{"pad": "' + "y" * atomic.PRETTY_LIMIT + '", "cut')
    with pytest.raises(StateError, match=r"Run state .* is corrupt or truncated"):
        atomic.read_json(path, "Run state", "hint")
    path.write_bytes(b'{"pad": "' + b"\xff" * atomic.PRETTY_LIMIT + b'"}')
    with pytest.raises(StateError, match=r"is corrupt: it is not UTF-8 JSON \(byte 9\)"):
        atomic.read_json(path, "Run state", "hint")
    path.write_text(json.dumps(["not", "an", "object", "z" * atomic.PRETTY_LIMIT]))
    with pytest.raises(StateError, match="a JSON object was expected, not a list"):
        atomic.read_json(path, "Run state", "hint")
