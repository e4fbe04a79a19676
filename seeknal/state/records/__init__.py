"""Typed records of the JSON state files under target/ (see docs/architecture.md).

One frozen dataclass per file, built only by the classmethods in this package: `to_json()` is
the object written to disk, `from_json(data, path)` checks what was read and raises `StateError`
naming the file and how to recover. Files written before a record carried `schema_version` read
the same way; `to_json()` always writes the current version. Standard library only.

| file | record |
| --- | --- |
| `run_state.json` | `RunState` of `NodeState` entries |
| `manifest.json` | `Manifest` (node entries stay mappings) |
| `plan.json` | `Plan` |
| `env_config.json` | `EnvConfig` |
| `refs.json` | `Refs` of `Ref` entries |
| `promotions.jsonl` | one `Promotion` a line |
| an env's `feature_store.json` | `EntityFiles` |
"""

from seeknal.state.records.entities import EntityFiles
from seeknal.state.records.env import EnvConfig, Promotion
from seeknal.state.records.plan import Changes, Manifest, Plan
from seeknal.state.records.reader import Reader, json_type
from seeknal.state.records.runs import NodeState, Ref, Refs, RunResult, RunState

__all__ = [
    "Changes",
    "EntityFiles",
    "EnvConfig",
    "Manifest",
    "NodeState",
    "Plan",
    "Promotion",
    "Reader",
    "Ref",
    "Refs",
    "RunResult",
    "RunState",
    "json_type",
]
