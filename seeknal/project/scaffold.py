"""Writing new projects: an empty skeleton or the shipped example."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from seeknal.errors import SeeknalError
from seeknal.project.files import PROJECT_FILE

EXAMPLE = Path(__file__).parent.parent / "examples" / "shop"
FOLDERS = ("sources", "transforms", "rules", "exposures", "profiles", "common")


@dataclass(frozen=True)
class Scaffolded:
    root: Path
    name: str
    files: list[str]


def scaffold(directory: Path, name: str | None = None, example: bool = False) -> Scaffolded:
    root = directory.resolve()
    if name is not None and not name.strip():
        raise SeeknalError("--name is empty.", "Give the project a name, or leave --name out.")
    if (root / PROJECT_FILE).exists():
        raise SeeknalError(
            f"{root / PROJECT_FILE} already exists; not overwriting a project.",
            "Choose an empty folder: seeknal init NEW_FOLDER",
        )
    if root.exists() and not root.is_dir():
        raise SeeknalError(f"{root} exists and is not a folder.", "Choose another path.")
    root.mkdir(parents=True, exist_ok=True)
    if example:
        created = _copy_example(root)
        if name:
            settings = root / PROJECT_FILE
            settings.write_text(
                re.sub(
                    r"^name: .*$",
                    lambda _m: f"name: {_scalar(name)}",
                    settings.read_text(),
                    count=1,
                    flags=re.M,
                )
            )
            return Scaffolded(root, name, created.files)
        return created
    project_name = name or re.sub(r"[^a-zA-Z0-9_-]+", "_", root.name) or "project"
    (root / PROJECT_FILE).write_text(
        f"name: {_scalar(project_name)}\n"
        "version: 1.0.0\n"
        "profile: default\n"
        "config-version: 1\n"
        "state_backend: file\n"
    )
    files = [PROJECT_FILE]
    for folder in FOLDERS:
        (root / "seeknal" / folder).mkdir(parents=True, exist_ok=True)
        keep = root / "seeknal" / folder / ".gitkeep"
        keep.touch()
        files.append(f"seeknal/{folder}/.gitkeep")
    # tracked by git (an empty folder is not), so a clone has the folder sources read from
    (root / "data").mkdir(exist_ok=True)
    (root / "data" / ".gitkeep").touch()
    files.append("data/.gitkeep")
    # exposures write exports/ (production's files, replaced by every promotion): not sources
    _ensure_gitignore(root, ("target/", "exports/"))
    files.append(".gitignore")
    return Scaffolded(root, project_name, files)


def _scalar(text: str) -> str:
    """`text` as a YAML value that reads back as exactly that string (quoted unless plain)."""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", text):
        return text
    import json

    return json.dumps(text)  # a JSON string is a double-quoted YAML scalar


def _copy_example(root: Path) -> Scaffolded:
    files: list[str] = []
    sources = [
        (src, src.relative_to(EXAMPLE))
        for src in sorted(EXAMPLE.rglob("*"))
        if src.is_file()
        and "target" not in src.relative_to(EXAMPLE).parts
        and "__pycache__" not in src.relative_to(EXAMPLE).parts
    ]
    clashes = [rel.as_posix() for _src, rel in sources if (root / rel).exists()]
    if clashes:  # checked before the first file is written: never half an example
        more = f" (and {len(clashes) - 1} more)" if len(clashes) > 1 else ""
        raise SeeknalError(
            f"{root / clashes[0]} already exists{more}; the example project needs an empty "
            "folder. Nothing was written.",
            "Choose an empty folder: seeknal init --example NEW_FOLDER",
        )
    for src, rel in sources:
        dest = root / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
        files.append(rel.as_posix())
    _ensure_gitignore(root)
    return Scaffolded(root, "shop", files)


def _ensure_gitignore(root: Path, names: tuple[str, ...] = ("target/",)) -> None:
    path = root / ".gitignore"
    text = path.read_text() if path.exists() else ""
    for name in names:
        if name not in text.split():
            text += ("" if not text or text.endswith("\n") else "\n") + f"{name}\n"
    path.write_text(text)
