"""What a new user ran into when a command picked the env for them: `ls` and `show` on a fresh
branch whose env is not planned yet, `diff` on the production branch, and `promote` after a
selected env run. Each drives the CLI in a real git repository."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import cli, seeknal_cmd
from envkit import production_digests
from gitkit import ignore_target, install_hooks, run_git

ADULTS = "seeknal/transforms/adults.yml"
ACTIVITY = "seeknal/transforms/customer_activity.yml"
FRESH_NOTE = (
    "note: env feature-fresh (branch feature/fresh) is not planned yet, so it holds "
    "production's data and shows production's statuses; 'seeknal plan' creates it."
)


@pytest.fixture
def small(small: Path) -> Path:
    return ignore_target(small)


def _edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


@pytest.mark.parametrize("hooks", [False, True])
def test_ls_and_show_on_a_branch_whose_env_is_not_planned_show_production(
    small: Path, hooks: bool
) -> None:
    assert cli(small, "run").exit_code == 0
    if hooks:
        install_hooks(small)
    run_git(small, "checkout", "-q", "-b", "feature/fresh")

    res = cli(small, "ls", "--json")
    assert res.exit_code == 0, res.output
    assert {r["id"]: r["status"] for r in res.json()} == {
        "source.people": "success",
        "transform.adults": "success",
        "transform.city_counts": "success",
        "transform.names": "success",
    }
    assert res.stderr.splitlines() == [FRESH_NOTE], res.stderr
    text = cli(small, "ls")
    assert text.exit_code == 0
    assert text.stdout.splitlines()[-1] == "4 node(s); status in production."

    res = cli(small, "show", "transform.adults")
    assert res.exit_code == 0, res.output
    assert "Last run (production: success)" in res.stdout
    assert res.stderr.splitlines() == [FRESH_NOTE], res.stderr
    assert not (small / "target/environments/feature-fresh").exists()

    # an env named with --env that does not exist stays an error
    for args in (("ls", "--env", "feature-fresh"), ("show", "adults", "-e", "feature-fresh")):
        res = cli(small, *args)
        assert res.exit_code == 1
        assert "Error: Environment 'feature-fresh' not found." in res.stderr
        assert "Next: Run 'seeknal plan feature-fresh' to create it." in res.stderr

    # once planned, the branch's env is read as before
    _edit(small, ADULTS, "age >= 18", "age >= 30")
    assert cli(small, "plan").exit_code == 0
    res = cli(small, "ls", "--json")
    assert res.exit_code == 0, res.output
    assert {r["id"]: r["status"] for r in res.json()}["transform.adults"] == "planned"
    assert "not planned yet" not in res.stderr
    assert res.stderr.startswith("reading env feature-fresh (")


def test_diff_with_production_active_compares_the_only_applied_env(small: Path) -> None:
    assert cli(small, "run").exit_code == 0
    _edit(small, ADULTS, "age >= 18", "age >= 30")
    assert cli(small, "plan", "dev").exit_code == 0
    assert cli(small, "run", "--env", "dev").exit_code == 0
    assert cli(small, "plan", "qa").exit_code == 0  # planned, not applied: not a candidate

    res = seeknal_cmd(small, "diff")
    assert res.exit_code == 0, res.output
    assert res.stderr.splitlines()[0] == "(env dev: the only applied env)", res.stderr
    assert res.stdout.startswith("Diff of env 'dev' against production")
    assert "transform.adults" in res.stdout
    res = cli(small, "diff", "--json")
    assert res.exit_code == 0, res.output
    assert res.json()["env"] == "dev"

    assert cli(small, "run", "--env", "qa").exit_code == 0  # two applied envs: name one
    res = cli(small, "diff")
    assert res.exit_code == 1 and res.stdout == ""
    assert "Error: No environment to diff: the active env is production" in res.stderr
    assert (
        "Next: Name one: seeknal diff qa (the env used last; 'seeknal env list' lists all 2)"
        in res.stderr
    ), res.stderr


def test_promote_after_a_selected_env_run_names_the_pending_nodes(example: Path) -> None:
    assert cli(example, "run").exit_code == 0
    _edit(
        example,
        ACTIVITY,
        "count(*)                                            AS events",
        "count(*) + 0 AS events",
    )
    assert cli(example, "plan", "dev").exit_code == 0
    res = cli(example, "run", "dev", "-s", "transform.customer_activity")
    assert res.exit_code == 0, res.output
    before = production_digests(example)

    res = cli(example, "promote", "dev")
    assert res.exit_code == 1
    assert "did not succeed" not in res.stderr
    assert (
        "Error: Environment 'dev' has planned nodes still pending (a selected run left them "
        "out): exposure.customer_ltv_export, transform.customer_lifetime_value."
    ) in res.stderr, res.stderr
    assert (
        "Next: Run the rest of its plan with 'seeknal run --env dev' (what already ran is "
        "reused), then 'seeknal promote dev'."
    ) in res.stderr
    assert production_digests(example) == before

    assert cli(example, "run", "--env", "dev").exit_code == 0
    res = cli(example, "promote", "dev")
    assert res.exit_code == 0, res.output


def test_a_hint_names_the_branchs_env_else_the_env_used_last(
    small: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """promote, diff and report with production active name an env to give: not the first by
    name, but the env of the checked-out branch, else the one used last."""
    assert cli(small, "run").exit_code == 0
    _edit(small, ADULTS, "age >= 18", "age >= 30")
    assert cli(small, "plan", "aaa").exit_code == 0
    assert cli(small, "plan", "mmm").exit_code == 0

    def hint(verb: str) -> str:
        res = cli(small, verb)
        assert res.exit_code == 1 and res.stdout == "", res.output
        assert f"Error: No environment to {verb}: the active env is production" in res.stderr
        return res.stderr.splitlines()[-1]

    for verb in ("promote", "diff", "report"):
        assert hint(verb) == (
            f"Next: Name one: seeknal {verb} mmm (the env used last; 'seeknal env list' lists "
            "all 2)"
        )
    assert cli(small, "run", "--env", "aaa").exit_code == 0  # aaa is used last now
    assert hint("report") == (
        "Next: Name one: seeknal report aaa (the env used last; 'seeknal env list' lists all 2)"
    )
    run_git(small, "checkout", "-q", "-b", "feature/b")
    assert cli(small, "plan").exit_code == 0  # the branch's env, bound to it
    assert cli(small, "run", "--env", "mmm").exit_code == 0
    monkeypatch.setenv("SEEKNAL_ENV", "prod")
    assert hint("promote") == (
        "Next: Name one: seeknal promote feature-b (the env of branch feature/b; 'seeknal env "
        "list' lists all 3)"
    )
