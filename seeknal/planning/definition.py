"""A node's definition as a manifest holds it, written back as YAML, and the unified diff of two
such definitions (what `seeknal diff` shows above a node's data diff). Pure.

The text is rebuilt from the manifest entry, not read from the node file, so both sides are
what production ran and what the env planned, with `{{ }}` placeholders rendered, in one layout:
identity and metadata first, then the fields that decide the output, in the manifest's order.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Mapping
from typing import Any

HEAD_FIELDS = ("description", "owner", "tags", "key")
MAX_LINES = 400


def definition_text(entry: Mapping[str, Any] | None) -> str:
    """The YAML of one manifest node entry; empty for a node that is not there."""
    if not entry:
        return ""
    import yaml

    data: dict[str, Any] = {"kind": entry.get("type"), "name": entry.get("name")}
    for field in HEAD_FIELDS:
        if entry.get(field) not in (None, "", [], {}):
            data[field] = entry[field]
    data.update(entry.get("config") or {})
    python = entry.get("python") or {}
    if python.get("code"):  # a Python node: its dependencies and code decide its output
        data["python_dependencies"] = python.get("dependencies") or []
        data["python"] = python["code"]
    if entry.get("columns"):
        data["columns"] = entry["columns"]
    text: str = yaml.dump(data, Dumper=_dumper(), sort_keys=False, allow_unicode=True, width=100)
    return text


def definition_diff(
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    node_id: str,
    names: tuple[str, str] = ("production", "env"),
) -> str:
    """Unified diff, `before` → `after`, named `<names[0]>/<node id>` and `<names[1]>/...`;
    empty when both read the same. Capped at 400 lines; the last line then says how many more."""
    old, new = definition_text(before), definition_text(after)
    if old == new:
        return ""
    lines = list(
        difflib.unified_diff(
            old.splitlines(),
            new.splitlines(),
            fromfile=f"{names[0]}/{node_id}" if before else "/dev/null",
            tofile=f"{names[1]}/{node_id}" if after else "/dev/null",
            lineterm="",
            n=3,
        )
    )
    if len(lines) > MAX_LINES:
        lines = lines[:MAX_LINES] + [f"... {len(lines) - MAX_LINES} more diff lines"]
    return "\n".join(lines)


@functools.cache
def _dumper() -> Any:
    import yaml

    class BlockDumper(yaml.SafeDumper):
        """Multi-line text (SQL) as a `|` block, as node files write it."""

    def text(dumper: Any, value: str) -> Any:
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    BlockDumper.add_representer(str, text)
    return BlockDumper
