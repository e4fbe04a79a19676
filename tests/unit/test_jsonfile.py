"""The hook path's JSON reading/writing (seeknal/jsonfile.py) and manifest fingerprint reading
(seeknal/state/manifest_head.py) give exactly what `json` and a regular expression give."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from seeknal import jsonfile
from seeknal.state import manifest_head

DOCUMENTS = [
    '{"a": 1, "b": [1.5, null, true, false, "x\\u00e9\\n"], "c": {"d": -0.0, "e": 1e400}}',
    " [1,2]\n",
    '"s"',
    "12",
    "NaN",
    '{"a":"\\ud800"}',
    '{"env": "dev", "nodes": {"x": {"status": "success"}}}',
]
BROKEN = ['{"a":1} x', "", "   ", '{"a": 1,}', "{'a': 1}", '{"a": 1', "nul", "\x0c1"]


@pytest.mark.parametrize("text", DOCUMENTS)
def test_loads_as_json_does(text: str) -> None:
    assert repr(jsonfile.loads(text)) == repr(json.loads(text))


@pytest.mark.parametrize("text", BROKEN)
def test_refuses_what_json_refuses(text: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        json.loads(text)
    with pytest.raises(ValueError):
        jsonfile.loads(text)
    (tmp_path / "f.json").write_text(text)
    assert jsonfile.read(str(tmp_path / "f.json")) is None
    assert jsonfile.read(str(tmp_path / "missing.json")) is None


@pytest.mark.parametrize(
    "value",
    [
        {"b": 1, "a": [1, 2.5, None, True, 'é\n"x'], "c": {"z": {}, "y": []}},
        {"x": float("nan"), "y": float("inf"), "z": float("-inf")},
        [1e20, 1e-7, 10**30, -3, False, (1, "t")],
        {".": {"env": None, "branch": "feature/x", "at": "2026-12-03T10:00:00Z"}},
    ],
)
def test_dumps_as_json_does_with_sorted_keys(value: object) -> None:
    assert jsonfile.dumps(value) == json.dumps(value, sort_keys=True)


def test_dumps_refuses_what_it_cannot_write() -> None:
    with pytest.raises(TypeError):
        jsonfile.dumps({1: "a"})
    with pytest.raises(TypeError):
        jsonfile.dumps({"a": object()})


def test_manifest_fingerprint_found_as_the_regular_expression_finds_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Random byte soups made of near misses, read in chunks of 1-8 bytes (a match cut at any
    point): the first `"fingerprint": "<hex>"`, as re.search finds it."""
    pattern = re.compile(rb'"fingerprint":\s*"([0-9a-f]+)"')
    pieces = [b'"fingerprint":', b" ", b"\n", b'"', b"ab12", b"x", b": null", b'{"a": 1}', b"f"]
    rng = random.Random(7)
    path = tmp_path / "manifest.json"
    for _ in range(3000):
        data = b"".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        monkeypatch.setattr(manifest_head, "CHUNK", rng.randint(1, 8))
        path.write_bytes(data)
        match = pattern.search(data)
        expected = match.group(1).decode() if match else None
        assert manifest_head.manifest_fingerprint_of(path) == expected, data
    assert manifest_head.manifest_fingerprint_of(tmp_path / "missing.json") is None
