"""What a new user ran into on a first trial (init, branches, hooks, a remote, wrong input):
each case drives the CLI or real git the way the user did and checks the message, the exit code
and that nothing was half-written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import cli, rows, seeknal_cmd, state_files, working_dir
from gitkit import (
    ADULTS_WITH_COLUMN,
    bare_remote,
    commit_files,
    env_folder,
    ignore_target,
    install_hooks,
    run_git,
    seeknal_lines,
)

ADULTS = "seeknal/transforms/adults.yml"


@pytest.fixture
def small(small: Path) -> Path:
    return ignore_target(small)


def test_push_of_an_applied_branch_says_merging_promotes_it(small: Path) -> None:
    assert cli(small, "run").exit_code == 0
    install_hooks(small)
    bare_remote(small)
    run_git(small, "checkout", "-q", "-b", "feature/applied")
    commit_files(small, {ADULTS: ADULTS_WITH_COLUMN}, "adults")
    assert cli(small, "run").exit_code == 0
    lines = seeknal_lines(run_git(small, "push", "-q", "origin", "feature/applied").stderr)
    assert lines[-1] == (
        "seeknal: env feature-applied is applied with this very content; merging promotes it"
    ), lines


def test_init_name_with_yaml_characters_gives_a_project_that_loads(tmp_path: Path) -> None:
    res = cli(tmp_path, "init", "--name", "sales: EU #1", "my shop")
    assert res.exit_code == 0, res.output
    assert res.stdout.splitlines()[-1].startswith("Next: cd 'my shop', ")
    root = tmp_path / "my shop"
    (root / "data/a.csv").write_text("a\n1\n")
    (root / "seeknal/sources/a.yml").write_text(
        "kind: source\nname: a\nsource: csv\ntable: data/a.csv\n"
    )
    assert cli(root, "run").exit_code == 0
    assert json.loads((root / "target/manifest.json").read_text())["metadata"]["project"] == (
        "sales: EU #1"
    )


def test_init_with_an_empty_name_is_refused(tmp_path: Path) -> None:
    res = cli(tmp_path, "init", "--name", "", "p")
    assert res.exit_code == 1
    assert "--name is empty." in res.stderr
    assert not (tmp_path / "p").exists()


def test_a_misspelt_transform_key_is_named(small: Path) -> None:
    (small / "seeknal/transforms/t.yml").write_text(
        "kind: transform\nname: t\ninputs: [{ref: source.people}]\n"
        "transfrom: SELECT id FROM ref('source.people')\n"
    )
    res = cli(small, "plan")
    assert res.exit_code == 1
    assert (
        "seeknal/transforms/t.yml:4: transform has no SQL: is 'transfrom' meant to be "
        "'transform'?" in res.stderr
    )


def test_env_delete_without_an_answer_or_of_an_unknown_env(small: Path) -> None:
    from typer.testing import CliRunner

    from seeknal.cli.main import get_app

    assert cli(small, "plan", "dev").exit_code == 0
    runner = CliRunner()
    with working_dir(small):
        res = runner.invoke(get_app(), ["env", "delete", "dev"], input="")
    assert res.exit_code == 1
    assert "Nothing deleted. Pass --yes to delete without a question." in res.stdout
    assert "Aborted" not in res.output
    assert (small / "target/environments/dev/plan.json").is_file()
    # an env that is not there is named at once, without a question first
    res = cli(small, "env", "delete", "nope")
    assert res.exit_code == 1
    assert "Environment 'nope' not found." in res.stderr and "Delete" not in res.stdout


@pytest.mark.parametrize("value", ["abc", "nan"])
def test_a_lock_timeout_that_is_not_a_number(
    small: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("SEEKNAL_LOCK_TIMEOUT", value)
    res = cli(small, "run")
    assert res.exit_code == 1
    assert f"SEEKNAL_LOCK_TIMEOUT='{value}' is not a number of seconds." in res.stderr
    assert state_files(small) == []
    monkeypatch.setenv("SEEKNAL_LOCK_TIMEOUT", "2.5")
    assert cli(small, "run").exit_code == 0


def test_plan_json_with_another_format_is_a_usage_error(small: Path) -> None:
    res = cli(small, "plan", "--json", "-f", "markdown")
    assert res.exit_code == 2
    assert "--json and --format markdown ask for different formats" in res.output
    assert state_files(small) == []


def test_downstream_of_a_node_made_non_breaking_by_hand_says_so(small: Path) -> None:
    assert cli(small, "run").exit_code == 0
    text = (small / ADULTS).read_text().replace("age >= 18", "age >= 30")
    (small / ADULTS).write_text(text)
    res = cli(small, "plan", "dev", "--non-breaking", "transform.adults", "--json")
    assert res.exit_code == 0, res.output
    reasons = res.json()["reasons"]
    assert reasons["transform.city_counts"] == (
        "upstream transform.adults is non-breaking by --non-breaking; production data kept"
    )


def test_an_exposure_path_that_is_a_folder_is_refused_at_load(small: Path) -> None:
    """Promoting would have replaced the user's folder (kept in rollback history, deleted
    later); a production run would fail on it: refused when the project loads."""
    (small / "seeknal/exposures").mkdir(parents=True, exist_ok=True)
    (small / "seeknal/exposures/out.yml").write_text(
        "kind: exposure\nname: out\ndepends_on: [{ref: transform.adults}]\n"
        "params:\n  format: parquet\n  path: exports/out\n"
    )
    mine = small / "exports/out/notes.txt"
    mine.parent.mkdir(parents=True)
    mine.write_text("mine\n")
    for args in (("plan", "dev"), ("run",)):
        res = cli(small, *args)
        assert res.exit_code == 1, res.output
        assert (
            "seeknal/exposures/out.yml:6: params.path exports/out is a folder; the exposure "
            "writes a file there" in res.stderr
        )
    assert state_files(small) == [] and mine.read_text() == "mine\n"


def test_rollback_of_a_merge_says_to_revert_it_in_git(small: Path) -> None:
    assert cli(small, "run").exit_code == 0
    install_hooks(small)
    run_git(small, "checkout", "-q", "-b", "feature/m")
    commit_files(small, {ADULTS: ADULTS_WITH_COLUMN}, "adults")
    assert cli(small, "run").exit_code == 0
    run_git(small, "checkout", "-q", "main")
    run_git(small, "merge", "-q", "--no-ff", "-m", "merge feature/m", "feature/m")
    merge = run_git(small, "rev-parse", "HEAD").stdout.strip()[:12]

    res = cli(small, "rollback")
    assert res.exit_code == 0, res.output
    assert res.stdout.splitlines()[-1] == (
        f"The project files still hold the change (commit {merge}): revert it in git too "
        f"(git revert -m 1 {merge} for a merge), or 'seeknal sync' promotes it again."
    )
    run_git(small, "revert", "--no-edit", "-m", "1", merge)
    res = cli(small, "sync")
    assert res.exit_code == 0 and "production already matches this commit" in res.stdout
    # a promotion typed by hand is tied to no commit: no such line
    run_git(small, "checkout", "-q", "feature/m")
    assert cli(small, "promote").exit_code == 0
    res = cli(small, "rollback")
    assert res.exit_code == 0 and "revert" not in res.stdout


def test_rollback_of_a_merge_whose_env_is_gone_names_a_step_that_works(small: Path) -> None:
    """Without the env's outputs, sync has nothing to promote again: a run recomputes them."""
    assert cli(small, "run").exit_code == 0
    install_hooks(small)
    run_git(small, "checkout", "-q", "-b", "feature/gone")
    commit_files(small, {ADULTS: ADULTS_WITH_COLUMN}, "adults")
    assert cli(small, "run").exit_code == 0
    run_git(small, "checkout", "-q", "main")
    run_git(small, "merge", "-q", "--no-ff", "-m", "merge feature/gone", "feature/gone")
    merge = run_git(small, "rev-parse", "HEAD").stdout.strip()[:12]
    assert cli(small, "env", "delete", "feature-gone", "--yes").exit_code == 0

    res = cli(small, "rollback")
    assert res.exit_code == 0, res.output
    assert res.stdout.splitlines()[-1] == (
        f"The project files still hold the change (commit {merge}): revert it in git too "
        f"(git revert -m 1 {merge} for a merge), or 'seeknal run' computes it again in "
        "production."
    )
    adults = small / "target/cache/transform/adults.parquet"
    assert "age_months" not in str(rows(adults, "DESCRIBE t"))
    res = cli(small, "run")
    assert res.exit_code == 0, res.output
    assert "age_months" in str(rows(adults, "DESCRIBE t"))


