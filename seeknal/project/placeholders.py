"""`{{ ... }}` placeholders in node files: common config, built-ins, env vars and --params.

Rendering is textual (not Jinja): node SQL is full of braces, quotes and `ref()` calls that a
template engine would try to interpret.
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

PLACEHOLDER = re.compile(r"\{\{\s*(.*?)\s*\}\}")
# env vars whose values are secrets: never written out by seeknal (errors, warnings, state, outputs)
SENSITIVE_NAME = re.compile(r"PASS|SECRET|TOKEN|KEY|CREDENTIAL", re.IGNORECASE)
MIN_SECRET_LENGTH = 4  # shorter values are not worth hiding: they would blank out ordinary text


class UnknownPlaceholder(Exception):
    def __init__(self, key: str, suggestion: str | None) -> None:
        self.key = key
        self.suggestion = suggestion
        if suggestion:
            hint = f" (did you mean '{suggestion}'?)"
        elif key.startswith(("ref(", "ref (")):
            hint = " (write ref('kind.name') in the SQL itself, without {{ }})"
        else:  # a value of the run's: `--params '{"<key>": ...}'` gives it
            hint = f" (give it a value with --params '{{\"{key}\": ...}}')"
        super().__init__(f"unknown placeholder '{{{{ {key} }}}}'{hint}")


def builtin_values(
    run_id: str, params: Mapping[str, Any], today: dt.date | None = None
) -> dict[str, str]:
    day = today or dt.datetime.now(dt.UTC).date()
    values = {
        "today": day.isoformat(),
        "yesterday": (day - dt.timedelta(days=1)).isoformat(),
        "run_date": str(params.get("run_date", day.isoformat())),
        "run_id": run_id,
    }
    values.update({str(k): _text(v) for k, v in params.items()})
    return values


def common_values(sources: list[Any], rules: list[Any], transforms: list[Any]) -> dict[str, str]:
    """Flatten seeknal/common/*.yml into placeholder keys.

    sources.yml: `<id>` is `ref('<ref>')`, `<id>.<param>` its params; rules.yml: `rules.<id>`;
    transformations.yml: `transforms.<id>` (its `sql`).
    """
    values: dict[str, str] = {}
    for entry in sources:
        if not isinstance(entry, dict) or "id" not in entry:
            continue
        sid = str(entry["id"])
        if entry.get("ref"):
            values[sid] = f"ref('{entry['ref']}')"
        for key, val in (entry.get("params") or {}).items():
            values[f"{sid}.{key}"] = _text(val)
    for entry in rules:
        if isinstance(entry, dict) and "id" in entry:
            values[f"rules.{entry['id']}"] = _text(entry.get("value", entry.get("sql", "")))
    for entry in transforms:
        if isinstance(entry, dict) and "id" in entry:
            values[f"transforms.{entry['id']}"] = _text(entry.get("sql", entry.get("value", "")))
    return values


ENV_PLACEHOLDER = re.compile(r"\{\{\s*env:([^|}]+?)\s*(?:\|([^}]*?))?\s*\}\}")


def render(text: str, values: Mapping[str, str], depth: int = 0, keep_env: bool = False) -> str:
    """Replace every placeholder in `text`; raise UnknownPlaceholder for the first unknown key.

    With `keep_env`, `{{ env:VAR }}` stays as written: values from the environment (passwords
    among them) are filled in only when a node executes, never stored in state files.
    """
    if "{{" not in text:
        return text

    def substitute(match: re.Match[str]) -> str:
        key = match.group(1)
        if key.startswith("env:"):
            if keep_env:
                return match.group(0)
            name, _, default = key[4:].partition("|")
            return os.environ.get(name.strip(), default.strip())
        if key in values:
            value = values[key]
            # common transformations may themselves use placeholders
            return render(value, values, depth + 1, keep_env) if depth < 5 else value
        close = difflib.get_close_matches(key, list(values), n=1, cutoff=0.5)
        raise UnknownPlaceholder(key, close[0] if close else None)

    return PLACEHOLDER.sub(substitute, text)


def render_tree(value: Any, values: Mapping[str, str], keep_env: bool = False) -> Any:
    """Render every string inside a YAML value (mappings and lists included)."""
    if isinstance(value, str):
        return render(value, values, keep_env=keep_env)
    if isinstance(value, dict):
        return {k: render_tree(v, values, keep_env) for k, v in value.items()}
    if isinstance(value, list):
        return [render_tree(v, values, keep_env) for v in value]
    return value


def render_env(value: Any) -> Any:
    """Fill in the `{{ env:VAR|default }}` placeholders left in a node (strings, dicts, lists)."""
    if isinstance(value, str):
        if "{{" not in value:
            return value
        return ENV_PLACEHOLDER.sub(
            lambda m: os.environ.get(m.group(1).strip(), (m.group(2) or "").strip()), value
        )
    if isinstance(value, dict):
        return {k: render_env(v) for k, v in value.items()}
    if isinstance(value, list):
        return [render_env(v) for v in value]
    return value


def env_names(value: Any) -> set[str]:
    """Environment variables a node's config or SQL reads through placeholders."""
    found: set[str] = set()
    _collect_env_names(value, found)
    return found


def _collect_env_names(value: Any, found: set[str]) -> None:
    # every node is fingerprinted on every plan: one walk into one set, no regex without "{{"
    if isinstance(value, str):
        if "{{" in value:
            found.update(m.group(1).strip() for m in ENV_PLACEHOLDER.finditer(value))
    elif isinstance(value, dict):
        for item in value.values():
            _collect_env_names(item, found)
    elif isinstance(value, list):
        for item in value:
            _collect_env_names(item, found)


def secret_values(value: Any) -> list[str]:
    """Values of the sensitive env vars (`DB_PASSWORD`, `API_TOKEN`, ...) that the `{{ env:VAR }}`
    placeholders in `value` read, longest first."""
    found = {
        os.environ[name]
        for name in env_names(value)
        if SENSITIVE_NAME.search(name) and len(os.environ.get(name, "")) >= MIN_SECRET_LENGTH
    }
    return sorted(found, key=len, reverse=True)


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret replaced by `****`."""
    for secret in secrets:
        text = text.replace(secret, "****")
    return text


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
