"""`warehouse:` in the profile: the folder the project's target/ lives in, on storage every
Spark worker reaches (a local or mounted path, or a file:// URI). target/ becomes a link to it,
so state, outputs, envs and promote's journal stay together on one file system: a promotion
still renames within it and is all-or-nothing exactly as without a warehouse (docs/spark.md).
Object stores (s3a://, gs://, abfs://) cannot rename atomically and are refused here; how
they would be served is designed in docs/spark.md.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from seeknal.errors import StateError
from seeknal.state.layout import TOOL_CACHE


def warehouse_folder(root: Path, location: str) -> Path:
    """The folder a `warehouse:` value names: a path (relative to the project) or file://."""
    if "://" in location:
        scheme, rest = location.split("://", 1)
        if scheme != "file":
            raise StateError(
                f"warehouse: {location}: seeknal keeps outputs on a file system it can rename "
                f"in (a local or mounted path, or a file:// URI); {scheme}:// is not supported.",
                "Use a path every Spark worker mounts, or leave warehouse: out (see "
                "docs/spark.md, section Warehouse).",
            )
        location = rest
    folder = Path(location).expanduser()
    return Path(os.path.abspath(folder if folder.is_absolute() else root / folder))


def link_target(root: Path, base: Path, location: str) -> Path:
    """Make `base` (target/) a link to the warehouse folder; the folder."""
    folder = warehouse_folder(root, location)
    if base.is_symlink():
        if os.path.realpath(base) != os.path.realpath(folder):
            raise StateError(
                f"target/ links to {os.readlink(base)}, but the profile's warehouse is {folder}.",
                f"Move the outputs to the new warehouse and relink target/: mv "
                f"{os.readlink(base)} {folder} && ln -sfn {folder} {base}",
            )
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    if base.exists():
        kept = [c.name for c in base.iterdir() if c.name != TOOL_CACHE]
        if kept:
            raise StateError(
                f"The profile keeps outputs in the warehouse {folder}, but target/ already "
                "holds this project's state and outputs.",
                f"Move them there once: mv {base} {folder} && ln -s {folder} {base} (or "
                "delete target/; 'seeknal run' rebuilds it).",
            )
        shutil.rmtree(base)  # only the tool cache, which is rebuilt on demand
    folder.mkdir(parents=True, exist_ok=True)
    os.symlink(folder, base, target_is_directory=True)
    ignore_link(base)
    return folder


def ignore_link(base: Path) -> None:
    """Keep git from committing the link: `target/` in a .gitignore matches folders only, and
    to git a link is a file. The link is named in the repository's own exclude file
    (.git/info/exclude): it belongs to this clone only, as the link does."""
    from seeknal.git.dotgit import find_git

    dirs = find_git(base.parent)
    if dirs is None:
        return
    link = Path(os.path.realpath(base.parent)) / base.name
    try:
        rel = link.relative_to(os.path.realpath(dirs.worktree)).as_posix()
    except ValueError:
        return
    pattern = "/" + "".join("\\" + ch if ch in "\\[]*?!# " else ch for ch in rel)
    exclude = dirs.common / "info" / "exclude"
    text = exclude.read_text(encoding="utf-8") if exclude.is_file() else ""
    if pattern in text.splitlines():
        return
    exclude.parent.mkdir(parents=True, exist_ok=True)
    note = "# seeknal: target is a link into the profile's warehouse (docs/spark.md)\n"
    with exclude.open("a", encoding="utf-8") as handle:
        handle.write(("" if not text or text.endswith("\n") else "\n") + note + pattern + "\n")
