"""Managing environments (docs/concepts.md): env list (text and JSON), delete with confirmation,
TTL expiry and gc, timestamps compared as UTC whatever their spelling."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Result, _check_clean, cli, git, working_dir
from envkit import ADULTS, NAMES, edit, env_dir, env_json, env_project, production_digests

from seeknal.envs.names import expires_at, is_expired, parse_utc

UTC = dt.UTC


def cli_input(root: Path, text: str, *args: str) -> Result:
    """Like conftest.cli, with `text` typed on stdin (for confirmation prompts)."""
    from typer.testing import CliRunner

    from seeknal.cli.main import get_app

    with working_dir(root):
        res = CliRunner().invoke(get_app(), list(args), input=text)
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        raise res.exception
    return _check_clean(Result(res.exit_code, res.stdout, res.stderr))


@pytest.fixture
def proj(git_project: Path) -> Path:
    env_project(git_project)
    settings = git_project / "seeknal_project.yml"
    settings.write_text(settings.read_text() + "environments:\n  ttl_seconds: 60\n")
    git(git_project, "add", "-A")
    git(git_project, "commit", "-q", "-m", "env project")
    assert cli(git_project, "run").exit_code == 0
    return git_project


@pytest.fixture
def far_from_utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A local time zone 10 hours behind UTC, so local/UTC mix-ups show."""
    monkeypatch.setenv("TZ", "Etc/GMT+10")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def set_last_accessed(root: Path, env: str, value: str) -> None:
    path = env_dir(root, env) / "env_config.json"
    config = json.loads(path.read_text())
    config["last_accessed"] = value
    path.write_text(json.dumps(config))


def listed(root: Path) -> dict[str, dict]:
    res = cli(root, "env", "list", "--json")
    assert res.exit_code == 0, res.output
    return {r["name"]: r for r in res.json()}


def dir_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def ago(**delta: float) -> dt.datetime:
    return dt.datetime.now(UTC) - dt.timedelta(**delta)


# --------------------------------------------------------------------------------------------
# list


def test_env_list_statuses_and_fields(proj: Path) -> None:
    res = cli(proj, "env", "list")
    assert res.exit_code == 0
    assert "No environments. Create one with: seeknal plan dev" in res.stdout
    assert cli(proj, "env", "list", "--json").json() == []

    edit(proj, ADULTS, "age >= 18", "age >= 30")
    assert cli(proj, "plan", "planned").exit_code == 0
    assert cli(proj, "plan", "applied").exit_code == 0
    assert cli(proj, "run", "--env", "applied").exit_code == 0
    assert cli(proj, "plan", "done").exit_code == 0
    assert cli(proj, "run", "--env", "done").exit_code == 0
    envs = listed(proj)
    assert {n: r["status"] for n, r in envs.items()} == {
        "applied": "applied",
        "done": "applied",
        "planned": "planned",
    }
    assert cli(proj, "promote", "done").exit_code == 0
    envs = listed(proj)
    # production moved on: the other plans are stale
    assert {n: r["status"] for n, r in envs.items()} == {
        "applied": "stale",
        "done": "promoted",
        "planned": "stale",
    }
    row = envs["planned"]
    config = env_json(proj, "planned", "env_config.json")
    assert row["created_at"] == config["created_at"]
    assert row["last_accessed"] == config["last_accessed"]
    assert row["created_at"].endswith("Z")
    assert row["branch"] is None and row["promoted_from"] is None
    assert row["expired"] is False
    # TTL from seeknal_project.yml: expires 60 s after last access
    assert config["ttl_seconds"] == 60
    assert parse_utc(row["expires_at"]) == parse_utc(row["last_accessed"]).replace(
        microsecond=0
    ) + dt.timedelta(seconds=60)
    assert row["disk_bytes"] == dir_bytes(env_dir(proj, "planned")) > 0
    assert envs["applied"]["disk_bytes"] == dir_bytes(env_dir(proj, "applied"))
    assert envs["applied"]["disk_bytes"] > row["disk_bytes"]  # it holds outputs

    text = cli(proj, "env", "list").stdout
    header, *lines = text.strip().splitlines()
    for column in ("NAME", "STATUS", "BRANCH", "CREATED", "LAST USED", "EXPIRES", "SIZE"):
        assert column in header
    assert [line.split()[0] for line in lines] == ["applied", "done", "planned"]
    assert lines[1].split()[1] == "promoted"
    assert "KB" in lines[0]


def test_a_failed_env_is_listed_in_lower_case_like_every_status(proj: Path) -> None:
    edit(proj, ADULTS, "age >= 18", "no_such_column >= 18")
    assert cli(proj, "plan", "broken").exit_code == 0
    assert cli(proj, "run", "--env", "broken").exit_code == 1
    edit(proj, ADULTS, "no_such_column >= 18", "age >= 30")
    assert cli(proj, "plan", "fine").exit_code == 0
    header, *lines = cli(proj, "env", "list").stdout.strip().splitlines()
    assert {line.split()[0]: line.split()[1] for line in lines} == {
        "broken": "failed",
        "fine": "planned",
    }
    assert {n: r["status"] for n, r in listed(proj).items()} == {
        "broken": "failed",
        "fine": "planned",
    }


def test_env_list_is_read_only(proj: Path) -> None:
    edit(proj, NAMES, "upper(name)", "lower(name)")
    assert cli(proj, "plan", "dev").exit_code == 0
    before = {p: p.read_bytes() for p in (proj / "target").rglob("*") if p.is_file()}
    assert cli(proj, "env", "list").exit_code == 0
    assert cli(proj, "env", "list", "--json").exit_code == 0
    after = {p: p.read_bytes() for p in (proj / "target").rglob("*") if p.is_file()}
    assert after == before


