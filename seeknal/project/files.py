"""Where project files come from: a folder on disk, or (for git) a tree of objects.

The loader reads through this small interface so that the same code plans a working tree and a
commit that is not checked out.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, MutableMapping
from pathlib import Path
from typing import Any, Protocol

PROJECT_FILE = "seeknal_project.yml"


def find_root(start: Path) -> Path:
    """Walk up from `start` to the folder holding seeknal_project.yml."""
    from seeknal.errors import SeeknalError

    here = start.resolve()
    for folder in (here, *here.parents):
        if (folder / PROJECT_FILE).is_file():
            return folder
    raise SeeknalError(
        f"No seeknal project found in {here} or any parent folder ({PROJECT_FILE} is missing).",
        "Run 'seeknal init' to create one, or pass --project-path.",
    )


def project_signature(root: str, racy_after: float) -> tuple[str, list[str]]:
    """The signature of every file a project's fingerprint reads (DiskFiles.signature);
    `promote` has a forked copy take it ahead (cli/promote_ahead.py)."""
    return DiskFiles(Path(root)).signature("seeknal", [PROJECT_FILE], racy_after)


_LOADER: Any = None


def parse_yaml(text: str) -> Any:
    """YAML with the C safe loader when available (yaml is imported on first use). A key
    given twice in one mapping is an error (`yaml.constructor.ConstructorError` naming the
    key and both lines), not silently the last value."""
    import yaml

    return yaml.load(text, Loader=_LOADER or _unique_key_loader())  # noqa: S506 - safe loader


def _unique_key_loader() -> Any:
    global _LOADER
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class UniqueKeyLoader(base):  # type: ignore[misc, valid-type]
        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            pairs = len(node.value)  # before merge keys (`<<`) are flattened into it
            mapping = super().construct_mapping(node, deep=deep)
            if len(mapping) < pairs:  # fewer keys than pairs: a key repeats, or a merge
                _refuse_duplicates(node)
            return mapping

    _LOADER = UniqueKeyLoader
    return _LOADER


def _refuse_duplicates(node: Any) -> None:
    """Raise for the first key written twice in the mapping `node` itself (keys a `<<` merge
    brings from elsewhere lie outside its text, and may be overridden)."""
    from yaml.constructor import ConstructorError

    start, end = node.start_mark.index, node.end_mark.index
    seen: dict[Any, Any] = {}
    for key_node, _value in node.value:
        mark = key_node.start_mark
        if not (start <= mark.index < end) or not isinstance(key_node.value, str):
            continue  # merged from elsewhere, or a key that is itself a list or mapping
        key = (key_node.tag, key_node.value)
        if key in seen:
            raise ConstructorError(
                None,
                None,
                f"key '{key_node.value}' appears twice in one mapping (lines "
                f"{seen[key].line + 1} and {mark.line + 1}); YAML would keep only the last "
                "value: remove or rename one",
                mark,
            )
        seen[key] = mark


def error_line(text: str, mark: Any) -> int | None:
    """The 1-based line of a YAML error's mark in `text`. An error at the very end of the text
    (an unclosed `[` or quote on the last line) is put on the last line that has something,
    not on the empty line after it."""
    if mark is None:
        return None
    line = int(mark.line) + 1
    if not text[mark.index :].strip():
        body = text.rstrip()
        line = min(line, body.count("\n") + 1) if body else 1
    return line


_DOCUMENT_START = re.compile(r"^---[ \t]*(#.*)?$", re.MULTILINE)


def split_documents(text: str) -> list[str]:
    """The documents of a YAML text with several (separated by `---` lines), each padded with
    empty lines so that a line number in it is the line of the file."""
    starts = [m.start() for m in _DOCUMENT_START.finditer(text)]
    bounds = [0, *starts, len(text)]
    found = []
    for begin, end in zip(bounds, bounds[1:], strict=False):
        part = text[begin:end]
        if part.strip() and part.strip() != "---":
            found.append("\n" * text.count("\n", 0, begin) + part)
    return found


class ProjectFiles(Protocol):
    """Read-only access to a project's files by root-relative POSIX path."""

    def list_files(self, folder: str) -> list[str]:
        """Every file below `folder` (relative POSIX paths, sorted); symbolic links left out."""
        ...

    def links(self, folder: str) -> list[tuple[str, str]]:
        """(path, target) of every symbolic link below `folder`, which is never followed."""
        ...

    def read(self, path: str) -> bytes | None:
        """The file's bytes, or None when it does not exist."""
        ...

    def data_digest(self, table: str, memo: MutableMapping[str, Any]) -> str | None:
        """Content digest of the data file(s) a source `table:` names; None when missing."""
        ...


