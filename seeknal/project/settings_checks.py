"""What loading checks in seeknal_project.yml (name, environments, history, sql_sandbox; every
other key is read where it is used) and in the lists of seeknal/common/."""

from __future__ import annotations

from typing import Any

from seeknal.errors import Problem
from seeknal.project.files import PROJECT_FILE
from seeknal.project.retention import retention_problems
from seeknal.project.yaml_nodes import key_line


def settings_problems(data: dict[str, Any], text: str) -> list[Problem]:
    """A problem for each checked setting that is missing or malformed; `text` is the file's."""
    problems: list[Problem] = []
    if not data.get("name"):
        problems.append(Problem(PROJECT_FILE, "missing 'name'", 1))
    elif isinstance(data["name"], dict | list):
        problems.append(Problem(PROJECT_FILE, "'name' must be text, e.g. name: my_project", 1))
    envs = data.get("environments")
    if envs is not None and not isinstance(envs, dict):
        problems.append(
            Problem(PROJECT_FILE, "'environments' must be a mapping, e.g. {ttl_seconds: 86400}")
        )
    elif envs and envs.get("ttl_seconds") is not None:
        ttl = envs["ttl_seconds"]
        if isinstance(ttl, bool) or not isinstance(ttl, int) or ttl <= 0:
            problems.append(
                Problem(
                    PROJECT_FILE,
                    f"environments.ttl_seconds must be a whole number of seconds above 0, "
                    f"not {ttl!r}",
                )
            )
    for problem in retention_problems(data.get("history")):
        problems.append(Problem(PROJECT_FILE, problem, key_line(text, "history")))
    if "sql_sandbox" in data and not _sandbox_ok(data["sql_sandbox"]):
        problems.append(
            Problem(
                PROJECT_FILE,
                "sql_sandbox must be true (the default), false, or {allow: [folder, ...]}, "
                f"not {data['sql_sandbox']!r}",
                key_line(text, "sql_sandbox"),
            )
        )
    return problems


def _sandbox_ok(value: Any) -> bool:
    """`sql_sandbox`: true, false, or a mapping whose only key `allow` lists folders."""
    if isinstance(value, bool):
        return True
    if not isinstance(value, dict) or set(value) - {"allow"}:
        return False
    allow = value.get("allow") or []
    return isinstance(allow, list) and all(isinstance(a, str) and a for a in allow)


def common_entries(
    path: str, text: str, key: str, entries: Any
) -> tuple[list[dict[str, Any]], list[Problem]]:
    """The well-formed entries of a seeknal/common/ list, and a problem for every other one."""
    problems: list[Problem] = []
    if not isinstance(entries, list):
        problems.append(
            Problem(path, f"'{key}' must be a list of entries with an 'id'", key_line(text, key))
        )
        return [], problems
    good: list[dict[str, Any]] = []
    for index, entry in enumerate(entries, 1):
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str | int):
            what = "has no 'id'" if isinstance(entry, dict) else f"is {entry!r}, not a mapping"
            problems.append(
                Problem(path, f"{key} entry {index} {what}; give each entry an 'id: name'")
            )
        elif key == "sources" and not isinstance(entry.get("params") or {}, dict):
            problems.append(
                Problem(path, f"params of source '{entry['id']}' must be a mapping of key: value")
            )
        else:
            good.append(entry)
    return good, problems
