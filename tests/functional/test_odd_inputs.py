"""Valid YAML of the wrong shape, odd CLI input and damaged state files.

Each gets a clear error naming the file (and field) with exit code 1, never an internal error or
a traceback (the `cli` helper asserts that for every call), and nothing half-written.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import PROJECT_YML, cli, git, small_project, snapshot, write_tree

NODE = "seeknal/x/node.yml"
T = "kind: transform\nname: t\n"
SQL = "transform: SELECT 1 AS x\n"
RULE = "kind: rule\nname: r\ninputs: [{ref: source.people}]\n"
EXPOSURE = "kind: exposure\nname: e\ninputs: [{ref: source.people}]\n"
PROFILE = "kind: profile\nname: p\ninputs: [{ref: source.people}]\n"
SOURCE = "kind: source\nname: s\nsource: csv\ntable: data/people.csv\n"

# node file → a phrase the error must contain
NODE_CASES = {
    "source-params-list": (SOURCE + "params: [1]\n", "params must be a mapping"),
    "source-params-text": (SOURCE + "params: x\n", "params must be a mapping"),
    "postgres-params-text": (
        "kind: source\nname: s\nsource: postgresql\nparams: x\n",
        "params must be a mapping",
    ),
    "rule-params-list": (
        RULE + "rule: {type: uniqueness, column: id}\nparams: [1]\n",
        "params must be a mapping",
    ),
    "rule-entry-params-number": (
        RULE + "rule: {type: range, column: age, params: 5}\n",
        "rule.params must be a mapping",
    ),
    "rule-columns-number": (
        RULE + 'rule: {type: "null", columns: 5}\n',
        "rule.columns must be a column name or a list",
    ),
    "rule-column-mapping": (
        RULE + "rule: {type: uniqueness, column: {a: 1}}\n",
        "rule.column must be a column name",
    ),
    "rule-max-null-text": (
        RULE + 'rule: {type: "null", column: id, params: {max_null_percentage: abc}}\n',
        "max_null_percentage must be a number",
    ),
    "rule-checks-number": (
        RULE + "rule: {type: profile_check, checks: 5}\n",
        "rule.checks must be a list",
    ),
    "exposure-params-number": (EXPOSURE + "params: 5\n", "params must be a mapping"),
    "exposure-path-number": (EXPOSURE + "params: {path: 5}\n", "params.path must be a file path"),
    "exposure-path-in-target": (
        EXPOSURE + "params: {path: target/run_state.json}\n",
        "inside target/",
    ),
    "profile-number": (PROFILE + "profile: 5\n", "profile must be a mapping"),
    "profile-columns-number": (
        PROFILE + "profile: {columns: 5}\n",
        "profile.columns must be a list",
    ),
    "columns-list": (T + "columns: [a, b]\n" + SQL, "columns must be a mapping"),
    "tags-text": (T + "tags: x\n" + SQL, "tags must be a list"),
    "description-mapping": (T + "description: {a: 1}\n" + SQL, "description must be text"),
    "name-number": ("kind: transform\nname: 5\n" + SQL, "name must be text"),
    "name-boolean": ("kind: transform\nname: true\n" + SQL, 'quote it: name: "true"'),
    "name-too-long": ("kind: transform\nname: " + "a" * 300 + "\n" + SQL, "300 bytes long"),
    "key-number": (T + "1: 2\n" + SQL, "key 1 is not text"),
    "key-null": (T + "~: 2\n" + SQL, "key null is not text"),
    "key-date": (T + "params: {2024-01-01: x}\n" + SQL, "key 2024-01-01 is not text"),
}


def _no_state(root: Path) -> None:
    assert not (root / "target").exists() or not snapshot(root / "target" / "cache")


@pytest.mark.parametrize("text, phrase", NODE_CASES.values(), ids=NODE_CASES.keys())
@pytest.mark.parametrize("command", [("plan",), ("run",)])
def test_node_field_of_wrong_shape(
    tmp_path: Path, text: str, phrase: str, command: tuple[str, ...]
) -> None:
    root = small_project(tmp_path / "p", {NODE: text})
    res = cli(root, *command)
    assert res.exit_code == 1, res.output
    assert NODE in res.output and phrase in res.output, res.output
    _no_state(root)


SETTINGS = PROJECT_YML.format(name="small")
SETTINGS_CASES = {
    "name-list": ("name: [x]\n", "'name' must be text"),
    "ttl-text": (SETTINGS + "environments: {ttl_seconds: abc}\n", "ttl_seconds must be a whole"),
    "ttl-negative": (SETTINGS + "environments: {ttl_seconds: -5}\n", "ttl_seconds must be"),
    "environments-number": (SETTINGS + "environments: 5\n", "'environments' must be a mapping"),
    "production-branches-number": (
        SETTINGS + "git: {production_branches: 5}\n",
        "git.production_branches must be a name or a list",
    ),
    "pre-push-mapping": (
        SETTINGS + "git: {pre_push_block_on: {a: 1}}\n",
        "git.pre_push_block_on must be a name or a list",
    ),
}


@pytest.mark.parametrize("text, phrase", SETTINGS_CASES.values(), ids=SETTINGS_CASES.keys())
@pytest.mark.parametrize("command", [("plan",), ("plan", "dev")])
def test_project_setting_of_wrong_shape(
    git_project: Path, text: str, phrase: str, command: tuple[str, ...]
) -> None:
    small_project(git_project, {"seeknal_project.yml": text})
    res = cli(git_project, *command)
    assert res.exit_code == 1, res.output
    assert "seeknal_project.yml" in res.output and phrase in res.output, res.output
    _no_state(git_project)


COMMON_CASES = {
    "sources-number": ("sources.yml", "sources: 5\n", "'sources' must be a list"),
    "rules-text": ("rules.yml", "rules: abc\n", "'rules' must be a list"),
    "transformations-mapping": (
        "transformations.yml",
        "transformations: {id: a}\n",
        "'transformations' must be a list",
    ),
    "entry-without-id": ("sources.yml", "sources: [{ref: source.people}]\n", "has no 'id'"),
    "entry-not-mapping": ("rules.yml", "rules: [1]\n", "rules entry 1 is 1, not a mapping"),
    "params-number": ("sources.yml", "sources: [{id: a, params: 5}]\n", "must be a mapping"),
    "params-list": ("sources.yml", "sources: [{id: a, params: [1]}]\n", "must be a mapping"),
}


@pytest.mark.parametrize("name, text, phrase", COMMON_CASES.values(), ids=COMMON_CASES.keys())
def test_common_file_of_wrong_shape(tmp_path: Path, name: str, text: str, phrase: str) -> None:
    root = small_project(tmp_path / "p", {f"seeknal/common/{name}": text})
    res = cli(root, "run")
    assert res.exit_code == 1, res.output
    assert f"seeknal/common/{name}" in res.output and phrase in res.output, res.output
    _no_state(root)


@pytest.mark.parametrize("value", ["", ",", " , "])
def test_empty_nodes_option(tmp_path: Path, value: str) -> None:
    root = small_project(tmp_path / "p")
    res = cli(root, "run", "--nodes", value)
    assert res.exit_code == 1, res.output
    assert "No node selected" in res.output
    _no_state(root)


def test_target_is_a_file(tmp_path: Path) -> None:
    root = small_project(tmp_path / "p", {"target": "not a folder"})
    for command in (("plan",), ("run",), ("plan", "dev"), ("env", "list")):
        res = cli(root, *command)
        assert res.exit_code == 1, res.output
        assert "target is a file" in res.output and "Move or delete" in res.output
    assert (root / "target").read_text() == "not a folder"


# -- damaged state files --------------------------------------------------------------------


@pytest.fixture
def applied(git_project: Path) -> Path:
    """A git project run in production, with env 'dev' planned and applied."""
    small_project(git_project)
    git(git_project, "add", "-A")
    git(git_project, "commit", "-q", "-m", "small")
    for command in (("run",), ("plan", "dev"), ("run", "--env", "dev")):
        assert cli(git_project, *command).exit_code == 0
    return git_project


ENV = "target/environments/dev/"
GARBAGE = b"\x00\xff\xfe garbage \x80"
STATE_CASES = {
    "run-state-binary": ("target/run_state.json", GARBAGE, ("plan",), "not UTF-8 JSON"),
    "run-state-node-number": (
        "target/run_state.json",
        b'{"nodes": {"source.people": 5}}',
        ("run",),
        "unexpected shape: 'nodes' entry 'source.people' is a number",
    ),
    "run-state-folder": ("target/run_state.json", None, ("plan",), "cannot be read"),
    "manifest-binary": ("target/manifest.json", GARBAGE, ("env", "list"), "not UTF-8 JSON"),
    "manifest-nodes-list": (
        "target/manifest.json",
        b'{"nodes": []}',
        ("plan",),
        "unexpected shape: 'nodes' is a list",
    ),
    "plan-list": (ENV + "plan.json", b"[]", ("report", "dev"), "a JSON object was expected"),
    "plan-number": (ENV + "plan.json", b"5", ("promote", "dev"), "a JSON object was expected"),
    "plan-folder": (ENV + "plan.json", None, ("run", "--env", "dev"), "cannot be read"),
    "env-config-text": (ENV + "env_config.json", b'"x"', ("promote", "dev"), "unexpected shape"),
    "env-config-ttl": (
        ENV + "env_config.json",
        b'{"name": "dev", "ttl_seconds": "abc", "last_accessed": "x"}',
        ("promote", "dev"),
        "'ttl_seconds' is a string",
    ),
    "env-run-state-text": (ENV + "run_state.json", b'"x"', ("report", "dev"), "unexpected shape"),
    "env-manifest-entry-list": (
        ENV + "manifest.json",
        b'{"nodes": {"source.people": [1]}}',
        ("run", "--env", "dev"),
        "'nodes' entry 'source.people' is a list",
    ),
    "refs-number": (ENV + "refs.json", b"5", ("run", "--env", "dev"), "unexpected shape"),
    "promotions-folder": ("target/promotions.jsonl", None, ("promote", "dev"), "cannot be read"),
}


@pytest.mark.parametrize(
    "rel, content, command, phrase", STATE_CASES.values(), ids=STATE_CASES.keys()
)
def test_damaged_state_file(
    applied: Path,
    rel: str,
    content: bytes | None,
    command: tuple[str, ...],
    phrase: str,
) -> None:
    root = applied
    path = root / rel
    if content is None:
        path.unlink(missing_ok=True)
        path.mkdir()
    else:
        path.write_bytes(content)
    before = snapshot(root / "target")
    res = cli(root, *command)
    assert res.exit_code == 1, res.output
    assert rel in res.output and phrase in res.output, res.output
    assert "Next:" in res.output
    # nothing changed: no half-written state (only the lock file may have been touched)
    after = snapshot(root / "target")
    assert {k: v for k, v in after.items() if ".lock" not in k} == {
        k: v for k, v in before.items() if ".lock" not in k
    }


def test_plan_rewrites_damaged_env_config(applied: Path) -> None:
    """The recovery the message names ('seeknal plan dev') works on a damaged env config."""
    root = applied
    (root / ENV / "env_config.json").write_bytes(b"[]")
    res = cli(root, "env", "list")
    assert res.exit_code == 0 and "corrupt" in res.output, res.output
    assert cli(root, "plan", "dev").exit_code == 0
    assert cli(root, "run", "--env", "dev").exit_code == 0


@pytest.mark.parametrize("content", [b"[1]\n5\nnull\n", GARBAGE + b"\n"])
def test_odd_promotion_history_lines_are_skipped(applied: Path, content: bytes) -> None:
    root = applied
    write_tree(root, {"target/promotions.jsonl": content})
    res = cli(root, "promote", "dev")
    assert res.exit_code == 0, res.output
    assert (root / "target/promotions.jsonl").read_bytes().startswith(content)