def test_a_source_table_that_is_a_folder_says_so(small: Path) -> None:
    (small / "seeknal/sources/all.yml").write_text(
        "kind: source\nname: all\nsource: csv\ntable: data\n"
    )
    res = cli(small, "plan")
    assert res.exit_code == 1
    assert (
        "seeknal/sources/all.yml:4: table 'data' is a folder; name the files to read, e.g. "
        "'data/*.csv'" in res.stderr
    )
    # the glob it suggests loads
    (small / "seeknal/sources/all.yml").write_text(
        "kind: source\nname: all\nsource: csv\ntable: data/*.csv\n"
    )
    assert cli(small, "plan").exit_code == 0


def test_a_connection_profile_put_among_the_nodes_is_named(small: Path) -> None:
    (small / "seeknal/profiles").mkdir(parents=True, exist_ok=True)
    (small / "seeknal/profiles/profiles.yml").write_text(
        "connections:\n  wh:\n    type: postgres\n    host: db\n"
    )
    res = cli(small, "plan")
    assert res.exit_code == 1
    assert (
        "seeknal/profiles/profiles.yml:1: missing 'kind' and 'name': this looks like a "
        "connection profile (connections:), not a node" in res.stderr
    )


def test_init_example_over_a_clashing_file_writes_nothing(tmp_path: Path) -> None:
    root = tmp_path / "shop"
    (root / "tests").mkdir(parents=True)
    (root / "tests/test_shop_data.py").write_text("# mine\n")
    res = cli(tmp_path, "init", "--example", "shop")
    assert res.exit_code == 1
    assert (
        "tests/test_shop_data.py already exists" in res.stderr
        and "Nothing was written" in res.stderr
    )
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*")) == [
        "tests",
        "tests/test_shop_data.py",
    ]


