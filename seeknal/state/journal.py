"""An all-or-nothing set of file replacements under target/, safe against a kill at any instant.

Protocol (journal + temp + rename):
1. stage: new files (state JSON, copied outputs) are written into `target/.txn/<id>/`;
2. the journal `target/.txn/journal.json` is written atomically, listing every operation;
3. apply: each destination is first renamed into the transaction's backup folder, then the new
   file is renamed into place; every step is one rename, so the file system tells how far it got;
4. commit: the journal is rewritten with `phase: committed` (the single commit point);
5. finish: follow-up work, backups and the journal are removed.

Recovery (`recover`): no journal → leftovers are deleted; `prepared` → every operation is undone in
reverse (production exactly as before); `committed` → finish is completed (exactly promoted).

Ctrl-C: a transaction used as a context manager holds SIGINT (`sigint.held`). Before the commit
point it stops at the next step and is undone or discarded; after it, it finishes first. Either
way `target/.txn/` is gone when the command ends, and the `Interrupted` error says which it was.
Recovery is for processes that were killed.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seeknal import sigint
from seeknal.errors import Interrupted, StateError
from seeknal.state import atomic, failpoints

TXN_DIR = ".txn"
TRASH_DIR = ".trash"
JOURNAL = "journal.json"


@dataclass
class Operation:
    """Put `src` at `dst` (or, with src None, remove `dst`), keeping the old `dst` as `backup`."""

    dst: str
    src: str | None
    backup: str


@dataclass
class Transaction:
    target: Path  # target/ (production base)
    root: Path  # project root; paths in the journal are relative to it
    kind: str
    details: dict[str, Any] = field(default_factory=dict)
    id: str = field(default_factory=lambda: os.urandom(6).hex())
    ops: list[Operation] = field(default_factory=list)
    command: str = ""  # the command that does it again, said after a Ctrl-C before the commit
    committed: bool = False
    _hold: sigint.held = field(default_factory=sigint.held, repr=False)

    def __enter__(self) -> Transaction:
        self._hold.__enter__()
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        """Nothing of an uncommitted transaction stays staged; a Ctrl-C becomes `Interrupted`,
        saying whether production changed."""
        try:
            if kind is not None and not self.committed:
                self.discard()
        finally:
            self._hold.__exit__()
        if (kind is not None and issubclass(kind, KeyboardInterrupt)) or (
            kind is None and self._hold.hit
        ):
            raise _interrupted(self) from None

    def check(self) -> None:
        """A Ctrl-C held since the transaction began stops it here, before its commit point."""
        if self._hold.hit and not self.committed:
            raise KeyboardInterrupt

    @property
    def folder(self) -> Path:
        return self.target / TXN_DIR / self.id

    def _rel(self, path: Path) -> str:
        text, root = str(path), str(self.root) + os.sep
        return text[len(root) :] if text.startswith(root) else os.path.relpath(text, self.root)

    def stage_bytes(self, name: str, data: bytes) -> Path:
        self.check()
        path = self.folder / "staged" / name
        atomic.write_bytes(path, data)
        return path

    def stage_json(self, name: str, value: Any, plain: bool = False) -> Path:
        return self.stage_bytes(name, atomic.dump_json(value, plain))

    def stage_copy(self, src: Path) -> Path:
        self.check()
        dest = self.folder / "staged" / f"copy-{len(self.ops)}-{src.name}"
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
        with dest.open("rb") as handle:
            os.fsync(handle.fileno())
        return dest

    def stage_link(self, src: Path) -> Path:
        """`src` staged by a second name (a copy where links are refused): seeknal never
        writes a file in place, so the two names cannot come to differ."""
        self.check()
        dest = self.folder / "staged" / f"link-{len(self.ops)}-{src.name}"
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(src, dest)
        except OSError:
            return self.stage_copy(src)
        return dest

    def replace(self, dst: Path, src: Path) -> None:
        self.check()
        backup = self.folder / "backup" / f"{len(self.ops)}-{dst.name}"
        self.ops.append(Operation(self._rel(dst), self._rel(src), self._rel(backup)))

    def delete(self, dst: Path) -> None:
        self.check()
        backup = self.folder / "backup" / f"{len(self.ops)}-{dst.name}"
        self.ops.append(Operation(self._rel(dst), None, self._rel(backup)))

    def _journal(self, phase: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "phase": phase,
            "details": self.details,
            "ops": [op.__dict__ for op in self.ops],
        }

    def discard(self) -> None:
        """Drop what was staged, for a transaction given up before `commit` wrote its journal."""
        if not (self.target / TXN_DIR / JOURNAL).exists():
            shutil.rmtree(self.target / TXN_DIR, ignore_errors=True)

    def commit(self, finish: Callable[[dict[str, Any]], None]) -> None:
        """Apply every operation and commit; `finish(journal)` must be idempotent.

        A failure while applying (a folder where a file must go, a full disk, Ctrl-C) undoes
        the operations at once: the journal never stays `prepared` behind a live command."""
        name = self.kind
        self.check()
        failpoints.hit(f"{name}.staged")
        self.check()
        journal_path = self.target / TXN_DIR / JOURNAL
        try:
            atomic.write_json(journal_path, self._journal("prepared"))
            failpoints.hit(f"{name}.journal")
            self._apply()
            self.check()  # the last moment a Ctrl-C undoes the transaction
        except BaseException as exc:
            _undo(self.target, self.root, self._journal("prepared"))
            if isinstance(exc, OSError):
                raise _apply_failed(exc, self.root, self.kind) from None
            raise
        atomic.write_json(journal_path, self._journal("committed"))
        self.committed = True  # the commit point: from here on, a Ctrl-C waits for the finish
        failpoints.hit(f"{name}.committed")
        _finish(self.target, self._journal("committed"), finish)
        _committed.append(self)

    def _apply(self) -> None:
        name, root = self.kind, str(self.root)
        (self.folder / "backup").mkdir(parents=True, exist_ok=True)
        made: set[str] = set()
        for index, op in enumerate(self.ops):
            self.check()
            dst = os.path.join(root, op.dst)
            try:
                os.replace(dst, os.path.join(root, op.backup))
                failpoints.hit(f"{name}.backup.{index}")
            except FileNotFoundError:
                pass  # a new file: nothing to keep
            if op.src is not None:
                parent = os.path.dirname(dst)
                if parent not in made:
                    os.makedirs(parent, exist_ok=True)
                    made.add(parent)
                os.replace(os.path.join(root, op.src), dst)
                failpoints.hit(f"{name}.apply.{index}")
        for folder in {os.path.dirname(os.path.join(root, op.dst)) for op in self.ops}:
            atomic.fsync_dir(Path(folder))


_committed: list[Transaction] = []  # committed by this process: a later Ctrl-C says so


def committed() -> int:
    """How many transactions this process committed so far (see `interrupted_since`)."""
    return len(_committed)


def interrupted_since(count: int, kind: str = "", command: str = "") -> Interrupted:
    """What a Ctrl-C outside any transaction says: when one was committed since `count` (the
    command made its promotion or rollback, and was reporting it), that it is done; else that
    nothing changed (`kind` given) or that the command stopped."""
    if len(_committed) > count:
        return _interrupted(_committed[-1])
    if kind:
        return stopped_before(kind, command)
    return Interrupted("Interrupted (Ctrl-C).", "Run the command again.")


def stopped_before(kind: str, command: str) -> Interrupted:
    """Ctrl-C before a promote or rollback changed production."""
    done = "rolled back" if kind == "rollback" else "promoted"
    return Interrupted(
        f"Interrupted (Ctrl-C): nothing was {done}; production is exactly as before.",
        f"Run '{command}' again." if command else "Run the command again.",
    )


def _interrupted(txn: Transaction) -> Interrupted:
    """What a Ctrl-C did to a transaction: undone before its commit point, finished after."""
    rollback = txn.kind == "rollback"
    if not txn.committed:
        return stopped_before(txn.kind, txn.command)
    result = (
        "production is rolled back"
        if rollback
        else f"env '{txn.details.get('env', '?')}' is promoted"
    )
    return Interrupted(
        f"Interrupted (Ctrl-C) after the {'rollback' if rollback else 'promotion'} was "
        f"committed: it was finished, {result}.",
        "Nothing is left to do; 'seeknal log' lists it"
        + ("." if rollback else ", 'seeknal rollback' undoes it."),
    )


def _apply_failed(exc: OSError, root: Path, kind: str = "promote") -> StateError:
    where = exc.filename or "a file"
    if isinstance(where, str) and where.startswith(str(root) + os.sep):
        where = where[len(str(root)) + 1 :]
    return StateError(
        f"{'Rollback' if kind == 'rollback' else 'Promotion'} failed at {where}: "
        f"{exc.strerror or exc}. It was rolled back: production is "
        "exactly as before.",
        f"Fix the cause (is {where} or a folder above it a file where a folder belongs, or the "
        "disk full?), then run the command again.",
    )


def _finish(
    target: Path, journal: dict[str, Any], finish: Callable[[dict[str, Any]], None]
) -> None:
    finish(journal)
    failpoints.hit(f"{journal['kind']}.finished")
    folder = target / TXN_DIR / journal["id"]
    if folder.exists():
        # the replaced files (old outputs, maybe gigabytes) are deleted off the critical path
        (target / TRASH_DIR).mkdir(exist_ok=True)
        os.replace(folder, target / TRASH_DIR / journal["id"])
    (target / TXN_DIR / JOURNAL).unlink(missing_ok=True)
    shutil.rmtree(target / TXN_DIR, ignore_errors=True)
    empty_trash(target, background=os.environ.get("SEEKNAL_SYNC_CLEANUP") != "1")


def empty_trash(target: Path, background: bool = True) -> None:
    """Delete target/.trash. In the background, a detached grandchild process does it, so a
    promotion's time does not grow with the size of the outputs it replaced."""
    trash = target / TRASH_DIR
    if not trash.exists():
        return
    if background and hasattr(os, "fork"):
        try:
            child = os.fork()
        except OSError:
            child = -1
        if child == 0:  # child: fork the deleter and leave at once, so nothing waits on it
            try:
                if os.fork() == 0:
                    os.setsid()
                    _detach_output()
                    _delete(trash)
            finally:
                os._exit(0)
        if child > 0:
            os.waitpid(child, 0)
            return
    _delete(trash)


