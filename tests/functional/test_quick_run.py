"""`seeknal run` with only --full, -q/--quiet, --parallel, --json and --max-workers N is answered
before typer, click and rich are imported (seeknal/cli/quick.py): what it prints, its exit code
and the files it writes stay exactly the typer command's. Every case runs the same situation
twice from one copy of the repository, through the typer app and through the entry point."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

from conftest import cli, git
from envkit import ADULTS, NAMES, edit, env_project
from test_fast_paths import entry, through_typer

FRAMEWORK = {"typer", "click", "rich"}
# nodes that may run in either order run in the order of a set of names: the same in both runs
SEED = {"PYTHONHASHSEED": "0"}
# what differs from one run to the next: elapsed times, in text and in JSON
SECONDS = re.compile(r"\b\d+\.\d+s\b")
VOLATILE = re.compile(r"run_id|plan_id|duration|seconds")
STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z?|\d{8}T\d{6}Z(-[0-9a-f]+)?")


def _timeless(text: str) -> str:
    text = SECONDS.sub("N.NNs", text)
    return re.sub(r'"(seconds|duration_ms|run_id)": ("[^"]*"|[\d.]+)', r'"\1": N', text)


def _json_core(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: "N" if VOLATILE.search(k) else _json_core(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_core(v) for v in value]
    return STAMP.sub("T", value) if isinstance(value, str) else value


def written(root: Path) -> dict[str, Any]:
    """Every file of the project but git's and the tool cache's: JSON without its times and
    run ids, JSON lines likewise, data files by bytes."""
    found: dict[str, Any] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if not path.is_file() or rel.startswith((".git/", "target/.seeknal-cache/")):
            continue
        if path.suffix == ".json":
            found[rel] = _json_core(json.loads(path.read_text()))
        elif path.suffix == ".jsonl":
            found[rel] = [_json_core(json.loads(x)) for x in path.read_text().splitlines()]
        else:
            found[rel] = path.read_bytes()
    return found


def _restore(root: Path, copy: Path) -> None:
    shutil.rmtree(root)
    shutil.copytree(copy, root, symlinks=True)


def same_as_typer(root: Path, *args: str) -> tuple[int, str, str]:
    """`seeknal ARGS` through the typer app, then from the same starting files through the
    entry point: the same exit code, output (but for elapsed times) and files written, and the
    second without typer, click or rich."""
    copy = root.parent / "before"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(root, copy, symlinks=True)
    _restore(root, copy)
    code, stdout, stderr = through_typer(root, *args, **SEED)
    files = written(root)
    _restore(root, copy)
    quick_code, quick_out, quick_err, loaded = entry(root, *args, **SEED)
    assert not FRAMEWORK & set(loaded), (args, loaded)
    assert quick_code == code, (args, quick_err, stderr)
    # workers finish in either order
    shown = sorted if "--parallel" in args else list
    assert shown(_timeless(quick_out).splitlines()) == shown(_timeless(stdout).splitlines())
    assert shown(_timeless(quick_err).splitlines()) == shown(_timeless(stderr).splitlines())
    now = written(root)
    assert now == files, (args, {k: (v, now.get(k)) for k, v in files.items() if now.get(k) != v})
    return code, quick_out, quick_err


def _env_repo(root: Path) -> Path:
    env_project(root)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "env project")
    return root


def test_production_runs_print_and_write_what_typer_does(git_project: Path) -> None:
    root = _env_repo(git_project)
    code, stdout, _ = same_as_typer(root, "run")
    assert code == 0 and "Running 7 node(s), 0 cached" in stdout
    edit(root, ADULTS, "WHERE age >= 18", "WHERE age >= 21")
    code, stdout, stderr = same_as_typer(root, "run", "-q")
    assert code == 0 and stdout.startswith("Done in ") and stderr == ""
    code, stdout, _ = same_as_typer(root, "run", "--full", "--quiet")
    assert code == 0 and "7 succeeded, 0 cached" in stdout
    edit(root, ADULTS, "WHERE age >= 21", "WHERE age >= 25")
    code, stdout, _ = same_as_typer(root, "run", "--json")
    assert code == 0 and json.loads(stdout)["counts"]["success"] == 5
    code, stdout, _ = same_as_typer(root, "run", "--parallel", "--max-workers", "2", "--full")
    assert code == 0 and "7 succeeded" in stdout
    code, stdout, _ = same_as_typer(root, "run", "--max-workers=3", "--parallel", "--json")
    assert code == 0 and json.loads(stdout)["ok"] is True


def test_a_branch_env_is_planned_first_and_applied_as_by_typer(git_project: Path) -> None:
    root = _env_repo(git_project)
    assert cli(root, "run").exit_code == 0
    git(root, "checkout", "-q", "-b", "feature/older")
    edit(root, ADULTS, "WHERE age >= 18", "WHERE age >= 30")
    code, stdout, _ = same_as_typer(root, "run")
    assert code == 0 and stdout.startswith("(env feature-older from the branch: planning first)")
    assert "Next: seeknal promote feature-older" in stdout
    code, stdout, _ = same_as_typer(root, "run", "--json", "--parallel", "--max-workers", "2")
    assert code == 0 and json.loads(stdout)["env"] == "feature-older"
    assert (root / "target/environments/feature-older/plan.json").is_file()
    code, stdout, _ = same_as_typer(root, "run", "-q")
    assert code == 0 and stdout.startswith("Env 'feature-older' done in ")


WARNING_RULE = """\
kind: rule
name: adults_young
inputs:
  - ref: transform.adults