def test_a_stale_plan_names_what_changed_since(small: Path) -> None:
    assert cli(small, "run").exit_code == 0
    assert cli(small, "plan", "dev").exit_code == 0
    assert cli(small, "run", "--env", "dev").exit_code == 0
    with (small / "data/people.csv").open("a") as fh:
        fh.write("6,Fay,40,Kyiv\n")
    names = small / "seeknal/transforms/names.yml"
    names.write_text(names.read_text().replace("upper(name)", "lower(name)"))
    (small / "seeknal/transforms/extra.yml").write_text(
        "kind: transform\nname: extra\ninputs: [{ref: source.people}]\n"
        "transform: SELECT id FROM ref('source.people')\n"
    )
    for args in (("run", "--env", "dev"), ("promote", "dev")):
        res = cli(small, *args)
        assert res.exit_code == 1
        assert res.stderr.splitlines()[:2] == [
            "Error: Plan is stale -- manifest has changed since plan was created.",
            "Changed since the plan: source.people (data), transform.extra (added), "
            "transform.names (definition).",
        ], res.stderr


@pytest.mark.parametrize(
    ("word", "said"),
    [
        ("test", "data tests are pytest tests over an env ('pytest tests/ --env ENV'"),
        ("build", "'seeknal run' runs what changed"),
        ("compile", "'seeknal show NODE' prints its compiled SQL"),
    ],
)
def test_commands_of_other_tools_say_what_does_the_job(small: Path, word: str, said: str) -> None:
    res = seeknal_cmd(small, word)
    assert res.exit_code == 2
    assert res.stderr.startswith(f"Error: No such command '{word}': {said}")
    assert res.stdout == "" and state_files(small) == []


@pytest.mark.parametrize(
    ("word", "said"),
    [
        ("create", "'seeknal plan ENV' creates an env"),
        ("switch", "the active env follows the checked-out git branch; name one for a command"),
        ("use", "the active env follows the checked-out git branch; name one for a command"),
    ],
)
def test_env_words_of_other_tools_say_what_does_the_job(small: Path, word: str, said: str) -> None:
    res = seeknal_cmd(small, "env", word, "dev")
    assert res.exit_code == 2
    assert res.stderr.startswith(f"Error: No such command 'env {word}': {said}"), res.stderr
    assert "'seeknal env --help' lists the env commands" in res.stderr
    assert res.stdout == "" and state_files(small) == []
    assert seeknal_cmd(small, "env", "current").exit_code == 0  # real env commands still work


