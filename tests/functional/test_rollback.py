"""Production history (docs/concepts.md#rollback): `seeknal rollback` puts production back byte for
byte as it was before a promotion, atomically; `seeknal log` lists what can be undone."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from conftest import cli, git, seeknal_cmd
from envkit import (
    ADULTS,
    KILLED,
    NAMES,
    edit,
    env_dir,
    env_json,
    env_project,
    history_lines,
    kill,
    outputs_digests,
    production_digests,
    promotions,
    start_paused,
    temp_leftovers,
)

TEENS = """\
kind: transform
name: teens
inputs:
  - ref: source.people
transform: SELECT id, name FROM ref('source.people') WHERE age < 18
"""
TEENS_YML = "seeknal/transforms/teens.yml"


def prepare(root: Path) -> Path:
    """Production run; env dev changes adults, removes names and adds teens, applied."""
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    env_project(root)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "env project")
    assert cli(root, "run").exit_code == 0
    edit(root, ADULTS, "WHERE age >= 18", "WHERE age >= 30")
    (root / NAMES).unlink()
    (root / TEENS_YML).write_text(TEENS)
    assert cli(root, "plan", "dev").exit_code == 0
    res = cli(root, "run", "--env", "dev")
    assert res.exit_code == 0, res.output
    return root


def production(root: Path) -> dict[str, str]:
    """Digest of every production file (outputs, exports, manifest and run state), history apart."""
    return {
        k: v
        for k, v in production_digests(root).items()
        if k != "target/promotions.jsonl" and not k.startswith("target/history/")
    }


def env_files(root: Path, env: str) -> dict[str, str]:
    folder = env_dir(root, env)
    return {
        p.relative_to(folder).as_posix(): p.read_bytes().hex()[:64] + str(p.stat().st_size)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != "env_config.json"
    }


@pytest.fixture
def template(tmp_path: Path) -> Path:
    return prepare(tmp_path / "template")


def test_rollback_puts_production_back_byte_for_byte(template: Path) -> None:
    root = template
    before = production(root)
    env_before = env_files(root, "dev")
    assert "target/cache/transform/names.parquet" in before
    res = cli(root, "promote", "dev")
    assert res.exit_code == 0, res.output
    promoted = production(root)
    assert promoted != before and "target/cache/transform/teens.parquet" in promoted
    [line] = promotions(root)
    # the replaced outputs are kept by moving them, not copied
    assert (root / "target/history" / line["id"] / "entry.json").is_file()

    res = seeknal_cmd(root, "rollback")
    assert res.exit_code == 0, res.output
    assert f"Rolled back promotion {line['id']} of env 'dev'" in res.stdout
    assert "Env 'dev' has its outputs back and can be promoted again." in res.stdout
    assert production(root) == before
    assert env_files(root, "dev") == env_before
    assert not (root / "target/history" / line["id"]).exists()
    assert temp_leftovers(root) == []
    assert history_lines(root)[-1]["kind"] == "rollback"
    assert history_lines(root)[-1]["undoes"] == [line["id"]]
    assert "promoted_plan_id" not in env_json(root, "dev", "env_config.json")
    statuses = {e["name"]: e["status"] for e in cli(root, "env", "list", "--json").json()}
    assert statuses == {"dev": "applied"}

    # with the project as production was built from, a run has nothing to do
    edited = {p: (root / p).read_text() for p in (ADULTS, TEENS_YML)}
    (root / TEENS_YML).unlink()
    git(root, "checkout", "--", ".")
    res = cli(root, "run", "--json")
    assert res.exit_code == 0, res.output
    assert {x["status"] for x in res.json()["nodes"]} == {"cached"}
    assert outputs_digests(root) == outputs(before)  # a run rewrites only its state files
    for rel, text in edited.items():
        (root / rel).write_text(text)
    (root / NAMES).unlink()

    # the env is usable again: promoting it gives what the first promotion gave
    res = cli(root, "promote", "dev")
    assert res.exit_code == 0, res.output
    assert outputs_digests(root) == outputs(promoted)


def outputs(digests: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in digests.items() if k.startswith(("target/cache/", "exports/"))}


def promote_second(root: Path, env: str = "qa") -> None:
    """After dev's promotion: env qa changes city_counts, applied and promoted."""
    edit(root, "seeknal/transforms/city_counts.yml", "count(*)", "count(*) * 10")
    for command in (("plan", env), ("run", "--env", env), ("promote", env)):
        res = cli(root, *command)
        assert res.exit_code == 0, (command, res.output)