# --------------------------------------------------------------------------------------------
# delete


def test_env_delete_asks_first(proj: Path) -> None:
    edit(proj, ADULTS, "age >= 18", "age >= 30")
    assert cli(proj, "plan", "dev").exit_code == 0
    assert cli(proj, "run", "--env", "dev").exit_code == 0
    prod = production_digests(proj)

    res = cli_input(proj, "n\n", "env", "delete", "dev")
    assert res.exit_code == 1
    assert "Delete environment 'dev'" in res.stdout and "Nothing deleted." in res.stdout
    assert (env_dir(proj, "dev") / "plan.json").is_file()

    res = cli_input(proj, "y\n", "env", "delete", "dev")
    assert res.exit_code == 0, res.output
    assert "Deleted environment 'dev'" in res.stdout
    assert not env_dir(proj, "dev").exists()
    assert production_digests(proj) == prod

    assert cli(proj, "plan", "dev").exit_code == 0
    res = cli(proj, "env", "delete", "dev", "--yes")
    assert res.exit_code == 0 and not env_dir(proj, "dev").exists()
    assert list((proj / "target/environments").iterdir()) == []
    assert production_digests(proj) == prod


def test_env_delete_of_a_missing_env(proj: Path) -> None:
    res = cli(proj, "env", "delete", "ghost", "--yes")
    assert res.exit_code == 1
    assert "Environment 'ghost' not found" in res.stderr and "seeknal env list" in res.stderr


# --------------------------------------------------------------------------------------------
# expiry and gc


def test_gc_deletes_only_expired_envs(proj: Path) -> None:
    for env in ("old", "fresh"):
        assert cli(proj, "plan", env).exit_code == 0
    ten_days = ago(days=10).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    set_last_accessed(proj, "old", ten_days)
    envs = listed(proj)
    assert envs["old"]["expired"] is True and envs["fresh"]["expired"] is False
    assert "EXPIRED" in cli(proj, "env", "list").stdout

    res = cli(proj, "env", "gc", "--dry-run")
    assert res.exit_code == 0, res.output
    assert "Would delete old: expired" in res.stdout and "fresh" not in res.stdout
    assert env_dir(proj, "old").is_dir()

    res = cli(proj, "env", "gc")
    assert res.exit_code == 0, res.output
    assert "Deleted old" in res.stdout and "fresh" not in res.stdout
    assert not env_dir(proj, "old").exists()
    assert env_dir(proj, "fresh").is_dir()
    assert cli(proj, "env", "gc").stdout.strip() == "Nothing to collect."


def test_using_an_env_renews_its_lease(proj: Path) -> None:
    edit(proj, ADULTS, "age >= 18", "age >= 30")
    assert cli(proj, "plan", "dev").exit_code == 0
    set_last_accessed(proj, "dev", ago(days=10).strftime("%Y-%m-%dT%H:%M:%SZ"))
    assert listed(proj)["dev"]["expired"] is True
    assert cli(proj, "run", "--env", "dev").exit_code == 0
    assert listed(proj)["dev"]["expired"] is False
    assert parse_utc(env_json(proj, "dev", "env_config.json")["last_accessed"]) > ago(minutes=1)


@pytest.mark.parametrize(
    "spelling",
    ["z", "offset", "naive", "other-offset"],
)
def test_timestamps_are_compared_as_utc(proj: Path, far_from_utc: None, spelling: str) -> None:
    assert cli(proj, "plan", "recent").exit_code == 0
    assert cli(proj, "plan", "stale").exit_code == 0

    def spell(moment: dt.datetime) -> str:
        if spelling == "z":
            return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        if spelling == "offset":
            return moment.isoformat()  # ...+00:00
        if spelling == "naive":
            return moment.replace(tzinfo=None).isoformat()
        return moment.astimezone(dt.timezone(dt.timedelta(hours=5))).isoformat()

    # 20 s ago is inside the 60 s TTL, 120 s ago is past it; a local/UTC mix-up is 10 hours
    set_last_accessed(proj, "recent", spell(ago(seconds=20)))
    set_last_accessed(proj, "stale", spell(ago(seconds=120)))
    envs = listed(proj)
    assert envs["recent"]["expired"] is False, envs["recent"]
    assert envs["stale"]["expired"] is True, envs["stale"]
    expiry = parse_utc(envs["recent"]["expires_at"])
    assert abs((expiry - (ago(seconds=20) + dt.timedelta(seconds=60))).total_seconds()) < 5
    res = cli(proj, "env", "gc")
    assert res.exit_code == 0 and "Deleted stale" in res.stdout
    assert set(listed(proj)) == {"recent"}


def test_utc_rules() -> None:
    now = dt.datetime(2026, 2, 9, 12, 0, tzinfo=UTC)
    for text in (
        "2026-02-09T10:00:00",
        "2026-02-09T10:00:00Z",
        "2026-02-09T10:00:00+00:00",
        "2026-02-09T12:00:00+02:00",
        "2026-02-09T10:00:00.123456Z",
    ):
        parsed = parse_utc(text)
        assert parsed is not None and parsed.utcoffset() == dt.timedelta(0), text
        assert parsed.replace(microsecond=0) == dt.datetime(2026, 2, 9, 10, 0, tzinfo=UTC), text
        assert not is_expired(text, 7201, now)
        assert is_expired(text, 7199, now)
    assert expires_at("2026-02-09T10:00:00Z", 60) == dt.datetime(2026, 2, 9, 10, 1, tzinfo=UTC)
    assert parse_utc("yesterday") is None and parse_utc(None) is None
    assert not is_expired(None, 1, now)
