"""Reading a project's git settings cheaply (no project load)."""

from __future__ import annotations

from pathlib import Path

from seeknal.errors import SeeknalError
from seeknal.git.settings import GitSettings, git_settings


def settings_of(root: Path, strict: bool = False, remember: bool = False) -> GitSettings:
    """The `git:` settings of the project at `root`.

    An unreadable or invalid seeknal_project.yml gives the defaults (commands that load the
    project report it properly), or, with `strict`, a SeeknalError: the hooks say so in one line
    instead of acting on settings the project may not have. With `remember`, settings parsed
    from YAML are kept in the settings memo (the post-checkout hook reads them from there).
    """
    from seeknal.project.files import PROJECT_FILE, error_line, parse_yaml
    from seeknal.state import settings_memo

    try:
        text = (root / PROJECT_FILE).read_text(encoding="utf-8")
        known = settings_memo.recall(root, text)
        data = known if known is not None else parse_yaml(text)
        if remember and known is None and isinstance(data, dict):
            settings_memo.remember(root, text, data)  # the next hook reads it without YAML
    except Exception as exc:  # noqa: BLE001 - load() reports a broken project file properly
        if strict:
            first = (str(exc).strip().splitlines() or [exc.__class__.__name__])[0]
            mark = getattr(exc, "problem_mark", None)
            if getattr(exc, "problem", None) and mark is not None:
                line = error_line(text, mark)
                first = f"{exc.problem} at line {line}"  # type: ignore[attr-defined]
            raise SeeknalError(
                f"{PROJECT_FILE} cannot be read ({first})", f"Fix {PROJECT_FILE}."
            ) from None
        data = {}
    if strict and not isinstance(data, dict):
        raise SeeknalError(f"{PROJECT_FILE} is not a mapping", f"Fix {PROJECT_FILE}.")
    return git_settings(data if isinstance(data, dict) else {})