def test_rollback_past_a_later_promotion_needs_force(template: Path) -> None:
    root = template
    before = production(root)
    assert cli(root, "promote", "dev").exit_code == 0
    after_dev = production(root)
    promote_second(root)
    first, second = promotions(root)
    assert production(root) != after_dev

    res = cli(root, "rollback", first["id"])
    assert res.exit_code == 1
    assert f"Promotion {first['id']} cannot be rolled back alone" in res.stderr
    assert f"{second['id']} (env 'qa')" in res.stderr
    assert f"seeknal rollback {first['id']} --force" in res.stderr

    log = cli(root, "log", "--json").json()
    assert [(e["kind"], e["env"], e["rollback"]) for e in log] == [
        ("promote", "qa", "yes"),
        ("promote", "dev", "with --force"),
        ("run", "prod", "no: a production run replaces outputs in place"),
    ]
    assert all(e["disk_bytes"] > 0 for e in log[:2]) and log[2]["disk_bytes"] == 0

    res = seeknal_cmd(root, "rollback", first["id"], "--force")
    assert res.exit_code == 0, res.output
    assert f"Undoing 2 promotions, newest first: {second['id']} (env 'qa'), {first['id']}" in (
        res.stdout
    )
    assert production(root) == before
    assert history_lines(root)[-1]["undoes"] == [second["id"], first["id"]]
    log = cli(root, "log", "--json").json()
    assert [(e["kind"], e["rollback"]) for e in log] == [
        ("rollback", "no: a rollback is not undone (promote the env again)"),
        ("promote", f"no: rolled back by {log[0]['id']}"),
        ("promote", f"no: rolled back by {log[0]['id']}"),
        ("run", "no: a production run replaces outputs in place"),
    ]
    assert cli(root, "rollback").exit_code == 1


def test_rollback_of_the_last_promotion_only(template: Path) -> None:
    root = template
    assert cli(root, "promote", "dev").exit_code == 0
    after_dev = production(root)
    promote_second(root)
    res = cli(root, "rollback")
    assert res.exit_code == 0, res.output
    assert production(root) == after_dev
    assert cli(root, "env", "list", "--json").json()  # still readable
    statuses = {e["name"]: e["status"] for e in cli(root, "env", "list", "--json").json()}
    assert statuses["qa"] == "applied" and statuses["dev"] == "promoted"


def test_a_production_run_since_blocks_rollback(template: Path) -> None:
    root = template
    assert cli(root, "promote", "dev").exit_code == 0
    edit(root, ADULTS, "WHERE age >= 30", "WHERE age >= 40")
    res = cli(root, "run")
    assert res.exit_code == 0, res.output
    [promotion] = promotions(root)
    run = history_lines(root)[-1]
    assert run["kind"] == "run" and "transform.adults" in run["nodes"]
    after_run = production(root)
    res = cli(root, "rollback", "--force")
    assert res.exit_code == 1
    assert (
        f"Production changed after promotion {promotion['id']}: production run {run['id']} "
        "changed outputs since" in res.stderr
    )
    assert production(root) == after_run
    log = cli(root, "log", "--json").json()
    assert log[0]["kind"] == "run" and log[0]["env"] == "prod"
    assert log[1]["rollback"] == f"no: production run {run['id']} changed outputs since"


def test_log_text_and_empty(template: Path) -> None:
    root = template
    [run] = cli(root, "log", "--json").json()  # the first production run
    assert run["kind"] == "run" and run["git_commit"] is None
    assert "transform.adults" in run["nodes"] and "transform.names" in run["nodes"]
    assert cli(root, "promote", "dev").exit_code == 0
    [line] = promotions(root)
    res = cli(root, "log")
    assert res.exit_code == 0, res.output
    assert f"{line['id']}  {line['time']}  promote dev" in res.stdout
    assert f"plan {line['plan_id']}" in res.stdout
    assert "rollback: yes; keeps " in res.stdout
    entry, _ = cli(root, "log", "--json").json()
    assert entry["id"] == line["id"] and entry["plan_id"] == line["plan_id"]
    assert entry["can_roll_back"] is True and entry["git_commit"] is None
    assert sorted(entry["nodes"]) == sorted(line["nodes"])
    assert entry["removed_nodes"] == ["transform.names"]


def test_rollback_with_nothing_to_roll_back(template: Path) -> None:
    res = cli(template, "rollback")
    assert res.exit_code == 1 and "There is no promotion to roll back." in res.stderr
    assert cli(template, "promote", "dev").exit_code == 0
    res = cli(template, "rollback", "nope")
    assert res.exit_code == 1 and "Promotion 'nope' is not in production's history." in res.stderr


def promoted_template(template: Path) -> Path:
    res = cli(template, "promote", "dev")
    assert res.exit_code == 0, res.output
    return template


