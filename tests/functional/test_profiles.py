"""Profiles (docs/concepts.md, Profiles): which file an env uses, recorded in its plan, and the
connections and catalogs nodes name checked against it, without a password in any output."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import cli, write_tree
from envkit import env_json
from pgkit import PASSWORD as PG_PASSWORD
from pgkit import USER, PgDb

PASSWORD = "Wh-s3cret-pw"
PG_SOURCE = """\
kind: source
name: orders
source: postgresql
connection: {connection}
table: public.orders
"""


def profile(connection: str = "wh", password: str = PASSWORD) -> str:
    return (
        f"connections:\n  {connection}:\n    type: postgresql\n    host: 127.0.0.1\n"
        f"    user: analyst\n    password: {password}\n    database: shop\n"
    )


def recorded(root: Path, env: str = "dev") -> str | None:
    return env_json(root, env, "plan.json")["profile_path"]


def plan_ok(root: Path, *args: str) -> str:
    res = cli(root, "plan", "dev", *args)
    assert res.exit_code == 0, res.output
    return res.output


def test_the_chain_picks_the_most_specific_profile(small: Path, tmp_path: Path) -> None:
    home = tmp_path / ".seeknal"  # HOME is tmp_path in every test
    plan_ok(small)
    assert recorded(small) is None
    steps = [
        home / "profiles.yml",
        small / "profiles.yml",
        home / "profiles-dev.yml",
        small / "profiles-dev.yml",
    ]
    for path in steps:
        write_tree(path.parent, {path.name: profile()})
        plan_ok(small)
        assert recorded(small) == str(path)
    # another env's file is not this env's
    write_tree(small, {"profiles-staging.yml": profile()})
    plan_ok(small)
    assert recorded(small) == str(small / "profiles-dev.yml")
    explicit = tmp_path / "elsewhere.yml"
    explicit.write_text(profile())
    plan_ok(small, "--profile", str(explicit))
    assert recorded(small) == str(explicit.resolve())


def test_a_missing_profile_file_is_refused(small: Path) -> None:
    res = cli(small, "plan", "dev", "--profile", "nope.yml")
    assert res.exit_code == 1
    assert "nope.yml does not exist" in res.output


def test_a_yaml_error_in_a_profile_names_its_line(small: Path) -> None:
    """As in a node file: file:line: invalid YAML: what the parser found; nothing written."""
    write_tree(small, {"profiles.yml": "connections:\n  wh:\n\ttype: postgresql\n"})
    res = cli(small, "run")
    assert res.exit_code == 1
    assert res.stderr.splitlines() == [
        f"Error: Profile file {small / 'profiles.yml'}:3: invalid YAML: found character that "
        "cannot start any token",
        f"Next: Fix the YAML at line 3 of {small / 'profiles.yml'}.",
    ]
    assert not (small / "target").exists()
    write_tree(small, {"profiles-dev.yml": profile() + "    options: {sslmode: require\n"})
    res = cli(small, "plan", "dev")
    assert res.exit_code == 1
    assert (
        f"Error: Profile file {small / 'profiles-dev.yml'}:8: invalid YAML: did not find "
        "expected ',' or '}'" in res.stderr
    ), res.stderr
    assert not (small / "target").exists()


def test_a_source_naming_an_unknown_connection_fails_the_plan(small: Path) -> None:
    write_tree(
        small,
        {
            "profiles.yml": profile("other"),
            "seeknal/sources/orders.yml": PG_SOURCE.format(connection="wh"),
        },
    )
    res = cli(small, "plan", "dev")
    assert res.exit_code == 1, res.output
    assert "source.orders: connection 'wh' is not defined in" in res.output
    assert str(small / "profiles.yml") in res.output
    assert "connections defined: other" in res.output
    assert PASSWORD not in res.output
    assert not (small / "target" / "environments" / "dev" / "plan.json").exists()


def test_variables_are_interpolated_and_a_missing_one_is_named(
    small: Path, monkeypatch: pytest.MonkeyPatch, pg: PgDb
) -> None:
    pg.execute("CREATE TABLE public.orders (id int)")
    monkeypatch.delenv("WH_PASSWORD", raising=False)
    monkeypatch.delenv("WH_USER", raising=False)
    write_tree(
        small,
        {
            "profiles.yml": pg.profile(password="${WH_PASSWORD}").replace(
                f"user: {USER}", f"user: ${{WH_USER:{USER}}}"
            ),
            "seeknal/sources/orders.yml": PG_SOURCE.format(connection="wh"),
        },
    )
    res = cli(small, "plan", "dev")
    assert res.exit_code == 1, res.output
    assert "uses ${WH_PASSWORD}, which is not set" in res.output
    assert "Set the environment variable WH_PASSWORD" in res.output
    monkeypatch.setenv("WH_PASSWORD", PG_PASSWORD)
    out = plan_ok(small)
    assert PG_PASSWORD not in out
    plan = (small / "target" / "environments" / "dev" / "plan.json").read_text()
    assert PG_PASSWORD not in plan


def test_project_file_connections_and_source_defaults(small: Path, pg: PgDb) -> None:
    pg.execute("CREATE TABLE public.orders (id int)")
    settings = (small / "seeknal_project.yml").read_text()
    write_tree(
        small,
        {
            "seeknal/sources/orders.yml": "kind: source\nname: orders\nsource: postgresql\n"
            "table: public.orders\n",
        },
    )
    res = cli(small, "plan", "dev")
    assert res.exit_code == 1
    assert "source.orders: a postgresql source needs 'connection: NAME'" in res.output
    write_tree(
        small,
        {
            "seeknal_project.yml": settings
            + pg.profile()
            + "source_defaults:\n  postgresql:\n    connection: wh\n"
        },
    )
    plan_ok(small)
    assert recorded(small) is None


def test_run_env_uses_the_profile_its_plan_recorded(small: Path, tmp_path: Path, pg: PgDb) -> None:
    pg.execute("CREATE TABLE public.orders (id int)")
    write_tree(
        small,
        {
            "profiles-dev.yml": pg.profile(),
            "seeknal/sources/orders.yml": PG_SOURCE.format(connection="wh"),
        },
    )
    plan_ok(small)
    # a profile the chain would pick now is not the one the plan recorded
    write_tree(small, {"profiles.yml": profile("other")})
    other = tmp_path / "other.yml"
    other.write_text(pg.profile())
    res = cli(small, "run", "--env", "dev", "--profile", str(other))
    assert res.exit_code == 1
    assert f"Env 'dev' was planned with {small / 'profiles-dev.yml'}" in res.output
    assert f"seeknal plan dev --profile {other}" in res.output
    (small / "profiles-dev.yml").unlink()
    res = cli(small, "run", "--env", "dev")
    assert res.exit_code == 1
    assert f"Profile file {small / 'profiles-dev.yml'} does not exist" in res.output


def test_production_run_checks_its_profile(small: Path, tmp_path: Path) -> None:
    write_tree(small, {"seeknal/sources/orders.yml": PG_SOURCE.format(connection="wh")})
    res = cli(small, "run")
    assert res.exit_code == 1
    assert "source.orders: connection 'wh' is not defined in seeknal_project.yml" in res.output
    other = tmp_path / "other.yml"
    other.write_text(profile("elsewhere"))
    res = cli(small, "run", "--profile", str(other))
    assert res.exit_code == 1
    assert f"connection 'wh' is not defined in {other.resolve()}" in res.output
    assert not (small / "target" / "run_state.json").exists()
