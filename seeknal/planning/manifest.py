"""The manifest: a JSON picture of the project with fingerprints (docs/concepts.md). Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from seeknal.planning.keys import key_columns
from seeknal.types import Project

if TYPE_CHECKING:  # promote rebuilds nodes from a manifest without the hashing modules
    from seeknal.planning.fingerprint import NodeFingerprint

MANIFEST_VERSION = "2.0"


def build_manifest(
    project: Project,
    fingerprints: Mapping[str, NodeFingerprint],
    seeknal_version: str,
    generated_at: str,
) -> dict[str, Any]:
    from seeknal.planning.fingerprint import manifest_fingerprint

    nodes: dict[str, Any] = {}
    edges: list[dict[str, str]] = []
    for node_id in project.order:
        node = project.nodes[node_id]
        fp = fingerprints[node_id]
        nodes[node_id] = {
            "id": node_id,
            "name": node.name,
            "type": str(node.kind),
            "description": node.meta.get("description"),
            "owner": node.meta.get("owner"),
            "tags": node.meta.get("tags") or [],
            "columns": node.meta.get("columns") or {},
            "config": node.config,
            "file_path": node.file_path,
            "inputs": list(node.inputs),
            "fingerprint": fp.fingerprint,
            "content_hash": fp.content,
            "metadata_hash": fp.metadata,
            "data_digest": fp.data_digest,
        }
        if node.sql is not None:
            nodes[node_id]["sql"] = node.sql
        if node.python is not None:
            nodes[node_id]["python"] = node.python.to_json()
        if "key" in node.meta:  # left out when not declared: older manifests stay as they were
            nodes[node_id]["key"] = key_columns(node.meta["key"])
        edges.extend({"from": up, "to": node_id, "type": "ref"} for up in node.inputs)
    return {
        "schema_version": MANIFEST_VERSION,
        "metadata": {
            "project": project.name,
            "seeknal_version": seeknal_version,
            "generated_at": generated_at,
        },
        "fingerprint": manifest_fingerprint(fingerprints),
        "nodes": nodes,
        "edges": edges,
    }


def project_from_manifest(manifest: dict[str, Any], root: str) -> Project:
    """Rebuild the nodes a plan snapshotted, to execute exactly what was planned."""
    from seeknal.kinds import spec_for
    from seeknal.types import Node, PythonCode

    nodes: dict[str, Node] = {}
    for node_id, entry in manifest.get("nodes", {}).items():
        meta = {
            k: entry.get(k)
            for k in ("description", "owner", "tags", "columns", "key")
            if entry.get(k) not in (None, [], {})
        }
        nodes[node_id] = Node(
            id=node_id,
            kind=spec_for(entry["type"]).kind,
            name=entry["name"],
            file_path=entry.get("file_path", ""),
            line=1,
            inputs=tuple(entry.get("inputs") or ()),
            config=entry.get("config") or {},
            meta=meta,
            sql=entry.get("sql"),
            python=PythonCode.from_json(entry["python"]) if entry.get("python") else None,
        )
    return Project(
        root=root,
        name=str(manifest.get("metadata", {}).get("project", "")),
        settings={},
        nodes=nodes,
        order=tuple(manifest.get("nodes", {})),
    )