def test_rollback_killed_at_every_step(template: Path, tmp_path: Path) -> None:
    """A rollback killed at any step leaves production exactly as the promotion left it or
    exactly as before the promotion; the next command finishes or undoes it by itself."""
    before = production(template)
    env_before = env_files(template, "dev")
    promoted_template(template)
    promoted = production(template)
    outcomes: dict[int, str] = {}
    for n in range(1, 80):
        work = tmp_path / f"kill-{n}"
        shutil.copytree(template, work)
        res = seeknal_cmd(work, "rollback", env={"SEEKNAL_FAILPOINT": f"rollback:{n}"})
        if res.exit_code == 0:
            assert production(work) == before  # no step n: the rollback ran to the end
            break
        assert res.exit_code == KILLED, (n, res.output)
        recovered = cli(work, "env", "list")
        assert recovered.exit_code == 0, recovered.output
        assert temp_leftovers(work) == []
        if production(work) == promoted:
            outcomes[n] = "promoted"
            # killed before its journal existed, nothing changed and there is nothing to say
            said = recovered.stderr
            assert said == "" or "rolled back the interrupted rollback of 'dev'" in said, said
            res = cli(work, "rollback")  # the history is intact: rolling back works
            assert res.exit_code == 0, (n, res.output)
        else:
            outcomes[n] = "rolled back"
            assert "completed the interrupted rollback of 'dev': production is rolled back" in (
                recovered.stderr
            )
        assert production(work) == before, n
        assert env_files(work, "dev") == env_before, n
        assert history_lines(work)[-1]["kind"] == "rollback"
        assert "promoted_plan_id" not in env_json(work, "dev", "env_config.json")
        shutil.rmtree(work)
    else:
        pytest.fail("the rollback never ran to the end")
    assert set(outcomes.values()) == {"promoted", "rolled back"}, outcomes
    first = min(k for k, v in outcomes.items() if v == "rolled back")
    assert all(v == "promoted" for k, v in outcomes.items() if k < first), outcomes
    assert all(v == "rolled back" for k, v in outcomes.items() if k > first), outcomes
    assert len(outcomes) >= 10, outcomes


@pytest.mark.parametrize(
    ("step", "rolled_back"),
    [("rollback.journal", False), ("rollback.apply.3", False), ("rollback.committed", True)],
)
def test_rollback_paused_then_killed(template: Path, step: str, rolled_back: bool) -> None:
    before = production(template)
    promoted_template(template)
    promoted = production(template)
    proc = start_paused(template, step, "rollback")
    try:
        assert (template / "target/.txn/journal.json").is_file()
        # another mutating command waits for the lock the rollback holds
        res = seeknal_cmd(template, "promote", "dev", env={"SEEKNAL_LOCK_TIMEOUT": "1"})
        assert res.exit_code == 1 and "seeknal rollback" in res.stderr
    finally:
        kill(proc)
    res = seeknal_cmd(template, "log")
    assert res.exit_code == 0 and "recovered" in res.stderr
    assert production(template) == (before if rolled_back else promoted)


def set_history(root: Path, text: str) -> None:
    with (root / "seeknal_project.yml").open("a") as handle:
        handle.write(f"history:\n{text}")


def test_history_keeps_the_last_n_promotions(template: Path) -> None:
    root = template
    set_history(root, "  keep: 1\n")
    assert cli(root, "plan", "dev").exit_code == 0  # the project file changed: plan again
    assert cli(root, "run", "--env", "dev").exit_code == 0
    assert cli(root, "promote", "dev").exit_code == 0
    promote_second(root)
    first, second = promotions(root)
    assert not (root / "target/history" / first["id"]).exists()
    assert (root / "target/history" / second["id"] / "entry.json").is_file()
    log = cli(root, "log", "--json").json()
    assert [(e["env"], e["rollback"], e["disk_bytes"] > 0) for e in log[:2]] == [
        ("qa", "yes", True),
        ("dev", "no: its replaced outputs were pruned", False),
    ]
    res = cli(root, "rollback", first["id"], "--force")
    assert res.exit_code == 1
    assert f"Promotion {first['id']} (env 'dev') can no longer be rolled back" in res.stderr


def test_history_older_than_days_is_pruned_by_clean_and_gc(template: Path) -> None:
    root = template
    set_history(root, "  days: 0.00002\n")  # under two seconds
    assert cli(root, "plan", "dev").exit_code == 0
    assert cli(root, "run", "--env", "dev").exit_code == 0
    assert cli(root, "promote", "dev").exit_code == 0
    [line] = promotions(root)
    folder = root / "target/history" / line["id"]
    assert folder.is_dir()
    time.sleep(2.5)
    res = cli(root, "clean", "--dry-run")
    assert res.exit_code == 0, res.output
    assert f"target/history/{line['id']}" in res.stdout
    assert "history beyond 'history:' in seeknal_project.yml" in res.stdout
    assert folder.is_dir()
    res = cli(root, "env", "gc")
    assert res.exit_code == 0, res.output
    assert not folder.exists()
    [entry, _] = cli(root, "log", "--json").json()
    assert entry["rollback"] == "no: its replaced outputs were pruned"