@pytest.mark.parametrize(
    "args",
    [("lineage", ""), ("run", "--exclude", ""), ("plan", "--exclude", " , "), ("ls", "")],
)
def test_empty_selectors_name_no_node(small: Path, args: tuple[str, ...]) -> None:
    res = cli(small, *args)
    assert res.exit_code == 1, res.output
    assert "No node selected:" in res.stderr and "names no node." in res.stderr
    assert res.stdout == "" and state_files(small) == []


def test_empty_env_name_and_promotion_id(small: Path) -> None:
    res = cli(small, "report", "")
    assert res.exit_code == 1
    assert res.stderr.startswith(
        "Error: Invalid environment name (it is empty): use 1-63 characters"
    )
    assert cli(small, "run").exit_code == 0
    assert cli(small, "plan", "dev").exit_code == 0
    assert cli(small, "run", "dev").exit_code == 0
    assert cli(small, "promote", "dev").exit_code == 0
    res = cli(small, "rollback", "")
    assert res.exit_code == 1
    assert "The promotion id is empty." in res.stderr
    res = cli(small, "log", "--json")
    assert [e["can_roll_back"] for e in res.json() if e["kind"] == "promote"] == [True]


def test_misspelt_keys_are_named_and_one_input_kinds_are_checked_at_load(small: Path) -> None:
    files = {
        "seeknal/rules/r.yml": "kind: rule\nname: r\ninputs: [{ref: source.people}]\n"
        "rules:\n  type: uniqueness\n  columns: [id]\n",
        "seeknal/exposures/e.yml": "kind: exposure\nname: e\ndepends_on: [{ref: source.people}]\n"
        "param:\n  format: csv\n  path: exports/e.csv\n",
        "seeknal/sources/b.yml": "kind: source\nname: b\nsource: csv\ntabel: data/people.csv\n",
        "seeknal/profiles/p.yml": "kind: profile\nname: p\ninput: [{ref: source.people}]\n",
        "seeknal/profiles/p2.yml": "kind: profile\nname: p2\n"
        "inputs: [{ref: source.people}, {ref: transform.adults}]\n",
    }
    for rel, text in files.items():
        (small / rel).parent.mkdir(parents=True, exist_ok=True)
        (small / rel).write_text(text)
    res = cli(small, "plan")
    assert res.exit_code == 1
    for line in (
        "seeknal/exposures/e.yml:4: file exposure needs params.path (is 'param' meant to be "
        "'params'?)",
        "seeknal/rules/r.yml:1: rule needs a 'rule:' mapping (or list) with a 'type' (is "
        "'rules' meant to be 'rule'?)",
        "seeknal/sources/b.yml:3: csv source needs 'table: <path>' (is 'tabel' meant to be "
        "'table'?)",
        "seeknal/profiles/p.yml:1: profile reads exactly one input, but 0 are listed: list it "
        "under 'inputs' (or 'depends_on'), e.g. inputs: [{ref: kind.name}] (is 'input' meant "
        "to be 'inputs'?)",
        "seeknal/profiles/p2.yml:3: profile reads exactly one input, but 2 are listed: keep "
        "exactly one of them under 'inputs' (or 'depends_on') and remove the others",
    ):
        assert line in res.stderr, res.stderr
    assert state_files(small) == []


def test_a_merge_finished_by_hand_after_conflicts_syncs_production(small: Path) -> None:
    assert cli(small, "run").exit_code == 0
    install_hooks(small)
    run_git(small, "checkout", "-q", "-b", "feature/c")
    commit_files(small, {ADULTS: ADULTS_WITH_COLUMN, "notes.txt": "branch\n"}, "adults")
    assert cli(small, "run").exit_code == 0  # the branch env, applied
    run_git(small, "checkout", "-q", "main")
    commit_files(small, {"notes.txt": "main\n"}, "notes on main")
    merge = run_git(small, "merge", "feature/c", check=False)
    assert merge.exit_code != 0 and "CONFLICT" in merge.output
    (small / "notes.txt").write_text("both\n")
    run_git(small, "add", "notes.txt")
    done = run_git(small, "commit", "-q", "--no-edit")
    assert "seeknal: promoted env feature-c" in done.stderr, done.stderr
    res = cli(small, "sync")
    assert "production already matches this commit" in res.stdout
    # an ordinary commit afterwards says nothing
    done = run_git(small, "commit", "-q", "--allow-empty", "-m", "plain")
    assert seeknal_lines(done.stderr) == []