def _detach_output() -> None:
    """The deleter lets go of the terminal or pipe it inherited: a reader of promote's output
    (`seeknal promote dev | cat`, a CI step, a git hook's caller) waits until every writer has
    closed it, so it would wait for the deletion. A test pause (SEEKNAL_FAILPOINT) keeps stderr
    to say where it stopped."""
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1) if os.environ.get("SEEKNAL_FAILPOINT") else (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)


def _delete(trash: Path) -> None:
    # a test pauses the deleter here to tell which process deletes, and whether promote waits
    failpoints.hit("trash.delete")
    shutil.rmtree(trash, ignore_errors=True)


def pending(target: Path) -> bool:
    return (target / TXN_DIR).exists()


def recover(
    target: Path, root: Path, finishers: dict[str, Callable[[dict[str, Any]], None]]
) -> str | None:
    """Finish or roll back an interrupted transaction. Call with the target lock held."""
    folder = target / TXN_DIR
    if not folder.exists():
        return None
    journal_path = folder / JOURNAL
    journal = None
    if journal_path.exists():
        journal = atomic.read_json(
            journal_path,
            "Promotion journal",
            f"Inspect {folder}; restore files from its backup/ folders by hand if needed.",
        )
    if journal is None:
        shutil.rmtree(folder, ignore_errors=True)
        atomic.remove_temp_files(target)
        return "removed the leftovers of a promotion interrupted before it changed anything"
    label = f"{journal.get('kind')} of '{journal.get('details', {}).get('env', '?')}'"
    if journal.get("phase") == "committed":
        finisher = finishers.get(str(journal.get("kind")))
        if finisher is None:
            raise StateError(f"Unknown interrupted operation in {journal_path}.")
        _finish(target, journal, finisher)
        atomic.remove_temp_files(target)
        done = "rolled back" if journal.get("kind") == "rollback" else "promoted"
        return f"completed the interrupted {label}: production is {done}"
    _undo(target, root, journal)
    atomic.remove_temp_files(target)
    return f"rolled back the interrupted {label}: production is exactly as before"


def _undo(target: Path, root: Path, journal: dict[str, Any]) -> None:
    """Undo a prepared transaction's operations in reverse, then drop it."""
    for op in reversed(journal.get("ops", [])):
        dst, backup = root / op["dst"], root / op["backup"]
        src = root / op["src"] if op.get("src") else None
        if src is not None and dst.is_file() and not src.exists():
            src.parent.mkdir(parents=True, exist_ok=True)
            os.replace(dst, src)
        if backup.exists():
            os.replace(backup, dst)
    shutil.rmtree(target / TXN_DIR, ignore_errors=True)
