"""state/manifest_scan.py: parts of a manifest read without parsing it, checked against a full
parse of manifests written the way seeknal writes them (sorted keys)."""

from __future__ import annotations

import json
from pathlib import Path

from seeknal.state import manifest_head
from seeknal.state.manifest_scan import entries_in, manifest_fingerprint_of


def manifest(nodes: int, edges: int, text: str = "x") -> dict:
    return {
        "edges": [{"from": f"a.n{i}", "to": f"a.n{i + 1}", "type": "ref"} for i in range(edges)],
        "fingerprint": "ab" * 32,
        "metadata": {"project": "p"},
        "nodes": {
            f"a.n{i:05d}": {"id": f"a.n{i:05d}", "fingerprint": f"{i:064x}", "sql": text * (50 * i)}
            for i in range(nodes)
        },
        "schema_version": "2.0",
    }


def write(path: Path, doc: dict) -> Path:
    # seeknal writes ASCII (escapes); raw UTF-8 is read the same way
    path.write_text(json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False), "utf-8")
    return path


def test_fingerprint_after_edges_longer_than_a_chunk(tmp_path: Path, monkeypatch) -> None:
    doc = manifest(3, 20_000)
    path = write(tmp_path / "m.json", doc)
    assert path.stat().st_size > manifest_head.CHUNK
    assert manifest_fingerprint_of(path) == doc["fingerprint"]
    # wherever a chunk ends, even inside the match
    at = path.read_bytes().find(b'"fingerprint"')
    for cut in range(at - 3, at + 90, 7):
        monkeypatch.setattr(manifest_head, "CHUNK", cut)
        assert manifest_fingerprint_of(path) == doc["fingerprint"], cut
    assert manifest_fingerprint_of(tmp_path / "missing.json") is None
    assert manifest_fingerprint_of(write(tmp_path / "none.json", {"nodes": {}})) is None


def test_entries_are_the_parsed_ones_whatever_their_size_and_characters(tmp_path: Path) -> None:
    doc = manifest(40, 5, text="é€𝄞 ")  # multi-byte characters cut by any window
    data = write(tmp_path / "m.json", doc).read_bytes()
    wanted = ["a.n00001", "a.n00017", "a.n00039"]  # the last one is larger than a window
    assert len(json.dumps(doc["nodes"]["a.n00039"], ensure_ascii=False).encode()) > 1 << 14
    assert entries_in(data, wanted) == {n: doc["nodes"][n] for n in wanted}
    assert entries_in(data, ["a.n00003", "a.n99999"]) is None  # not there
    assert entries_in(data[: len(data) // 2], ["a.n00039"]) is None  # cut short: no guess
    assert entries_in(b"{}", ["a.n00001"]) is None
