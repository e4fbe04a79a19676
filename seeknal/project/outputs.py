"""Files a node writes outside seeknal's cache (an exposure's `params.path`): where they may go.

Checked when the project loads, so that no run writes onto seeknal's own files, a node file, a
source's data or anything outside the project (docs/concepts.md, "Exposures"); and again before
seeknal deletes the file of a removed node, so that it never deletes a file it would not write.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from seeknal.errors import Problem
from seeknal.kinds import spec_for
from seeknal.kinds.feature_store import CATALOG_FILE, FEATURES_FILE
from seeknal.types import Node

# what an env's folder holds: an env writes its copy of `<path>` to target/environments/<env>/<path>
ENV_OWNED = frozenset(
    {"plan.json", "env_config.json", "manifest.json", "refs.json", "run_state.json", "cache"}
)
PROJECT_FILE = "seeknal_project.yml"


def data_files(nodes: Mapping[str, Node]) -> dict[str, str]:
    """Each source's data file (as written, globs included) → the id of the node reading it."""
    found: dict[str, str] = {}
    for node in nodes.values():
        table = spec_for(node.kind).data_file(node)
        if table:
            found.setdefault(table, node.id)
    return found


def write_problem(root: Path, rel: str, data: Mapping[str, str]) -> str | None:
    """Why a node may not write the file `rel` (relative to the project root), or None.

    `data` is `data_files(...)` of the project."""
    path = PurePosixPath(rel.replace(os.sep, "/"))
    if path.is_absolute():
        return (
            "is an absolute path; write a path relative to the project root "
            "(e.g. exports/name.csv): outputs stay inside the project"
        )
    if ".." in path.parts:
        return "is outside the project; a path must stay inside the project (no '..')"
    problem = _reserved(path.parts)
    if problem:
        return problem
    real_root = root.resolve()
    real = (root / rel).resolve()
    try:
        inside = PurePosixPath(real.relative_to(real_root).as_posix())
    except ValueError:
        return f"leads out of the project through a symbolic link (to {real})"
    if inside.parts != path.parts:
        problem = _reserved(inside.parts)
        if problem:
            return f"leads to {inside} through a symbolic link, and {inside} {problem}"
    for table, node_id in data.items():
        if _is_data(root, table, (path.as_posix(), inside.as_posix()), real):
            return f"is the data file of {node_id} ({table})"
    return None


def may_delete(root: Path, rel: str, data: Mapping[str, str]) -> bool:
    """Whether seeknal may delete `rel`, the recorded output of a node that no longer exists:
    its cache outputs, and files a node is allowed to write (never a source's data, a node
    file, seeknal's state or anything outside the project)."""
    parts = PurePosixPath(rel.replace(os.sep, "/")).parts
    if parts[:2] == ("target", "cache") and ".." not in parts:
        return True
    return write_problem(root, rel, data) is None


def output_problems(
    root: Path, nodes: Mapping[str, Node], texts: Mapping[str, str]
) -> list[Problem]:
    """A problem for every node file write that `write_problem` refuses, and for two nodes
    writing the same file (both files named)."""
    data = data_files(nodes)
    problems: list[Problem] = []
    writers: dict[Path, Node] = {}
    for node in nodes.values():
        spec = spec_for(node.kind)
        rel = spec.output_file(node)
        if not rel or not spec.executable(node):
            continue  # no path at all is the kind's own problem
        text = texts.get(node.file_path, "")
        line = _line(text, rel)
        problem = write_problem(root, rel, data) or _folder_there(root, rel, node)
        if problem:
            problems.append(Problem(node.file_path, f"params.path {rel} {problem}", line))
            continue
        real = (root / rel).resolve()
        other = writers.setdefault(real, node)
        if other is not node:
            problems.append(
                Problem(
                    node.file_path,
                    f"params.path {rel} is also written by {other.id} ({other.file_path}); "
                    "give each exposure a file of its own",
                    line,
                )
            )
    return problems


def _folder_there(root: Path, rel: str, node: Node) -> str | None:
    """An exposure writes one file: a folder of the user's at its path would be swept away
    (into rollback history, then deleted) by a promotion, so it is refused at load."""
    path = root / rel
    if node.kind != "exposure" or path.is_symlink() or not path.is_dir():
        return None
    return (
        "is a folder; the exposure writes a file there, and would replace the folder and what "
        "it holds: move the folder away or choose another path"
    )


CONSOLIDATED = (FEATURES_FILE, CATALOG_FILE)


def _reserved(parts: tuple[str, ...]) -> str | None:
    """What seeknal or git own at this path, which no node may write."""
    if not parts:
        return "is the project folder itself"
    head = parts[0]
    if head == "target":
        if len(parts) == 4 and parts[1] == "feature_store" and parts[3] in CONSOLIDATED:
            return "is an entity's consolidated feature store file, which seeknal writes"
        if len(parts) > 2 and parts[1] in ("exports", "feature_store"):
            return None
        return (
            "is inside target/, seeknal's own state folder; write exports to exports/ or "
            "target/exports/"
        )
    if head == "seeknal":
        return "is inside seeknal/, the folder of node files"
    if head == ".git":
        return "is inside .git/, git's own folder"
    if parts == (PROJECT_FILE,):
        return f"is {PROJECT_FILE}, the project file"
    if head in ENV_OWNED:
        return (
            f"would overwrite an environment's {head} (an env writes exports under "
            "target/environments/<env>/); choose another name"
        )
    return None


def _is_data(root: Path, table: str, rels: tuple[str, ...], real: Path) -> bool:
    pattern = PurePosixPath(table.replace(os.sep, "/")).as_posix()
    if any(ch in table for ch in "*?["):
        return any(fnmatch.fnmatchcase(rel, pattern) for rel in rels) or (
            fnmatch.fnmatchcase(str(real), str((root / table).resolve().parent / Path(table).name))
        )
    return pattern in rels or (root / table).resolve() == real


def _line(text: str, needle: str) -> int | None:
    pos = text.find(needle)
    return text.count("\n", 0, pos) + 1 if pos >= 0 else None