rule:
  type: range
  column: age
  params: {min_val: 0, max_val: 40}
params:
  severity: warn
  error_message: "Some adults are over 40"
"""


def test_quiet_hides_progress_but_never_a_warning(git_project: Path) -> None:
    """-q leaves out the node lines; a rule's warning and a load warning still go to stderr,
    in production and in a branch's env, answered by typer and without it alike."""
    root = _env_repo(git_project)
    (root / "seeknal/rules/adults_young.yml").write_text(WARNING_RULE)
    edit(root, NAMES, "kind: transform\n", "kind: transform\ntgas: [a]\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "a warning rule and a misspelt key")
    rule_warning = "warning: rule.adults_young: Some adults are over 40 (age in [0, 40]: "
    code, stdout, stderr = same_as_typer(root, "run", "-q")
    assert code == 0 and stdout.startswith("Done in ") and "adults_young" not in stdout
    lines = stderr.splitlines()
    assert any(line.startswith(rule_warning) for line in lines), stderr
    assert any("unknown key 'tgas' (did you mean 'tags'?)" in line for line in lines), stderr
    git(root, "checkout", "-q", "-b", "feature/quiet")
    edit(root, ADULTS, "WHERE age >= 18", "WHERE age >= 19")
    code, stdout, stderr = same_as_typer(root, "run", "-q")
    assert code == 0 and stdout.startswith("Env 'feature-quiet' done in "), stdout
    assert any(line.startswith(rule_warning) for line in stderr.splitlines()), stderr
    # the env was planned first: what the plan found is said, as `seeknal plan` says it
    assert "unknown key 'tgas' (did you mean 'tags'?)" in stderr, stderr
    # --json says nothing on stderr: its document has the warnings, in an env as in production
    edit(root, ADULTS, "WHERE age >= 19", "WHERE age >= 20")
    code, stdout, stderr = same_as_typer(root, "run", "--json")
    nodes = {n["id"]: n for n in json.loads(stdout)["nodes"]}
    assert code == 0 and stderr == "", stderr
    assert nodes["rule.adults_young"]["warnings"][0].startswith("Some adults are over 40 (")


def test_a_failing_node_exits_1_with_typers_messages(git_project: Path) -> None:
    root = _env_repo(git_project)
    edit(root, NAMES, "upper(name) AS name", "CAST(name AS INTEGER) AS name")
    code, stdout, stderr = same_as_typer(root, "run")
    assert code == 1 and "1 node(s) failed; first: transform.names" in stderr
    code, _, stderr = same_as_typer(root, "run", "-q", "--parallel")
    assert code == 1 and stderr.startswith("transform.names: ")
    code, stdout, _ = same_as_typer(root, "run", "--json")
    assert code == 1 and json.loads(stdout)["ok"] is False
    git(root, "checkout", "-q", "-b", "feature/bad")
    code, _, stderr = same_as_typer(root, "run", "--quiet")
    assert code == 1 and "transform.names: " in stderr


def test_errors_before_a_run_are_worded_as_by_typer(git_project: Path, tmp_path: Path) -> None:
    root = _env_repo(git_project)
    (root / ADULTS).write_text("kind: transform\nname: [adults\n")
    code, _, stderr = same_as_typer(root, "run", "-q")
    assert code == 1 and "adults.yml" in stderr and "Traceback" not in stderr
    git(root, "checkout", "-q", "--", ADULTS)
    git(root, "checkout", "-q", "--detach")
    code, _, stderr = same_as_typer(root, "run", "--json")
    assert code == 1 and stderr.startswith("Error: HEAD is detached")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    code, _, stderr = same_as_typer(outside, "run")
    assert code == 1 and "No seeknal project found" in stderr


def test_other_run_forms_and_usage_errors_go_to_typer(git_project: Path) -> None:
    root = _env_repo(git_project)
    assert cli(root, "run").exit_code == 0
    git(root, "checkout", "-q", "-b", "feature/x")
    for args in (
        ("run", "--full"),  # production only: typer's usage error on a branch
        ("run", "--full", "-q"),
        ("run", "-q", "-q"),
        ("run", "--max-workers", "0"),
        ("run", "--max-workers", "two"),
        ("run", "--max-workers="),
        ("run", "--max-workers"),
        ("run", "--dry-run"),
        ("run", "--nodes", "adults"),
        ("run", "--quiet", "--env", "nosuch"),
        ("run", "Bad Name"),
        ("run", "--verbose"),
    ):
        expected = through_typer(root, *args, **SEED)
        code, stdout, stderr, loaded = entry(root, *args, **SEED)
        assert "typer" in loaded, args
        assert (code, _timeless(stdout), _timeless(stderr)) == (
            expected[0],
            _timeless(expected[1]),
            _timeless(expected[2]),
        ), args
    code, stdout, _, loaded = entry(root, "run", "--help")
    assert code == 0 and "Usage: seeknal run" in stdout and "typer" in loaded
    # while the plain form on the same branch is answered before typer
    code, stdout, _, loaded = entry(root, "run", "-q")
    assert code == 0 and stdout.startswith("Env 'feature-x' done in ") and "typer" not in loaded