def test_clean_removes_history_a_production_run_made_useless(template: Path) -> None:
    root = template
    assert cli(root, "promote", "dev").exit_code == 0
    [line] = promotions(root)
    edit(root, ADULTS, "WHERE age >= 30", "WHERE age >= 40")
    assert cli(root, "run").exit_code == 0
    res = cli(root, "clean", "--yes")
    assert res.exit_code == 0, res.output
    assert f"target/history/{line['id']}" in res.stdout
    assert "history that cannot be used (production run" in res.stdout
    assert not (root / "target/history" / line["id"]).exists()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("[1]", "'history' must be a mapping"),
        ("{keep: -1}", "history.keep must be a whole number of promotions, 0 or more, not -1"),
        ("{days: soon}", "history.days must be a number of days, 0 or more, not 'soon'"),
        ("{forever: true}", "history.forever is not a setting (use keep and days)"),
    ],
)
def test_history_setting_is_validated(template: Path, value: str, message: str) -> None:
    with (template / "seeknal_project.yml").open("a") as handle:
        handle.write(f"history: {value}\n")
    res = cli(template, "plan")
    assert res.exit_code == 1
    assert message in res.output
    assert "seeknal_project.yml" in res.output


def test_rollback_after_the_env_was_deleted(template: Path) -> None:
    root = template
    before = production(root)
    assert cli(root, "promote", "dev").exit_code == 0
    assert cli(root, "env", "delete", "dev", "--yes").exit_code == 0
    res = cli(root, "rollback")
    assert res.exit_code == 0, res.output
    assert production(root) == before
    assert (
        "Env 'dev' cannot be promoted again as it was: it no longer exists, so the promoted "
        "outputs were dropped." in res.stdout
    )
    assert not env_dir(root, "dev").exists()
    assert temp_leftovers(root) == []


def test_rollback_after_the_env_was_planned_again(template: Path) -> None:
    root = template
    before = production(root)
    assert cli(root, "promote", "dev").exit_code == 0
    edit(root, ADULTS, "WHERE age >= 30", "WHERE age >= 40")
    assert cli(root, "plan", "dev").exit_code == 0
    res = cli(root, "rollback")
    assert res.exit_code == 0, res.output
    assert production(root) == before
    assert "it was planned again since" in res.stdout
    assert "plan and run it again ('seeknal plan dev', 'seeknal run --env dev')" in res.stdout
    for command in (("plan", "dev"), ("run", "--env", "dev")):
        assert cli(root, *command).exit_code == 0
    assert cli(root, "promote", "dev").exit_code == 0


def test_log_of_a_project_never_run(tmp_path: Path) -> None:
    root = env_project(tmp_path / "fresh")
    res = cli(root, "log")
    assert res.exit_code == 0, res.output
    assert "Production has no history yet" in res.stdout
    assert cli(root, "log", "--json").json() == []


def first_signature(run_state: Path) -> str:
    """The history entry's signature as seeknal wrote it before its second version: the SHA-256
    of the JSON of the sorted (id, fingerprint, path, digest) rows."""
    import hashlib
    import json

    nodes = json.loads(run_state.read_text())["nodes"]
    rows = sorted(
        (k, str(v.get("hash")), str(v.get("output_path")), str(v.get("output_digest")))
        for k, v in nodes.items()
    )
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()


def test_history_written_with_the_first_signature_still_rolls_back(template: Path) -> None:
    """Promotions kept by an earlier seeknal hold the first signature: rollback (and the report
    of what a rollback would do) compares production with them in that version."""
    import json

    root = template
    before = production(root)
    state = root / "target/run_state.json"
    assert cli(root, "promote", "dev").exit_code == 0
    after_dev = production(root)
    dev_id = promotions(root)[-1]["id"]
    dev_after = first_signature(state)
    promote_second(root)
    qa_id = promotions(root)[-1]["id"]
    for promotion_id, after in ((dev_id, dev_after), (qa_id, first_signature(state))):
        entry = root / "target/history" / promotion_id / "entry.json"
        data = json.loads(entry.read_text())
        assert data["after"].startswith("3:") and data["after"] != after
        entry.write_text(json.dumps({**data, "after": after}))
    res = seeknal_cmd(root, "rollback")
    assert res.exit_code == 0, res.output
    assert f"Rolled back promotion {qa_id}" in res.stdout
    assert production(root) == after_dev
    res = seeknal_cmd(root, "rollback")
    assert res.exit_code == 0, res.output
    assert production(root) == before
