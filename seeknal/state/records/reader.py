"""Reading one state file's JSON object field by field, naming the file in every complaint."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, NoReturn

from seeknal.errors import StateError

NULL: type = type(None)
TEXT: tuple[type, ...] = (str,)
MAYBE_TEXT: tuple[type, ...] = (str, NULL)
MAYBE_INT: tuple[type, ...] = (int, NULL)
MAYBE_NUMBER: tuple[type, ...] = (int, float, NULL)
OBJECT: tuple[type, ...] = (dict,)
LIST: tuple[type, ...] = (list,)
GENERIC_HINT = (
    "Move it aside (or delete it) and run the command that writes it again "
    "('seeknal run' for production, 'seeknal plan ENV' for an environment)."
)


def json_type(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    return names.get(type(value), "a number")


class Reader:
    """Reads one file's JSON object field by field, naming the file in every complaint."""

    def __init__(self, data: Any, path: Path | str, what: str, hint: str | None) -> None:
        self.path, self.what, self.hint = path, what, hint or GENERIC_HINT
        if not isinstance(data, dict):
            self.fail(f"a JSON object was expected, not {json_type(data)}")
        self.data: dict[str, Any] = data

    def fail(self, problem: str) -> NoReturn:
        raise StateError(f"{self.what} {self.path} has an unexpected shape: {problem}.", self.hint)

    def get(self, key: str, types: tuple[type, ...], default: Any = None) -> Any:
        if key not in self.data:
            return default
        value = self.data[key]
        if not isinstance(value, types):
            self.fail(f"'{key}' is {json_type(value)}")
        return value

    def entries(self, key: str, kind: type) -> Iterable[tuple[Any, dict[str, Any]]]:
        """(key or index, object) of each entry of the object or list under `key`."""
        values = self.get(key, (kind,), kind())
        for index, entry in values.items() if kind is dict else enumerate(values):
            if not isinstance(entry, dict):
                self.fail(f"'{key}' entry {index!r} is {json_type(entry)}")
            yield index, entry

    def entry_field(
        self, key: str, index: Any, entry: dict[str, Any], name: str, types: tuple[type, ...]
    ) -> Any:
        value = entry.get(name)
        if name in entry and not isinstance(value, types):
            self.fail(f"'{key}' entry {index!r} has '{name}' as {json_type(value)}")
        return value


def texts(values: Iterable[Any]) -> tuple[str, ...]:
    return tuple(str(v) for v in values)


# env_config.json, refs.json and promotions.jsonl were first written without a schema_version;
# such files read as their first version (1.0). Every file is written with its version now.
def versioned(version: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"schema_version": version, **data}