def test_reading_an_output_that_changed_on_disk_says_so(small: Path) -> None:
    assert cli(small, "run").exit_code == 0
    (small / "target/cache/transform/adults.parquet").write_text("not parquet\n")
    changed = (
        "Production output target/cache/transform/adults.parquet (transform.adults) changed "
        "since 'seeknal run' wrote it."
    )
    for args in (
        ("query", "SELECT count(*) FROM ref('transform.adults')"),
        ("repl", "-e", "SELECT count(*) FROM adults"),
    ):
        res = cli(small, *args)
        assert res.exit_code == 1, (args, res.output)
        assert changed in res.stderr, (args, res.stderr)
        assert "Next: Run 'seeknal run' to write it again." in res.stderr
    # show and ls still show the node, its output flagged the way plan sees it
    res = cli(small, "show", "adults")
    assert res.exit_code == 0, res.output
    assert "Last run (production: output changed)" in res.stdout
    assert f"{changed} Run 'seeknal run' to write it again." in res.stdout
    assert "Schema" not in res.stdout and "WHERE" in res.stdout
    rows = {r["id"]: r["status"] for r in cli(small, "ls", "--json").json()}
    assert rows["transform.adults"] == "output changed"
    assert rows["transform.names"] == "success"
    assert "output file changed since its last run" in cli(small, "plan").stdout
    # a query that does not read it is not held up by it
    res = cli(small, "query", "SELECT count(*) AS n FROM ref('transform.names')")
    assert res.exit_code == 0 and "5" in res.stdout


def test_ls_in_an_env_flags_its_own_output_that_changed_on_disk(small: Path) -> None:
    assert cli(small, "run").exit_code == 0
    run_git(small, "checkout", "-q", "-b", "feature/ls")
    commit_files(small, {ADULTS: ADULTS_WITH_COLUMN}, "adults")
    assert cli(small, "run").exit_code == 0  # the branch env, applied
    own = env_folder(small, "feature-ls") / "cache" / "transform" / "adults.parquet"
    own.write_text("not parquet\n")
    rows = {r["id"]: r["status"] for r in cli(small, "ls", "--json").json()}
    assert rows["transform.adults"] == "output changed"
    assert rows["transform.names"] == "production"
    res = cli(small, "show", "adults")
    assert res.exit_code == 0, res.output
    assert "Last run (env feature-ls: output changed)" in res.stdout
    assert "'seeknal run --env feature-ls' to write it again." in res.stdout


def test_ls_says_when_an_output_file_is_gone(small: Path) -> None:
    assert cli(small, "run").exit_code == 0
    (small / "target/cache/transform/names.parquet").unlink()
    rows = {r["id"]: r["status"] for r in cli(small, "ls", "--json").json()}
    assert rows["transform.names"] == "output missing"
    assert rows["transform.adults"] == "success"
    assert cli(small, "run").exit_code == 0
    rows = {r["id"]: r["status"] for r in cli(small, "ls", "--json").json()}
    assert rows["transform.names"] == "success"


def test_hooks_name_the_last_line_for_a_yaml_error_at_the_end_of_the_project_file(
    small: Path,
) -> None:
    install_hooks(small)
    text = (small / "seeknal_project.yml").read_text()
    lines = len(text.splitlines())
    (small / "seeknal_project.yml").write_text(text + "tags: [\n\n")
    res = run_git(small, "checkout", "-q", "-b", "feature/x")
    said = "\n".join(seeknal_lines(res.stderr))
    assert "seeknal_project.yml cannot be read" in said, said
    assert f"at line {lines + 1})" in said, said


def test_run_env_after_promote_says_it_was_promoted(small: Path) -> None:
    assert cli(small, "run").exit_code == 0
    (small / ADULTS).write_text((small / ADULTS).read_text().replace(">= 18", ">= 30"))
    for args in (("plan", "dev"), ("run", "--env", "dev"), ("promote", "dev")):
        assert cli(small, *args).exit_code == 0
    res = cli(small, "run", "--env", "dev")
    assert res.exit_code == 1
    assert "Environment 'dev' has already been promoted" in res.stderr
    assert "stale" not in res.stderr
    assert "Next: Plan it again ('seeknal plan dev')" in res.stderr
