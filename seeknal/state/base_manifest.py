"""Production's manifest as `plan ENV` compares a project with it, without parsing all of it on
every plan.

A plan needs every production node's content and metadata hashes (to find what changed), the
full entries of the nodes that changed or were removed (reasons, SQL diffs, the plan's base
snapshot) and the manifest's fingerprint. At 10,000 nodes the manifest is 10 MB of JSON. The
hashes are kept in the tool cache under the manifest file's stats (path, size, times, inode:
seeknal replaces the file on every write), and the full entries are read with
`read_manifest_nodes`, which parses only them. A manifest changed within `RACY_SECONDS` is not
remembered: a stat may not move on a second change within one clock tick.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, MutableMapping
from typing import Any

from seeknal.digest import RACY_SECONDS
from seeknal.state.layout import Target
from seeknal.state.records import Manifest
from seeknal.state.store import read_manifest, read_manifest_nodes

HASH_HEX = 64  # sha256 hex digests: content and metadata hashes


def read_base_manifest(
    target: Target, memo: MutableMapping[str, Any], current: Mapping[str, tuple[str, str]]
) -> Manifest:
    """The manifest of `target` (empty when it has none) with full entries for the nodes whose
    (content hash, metadata hash) is not the one in `current`, node id -> hashes, and for the
    others an entry holding only those two hashes; the whole manifest when it is not
    remembered yet. A damaged manifest raises StateError as read_manifest does."""
    path = target.manifest_path
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return Manifest()
    key = f"base-manifest:{path}"
    stats = f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}"
    remembered = memo.get(key)
    if isinstance(remembered, tuple) and remembered[0] == stats:
        found = _from_index(target, remembered[1], remembered[2], remembered[3], current)
        if found is not None:
            return found
    manifest = read_manifest(target) or Manifest()
    index = _index_of(manifest)
    changed = max(st.st_mtime_ns, st.st_ctime_ns) / 1e9
    if index is not None and time.time() - changed > RACY_SECONDS:
        memo[key] = (stats, manifest.fingerprint, *index)
    return manifest


def _index_of(manifest: Manifest) -> tuple[str, bytes] | None:
    """Node ids (one per line) and their hashes (32 + 32 bytes each, in that order), or None
    when an entry has no such hashes."""
    ids, hashes = [], []
    for node_id, entry in manifest.nodes.items():
        content, metadata = entry.get("content_hash"), entry.get("metadata_hash")
        if "\n" in node_id or not (_is_hash(content) and _is_hash(metadata)):
            return None
        ids.append(node_id)
        hashes.append(f"{content}{metadata}")
    return "\n".join(ids), bytes.fromhex("".join(hashes))


def _is_hash(value: Any) -> bool:
    return isinstance(value, str) and len(value) == HASH_HEX and value == value.lower()


def _from_index(
    target: Target,
    fingerprint: str | None,
    ids: str,
    hashes: bytes,
    current: Mapping[str, tuple[str, str]],
) -> Manifest | None:
    nodes: dict[str, dict[str, Any]] = {}
    wanted = []
    size = HASH_HEX  # bytes per node: two 32-byte digests
    for i, node_id in enumerate(ids.split("\n") if ids else []):
        both = hashes[i * size : (i + 1) * size].hex()
        pair = (both[:HASH_HEX], both[HASH_HEX:])
        if current.get(node_id) == pair:
            nodes[node_id] = {"content_hash": pair[0], "metadata_hash": pair[1]}
        else:
            wanted.append(node_id)
    if wanted:
        full = read_manifest_nodes(target, wanted)
        if full is None or set(full.nodes) != set(wanted):
            return None
        nodes.update(full.nodes)
    return Manifest(nodes, fingerprint)
