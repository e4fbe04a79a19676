"""Shell completion values: env names, node ids and selectors.

Runs on every TAB, so it reads folder names and the first lines of node files with plain text
matching: no YAML parser, no project loading, no engine.
"""

from __future__ import annotations

import re
from pathlib import Path

PROJECT_FILE = "seeknal_project.yml"
SELECTOR_PREFIXES = ("kind:", "tag:", "path:")
_KIND = re.compile(r"^kind:\s*['\"]?([\w-]+)", re.M)
_NAME = re.compile(r"^name:\s*['\"]?([\w.-]+)", re.M)
_TAGS = re.compile(r"^tags:\s*\[([^\]]*)\]", re.M)


def _root() -> Path | None:
    here = Path.cwd()
    for folder in (here, *here.parents):
        if (folder / PROJECT_FILE).is_file():
            return folder
    return None


def env_names(incomplete: str) -> list[str]:
    """Folders under target/environments/ whose name starts with `incomplete`."""
    root = _root()
    folder = root / "target" / "environments" if root else None
    if folder is None or not folder.is_dir():
        return []
    names = (c.name for c in folder.iterdir() if c.is_dir() and not c.name.startswith("."))
    return sorted(n for n in names if n.startswith(incomplete))


def _nodes(root: Path) -> list[tuple[str, str, list[str]]]:
    """(node id, file path relative to the root, tags) of each node file under seeknal/."""
    found = []
    for path in sorted((root / "seeknal").rglob("*.y*ml")):
        try:
            text = path.read_text(encoding="utf-8", errors="replace")[:8000]
        except OSError:
            continue
        kind, name = _KIND.search(text), _NAME.search(text)
        if not (kind and name):
            continue
        tags: list[str] = []
        inline = _TAGS.search(text)
        if inline:
            tags = [t.strip(" '\"") for t in inline.group(1).split(",") if t.strip(" '\"")]
        found.append((f"{kind.group(1)}.{name.group(1)}", path.relative_to(root).as_posix(), tags))
    return found


def selectors(incomplete: str) -> list[str]:
    """Node ids (also as `+id`), and `kind:`, `tag:`, `path:` with their values; after a comma
    the last selector of the union is completed."""
    root = _root()
    if root is None:
        return []
    head, _, last = incomplete.rpartition(",")
    head = head + "," if head else ""
    plus = "+" if last.startswith("+") else ""
    word = last[len(plus) :]
    nodes = _nodes(root)
    candidates = [node_id for node_id, _, _ in nodes]
    candidates += [f"kind:{k}" for k in sorted({n.split(".", 1)[0] for n, _, _ in nodes})]
    candidates += [f"tag:{t}" for t in sorted({t for _, _, tags in nodes for t in tags})]
    folders = {str(Path(p).parent) for _, p, _ in nodes}
    candidates += [f"path:{f}" for f in sorted(folders)]
    if not word:
        candidates = list(SELECTOR_PREFIXES) + candidates
    return [f"{head}{plus}{c}" for c in candidates if c.startswith(word)]
