"""What node SQL may read and write in a run (docs/concepts.md, "What node SQL can reach").

The project's own folders (every top-level folder but target/, seeknal/ and hidden ones), the
outputs of the run (production's cache, the env's cache, each exposure's file) and the data files
sources declare; plus the folders `sql_sandbox: {allow: [...]}` adds. Never seeknal's state
files, the project file, node files, profiles or anything else on the machine.
`sql_sandbox: false` in seeknal_project.yml lifts every limit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from seeknal.digest import expand
from seeknal.kinds import spec_for
from seeknal.state.layout import TARGET, Target
from seeknal.types import FileAccess, Project

NOT_DATA = (TARGET, "seeknal")  # top-level folders node SQL never reaches
GLOB = "*?["


def sql_access(target: Target, project: Project, setting: Any) -> FileAccess | None:
    """What node SQL may reach when `target` runs `project`; None when the project opts out
    (`setting` is seeknal_project.yml's `sql_sandbox`, checked when the project loads)."""
    if setting is False:
        return None
    root = target.root
    production = Target(root)
    folders = [*_data_folders(root), production.cache_dir, target.cache_dir]
    if isinstance(setting, dict):
        folders += [target.absolute(str(extra)) for extra in setting.get("allow") or []]
    files: list[Path] = []
    for node in project.nodes.values():
        spec = spec_for(node.kind)
        table = spec.data_file(node)
        if table and any(ch in table for ch in GLOB):
            # DuckDB lists the folder to expand a glob: the folder, unless it holds the project
            folder = target.absolute(table).parent
            if _safe(folder.resolve(), root.resolve()):
                folders.append(folder)
        elif table:
            files += expand(root, table)
        if spec.output_file(node) is not None:
            files += [production.output(node).path, target.output(node).path]
    return FileAccess(tuple(dict.fromkeys(folders)), tuple(dict.fromkeys(files)))


def _data_folders(root: Path) -> list[Path]:
    real_root = root.resolve()
    return [
        child
        for child in sorted(root.iterdir())
        if child.is_dir()
        and not child.name.startswith(".")
        and child.name not in NOT_DATA
        and _safe(child.resolve(), real_root)
    ]


def _safe(real: Path, real_root: Path) -> bool:
    """Whether a folder may be opened to node SQL: never one holding the project (or being
    it), nor seeknal's state, node files or git's folder, even through a link."""
    if real == real_root or real in real_root.parents:
        return False
    for owned in (real_root / TARGET, real_root / "seeknal", real_root / ".git"):
        if real == owned or owned in real.parents or real in owned.parents:
            return False
    return True
