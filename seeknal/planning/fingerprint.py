"""Deterministic node and manifest fingerprints (docs/concepts.md)."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

from seeknal.kinds import spec_for
from seeknal.project import placeholders, python_code
from seeknal.sql import compare as sqlmod
from seeknal.types import Node, Project


@dataclass(frozen=True)
class NodeFingerprint:
    """`content` covers the node alone; `fingerprint` adds its upstream; `metadata` is apart."""

    content: str
    fingerprint: str
    metadata: str
    data_digest: str | None = None


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def _hash(*parts: str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()


def execution_content(node: Node, sql_cache: MutableMapping[str, Any] | None = None) -> dict:
    """What decides the node's output, with SQL in canonical form."""
    config = spec_for(node.kind).execution_config(
        node, lambda sql: sqlmod.normalize(sql, sql_cache)
    )
    content: dict[str, Any] = {"kind": str(node.kind), "config": config}
    if node.python is not None:
        # the code as its syntax tree: comments, docstrings and layout are metadata
        content["python"] = {
            "code": python_code.normalized_code(node.python.code, node.python.function),
            "dependencies": sorted(node.python.dependencies),
            "requires_python": node.python.requires_python,
        }
    names = placeholders.env_names([node.config, node.sql or ""])
    if names:
        # the values decide the output, but only their digest may be stored
        values = canonical({n: os.environ.get(n) for n in sorted(names)})
        content["env"] = hashlib.sha256(values.encode()).hexdigest()
    return content


def fingerprint_project(
    project: Project,
    data_digests: Mapping[str, str],
    sql_cache: MutableMapping[str, Any] | None = None,
) -> dict[str, NodeFingerprint]:
    result: dict[str, NodeFingerprint] = {}
    for node_id in project.order:
        node = project.nodes[node_id]
        digest = data_digests.get(node_id)
        content, metadata = _own_hashes(node, project.node_keys.get(node_id), digest, sql_cache)
        upstream = [f"{up}={result[up].fingerprint}" for up in node.inputs]
        result[node_id] = NodeFingerprint(
            content=content,
            fingerprint=_hash(content, *upstream),
            metadata=metadata,
            data_digest=digest,
        )
    return result


def _own_hashes(
    node: Node, key: str | None, digest: str | None, memo: MutableMapping[str, Any] | None
) -> tuple[str, str]:
    """The node's content and metadata hashes. A node its file alone decides (`key`: no
    placeholder, so no environment variable either) has them remembered in the tool cache by
    that key and its data digest: 64 bytes instead of hashing its canonical JSON again."""
    if key is None or memo is None:
        return _hash(canonical(execution_content(node, memo)), digest or ""), metadata_hash(node)
    remembered = f"fp:{key}:{digest or ''}"
    found = memo.get(remembered)
    if isinstance(found, bytes) and len(found) == 64:
        return found[:32].hex(), found[32:].hex()
    content = _hash(canonical(execution_content(node, memo)), digest or "")
    metadata = metadata_hash(node)
    memo[remembered] = bytes.fromhex(content + metadata)
    return content, metadata


def metadata_hash(node: Node) -> str:
    """What only describes the node; for a Python node also its text, comments included."""
    if node.python is None:
        return _hash(canonical(node.meta))
    own = python_code.own_text(node.python.code, node.python.function)
    return _hash(canonical(node.meta), own)


def manifest_fingerprint(fingerprints: Mapping[str, NodeFingerprint]) -> str:
    return entries_fingerprint(
        {nid: (fp.fingerprint, fp.metadata) for nid, fp in fingerprints.items()}
    )


def entries_fingerprint(entries: Mapping[str, tuple[str, str]]) -> str:
    """Manifest fingerprint from (fingerprint, metadata hash) per node id."""
    return _hash(*(f"{nid}={fp}/{meta}" for nid, (fp, meta) in sorted(entries.items())))