class DiskFiles:
    """Project files in a folder on disk."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._base = str(root)
        self._walked: dict[str, list[tuple[str, bool]]] = {}

    def list_files(self, folder: str) -> list[str]:
        return [rel for rel, link in self._walk(folder) if not link]

    def links(self, folder: str) -> list[tuple[str, str]]:
        return [(rel, os.readlink(self.root / rel)) for rel, link in self._walk(folder) if link]

    def _walk(self, folder: str) -> list[tuple[str, bool]]:
        """(path, is a link) of the files below `folder`, and of links to folders (never
        entered); hidden folders left out. One scan per folder: the loader asks for the links
        and then the files, and a scan of 10,000 files costs tens of milliseconds."""
        if folder not in self._walked:
            found: list[tuple[str, bool]] = []
            self._scan(os.path.join(self._base, folder), folder, found)
            self._walked[folder] = sorted(found)
        return self._walked[folder]

    def _scan(self, path: str, rel: str, found: list[tuple[str, bool]]) -> None:
        try:
            entries = list(os.scandir(path))
        except OSError:
            return
        for entry in entries:
            name = f"{rel}/{entry.name}"
            if entry.is_symlink():
                if not (entry.name.startswith(".") and entry.is_dir()):
                    found.append((name, True))
            elif entry.is_dir():
                if not entry.name.startswith("."):
                    self._scan(entry.path, name, found)
            else:
                found.append((name, False))

    def signature(
        self, folder: str, files: Iterable[str] = (), racy_after: float = 0.0
    ) -> tuple[str, list[str]]:
        """A digest of the path, size, change times and inode of `files` and of every file
        `list_files(folder)` lists, and those of them that changed after `racy_after` (a
        time.time()). The others did not change while the signature stays the same; a racy
        file may have changed again within the same clock tick (seeknal.digest.RACY_SECONDS)."""
        import hashlib

        limit = int(racy_after * 1e9)
        rows: list[str] = []
        racy: list[str] = []
        self._stat_rows(((rel, os.path.join(self._base, rel)) for rel in files), rows, limit, racy)
        tree: list[str] = []
        self._tree_rows(folder, tree, limit, racy)
        # a row starts with its path and "\0" sorts first: sorting rows sorts by path. One
        # string hashed at once: the same digest as hashing row by row, in a third the time
        text = "".join(rows) + "".join(sorted(tree))
        return hashlib.sha256(text.encode()).hexdigest(), racy

    @staticmethod
    def _stat_rows(
        files: Iterable[tuple[str, str]], rows: list[str], limit: int, racy: list[str]
    ) -> None:
        for rel, path in files:
            try:
                st = os.stat(path)
            except OSError:
                continue
            changed = st.st_mtime_ns if st.st_mtime_ns > st.st_ctime_ns else st.st_ctime_ns
            if changed > limit:
                racy.append(rel)
            rows.append(f"{rel}\0{st.st_size}\0{changed}\0{st.st_ino}\n")

    def _tree_rows(self, folder: str, rows: list[str], limit: int, racy: list[str]) -> None:
        """The signature rows of the files _walk lists (no links, no hidden folders), in one
        pass of os.scandir on plain strings (thousands of files: no Path objects)."""
        todo = [folder]
        base = self._base
        while todo:
            rel = todo.pop()
            try:
                entries = list(os.scandir(f"{base}/{rel}"))
            except OSError:
                continue
            for entry in entries:
                if entry.is_symlink():
                    continue
                name = entry.name
                if entry.is_dir(follow_symlinks=False):
                    if not name.startswith("."):
                        todo.append(f"{rel}/{name}")
                    continue
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue  # deleted meanwhile
                changed = st.st_mtime_ns if st.st_mtime_ns > st.st_ctime_ns else st.st_ctime_ns
                if changed > limit:
                    racy.append(f"{rel}/{name}")
                rows.append(f"{rel}/{name}\0{st.st_size}\0{changed}\0{st.st_ino}\n")

    def read(self, path: str) -> bytes | None:
        try:
            with open(os.path.join(self._base, path), "rb") as handle:
                return handle.read()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    def node_stats(self, path: str, before: float) -> str | None:
        """The file's size, change times and inode as one string, when it last changed before
        `before` (seconds since the epoch); else, or when it cannot be stat'ed, None
        (project/known_files.py remembers nodes by it)."""
        try:
            st = os.stat(os.path.join(self._base, path))
        except OSError:
            return None
        if max(st.st_mtime_ns, st.st_ctime_ns) >= before * 1e9:
            return None
        return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}"

    def data_digest(self, table: str, memo: MutableMapping[str, Any]) -> str | None:
        from seeknal.digest import expand, paths_digest  # hashlib: not on the hook path

        paths = expand(self.root, table)
        return paths_digest(paths, memo) if paths else None
