"""Rendering report models with the Jinja templates shipped in the package (docs/report-schema.md)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from seeknal.errors import SeeknalError
from seeknal.project.placeholders import MIN_SECRET_LENGTH, SENSITIVE_NAME, redact
from seeknal.report.mermaid import mermaid_id, mermaid_label
from seeknal.report.model import fold

FORMATS = ("text", "markdown", "html", "json")
TEMPLATE_FILES = {"text": "plan.txt.j2", "markdown": "plan.md.j2", "html": "plan.html.j2"}
MARKDOWN_LIMIT = 65_000


def template_dirs() -> list[Path]:
    """Installed wheel: seeknal/templates; source checkout: the repository's templates/."""
    here = Path(__file__).resolve().parent.parent
    return [p for p in (here / "templates", here.parent / "templates") if p.is_dir()]


def _environment(template_dir: Path | None) -> Any:
    import jinja2

    if template_dir is not None and not template_dir.is_dir():
        raise SeeknalError(
            f"--template-dir {template_dir} is not a folder.",
            "Pass a folder holding plan.txt.j2, plan.md.j2 and/or plan.html.j2.",
        )
    searched = ([template_dir] if template_dir else []) + template_dirs()
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(p) for p in searched]),
        bytecode_cache=_compiled_templates(jinja2),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2", "html")),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["md"] = _md_escape
    env.filters["html_code"] = lambda t: re.sub(r"`([^`]+)`", r"<code>\1</code>", _md_escape(t))
    env.filters["mermaid_id"] = mermaid_id
    env.filters["mermaid_label"] = mermaid_label
    return env


def _compiled_templates(jinja2: Any) -> Any:
    """Compiled templates kept in the user's cache folder: compiling the plan template costs
    more than rendering it. Jinja keys them by the template's name and source checksum, so an
    edited or another template is compiled again. None (compile every time) without a cache
    folder one can write."""
    from seeknal.state.layout import user_cache_folder

    base = user_cache_folder()
    if base is None:
        return None
    folder = base / "templates"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return jinja2.FileSystemBytecodeCache(str(folder))


def _md_escape(text: Any) -> str:
    """Text for markdown tables and prose: no raw HTML, no table breaks."""
    value = str(text or "")
    return (
        value.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("|", "\\|")
        .replace("\n", " ")
    )


def secret_values(profile_path: str | None = None, root: Path | None = None) -> list[str]:
    """Values that must never be printed: sensitive env vars, and passwords in the profile and
    in the project file at `root` (its `connections:` may hold them too)."""
    from seeknal.project.files import PROJECT_FILE

    values = [
        v for k, v in os.environ.items() if SENSITIVE_NAME.search(k) and len(v) >= MIN_SECRET_LENGTH
    ]
    files = [Path(profile_path)] if profile_path else []
    files += [root / PROJECT_FILE] if root is not None else []
    for path in files:
        if not path.is_file():
            continue
        from seeknal.project.profiles import secret_leaves

        try:
            from seeknal.project.files import parse_yaml

            data = parse_yaml(path.read_text(encoding="utf-8"))
        except Exception:  # noqa: BLE001 - a broken file only means nothing to redact in it
            data = None
        values.extend(secret_leaves(data))
    return sorted(set(values), key=len, reverse=True)


def render(
    report: dict[str, Any],
    fmt: str,
    template_dir: Path | None = None,
    secrets: Iterable[str] = (),
) -> str:
    if fmt not in FORMATS:
        raise SeeknalError(f"Unknown format '{fmt}'.", f"Use one of: {', '.join(FORMATS)}.")
    secrets = list(secrets)
    if fmt == "json":
        return redact(json.dumps(report, indent=2, sort_keys=True) + "\n", secrets)
    if fmt == "text" and template_dir is None:
        text = shipped_text(report)
        if text is not None:
            return redact(text, secrets)
    env = _environment(template_dir)
    template = env.get_template(TEMPLATE_FILES[fmt])
    if fmt == "html":
        from seeknal.report.svg import render_svg

        folded = fold(report, details=500, graph=400, listed=5000)
        return redact(template.render(r=folded, svg=render_svg(folded["graph"])), secrets)
    if fmt == "text":
        return redact(template.render(r=report), secrets)
    return redact(_fit_markdown(template, report), secrets)


def shipped_text(report: dict[str, Any]) -> str | None:
    """The terminal view without Jinja (`report/text_view.py`) when the text template found is
    the shipped one it writes out; None to render through Jinja."""
    import hashlib

    from seeknal.report import text_view

    for folder in template_dirs():
        try:
            source = (folder / TEMPLATE_FILES["text"]).read_bytes()
        except OSError:
            continue
        if hashlib.sha256(source).hexdigest() != text_view.TEMPLATE_SHA256:
            return None
        try:
            return text_view.render_text(report)
        except (KeyError, TypeError, AttributeError, IndexError, ValueError):
            return None  # Jinja says what is wrong with the model
    return None


# Cheapest content first: the downstream table, then SQL diffs, then the graph, then the list.
MARKDOWN_FOLDS = (
    *((60, 120, listed) for listed in (2000, 1000, 500, 250, 100)),
    *((details, 120, 100) for details in (30, 15, 7, 3, 1, 0)),
    *((0, graph, 100) for graph in (60, 30, 10, 0)),
    *((0, 0, listed) for listed in (50, 25, 10)),
)


def _fit_markdown(template: Any, report: dict[str, Any]) -> str:
    """Render the PR comment, folding details until it fits GitHub's comment limit."""
    text = ""
    for details, graph, listed in MARKDOWN_FOLDS:
        text = template.render(r=fold(report, details, graph, listed))
        if len(text) <= MARKDOWN_LIMIT:
            return text
    return text[:MARKDOWN_LIMIT]
